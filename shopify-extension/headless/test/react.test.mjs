// KindredShelf rendered on the server (react-dom/server): the skeleton holds the shelf's
// place, an answer fetched in a loader renders as cards, and rendering touches no browser API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { KindredShelf, formatPrice, normalisePlacement, shelfEvents } from '../dist/react.js';
import { item } from './mock-server.mjs';

/** A client that records calls: rendering on the server must make none. */
function recordingClient() {
  const calls = [];
  const record = (name) => (...args) => {
    calls.push([name, ...args]);
    return new Promise(() => {});
  };
  return {
    calls,
    recommendations: record('recommendations'),
    similar: record('similar'),
    cart: record('cart'),
    search: record('search'),
    suggest: record('suggest'),
    track: record('track'),
  };
}

const render = (props) => renderToString(createElement(KindredShelf, props));
const count = (html, text) => html.split(text).length - 1;

// Any read of a browser global while rendering fails the test.
const browserGlobals = ['window', 'document', 'localStorage', 'sessionStorage', 'IntersectionObserver', 'navigator'];
const saved = new Map();
before(() => {
  for (const name of browserGlobals) {
    saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
    Object.defineProperty(globalThis, name, {
      configurable: true,
      get() {
        throw new Error(`\`${name}\` was read while rendering on the server`);
      },
    });
  }
});
after(() => {
  for (const name of browserGlobals) {
    const descriptor = saved.get(name);
    if (descriptor) Object.defineProperty(globalThis, name, descriptor);
    else delete globalThis[name];
  }
});

describe('while loading', () => {
  test('a skeleton card per item of the shelf, hidden from assistive technology, and the shelf busy', () => {
    const client = recordingClient();
    for (const limit of [4, 6, 1]) {
      const html = render({ client, strategy: 'similar', productId: '4357742755898', limit, heading: 'You may also like' });
      assert.equal(count(html, 'kindred-shelf__card--skeleton'), limit, `limit ${limit}`);
      assert.equal(count(html, '<li aria-hidden="true"'), limit);
      assert.match(html, /<section[^>]*aria-busy="true"/);
      assert.match(html, /data-kindred-state="loading"/);
      assert.match(html, /<ul role="list" class="kindred-shelf__list"/);
    }
    assert.deepEqual(client.calls, [], 'nothing is fetched or tracked while rendering');
  });

  test('four skeleton cards by default, each as tall as a card: a square image and fixed text lines', () => {
    const html = render({ client: recordingClient(), strategy: 'trending' });
    assert.equal(count(html, 'kindred-shelf__card--skeleton'), 4);
    assert.equal(count(html, 'aspect-ratio:1 / 1'), 4);
    assert.equal(count(html, 'height:2.6em'), 4, 'two lines of title');
    assert.match(html, /aria-label="Recommended products"/);
    assert.match(html, /Loading recommendations/);
  });

  test('unstyled: the same cards without inline styles', () => {
    const html = render({ client: recordingClient(), strategy: 'trending', limit: 3, unstyled: true, className: 'shelf' });
    assert.equal(count(html, 'kindred-shelf__card--skeleton'), 3);
    assert.doesNotMatch(html.replace(/<span style="position:absolute[^"]*">Loading recommendations<\/span>/, ''), /style=/);
    assert.match(html, /class="kindred-shelf shelf"/);
  });
});

describe('with an answer fetched on the server', () => {
  const initial = {
    strategy: 'trending',
    requested_strategy: 'for_you',
    recommendations: [
      item('9007199254740993', { title: 'Cork Yoga Block', price: '24.00', compare_at_price: '30.00', reason: 'trending in this shop' }),
      item('4357742755898', { title: 'Manduka PRO™ Yoga Mat 6mm', image_url: null, reason: 'trending in this shop' }),
      item('3', { title: 'Third' }),
    ],
  };

  test('renders the cards: link, image, title, price and reason, limited to the shelf', () => {
    const client = recordingClient();
    const html = render({ client, strategy: 'for_you', initial, limit: 2, currency: 'EUR', heading: 'Picked for you' });
    assert.equal(count(html, 'class="kindred-shelf__card"'), 2);
    assert.equal(count(html, 'kindred-shelf__card--skeleton'), 0);
    assert.doesNotMatch(html, /Third/);
    assert.match(html, /aria-busy="false"/);
    assert.match(html, /data-kindred-strategy="trending"/);
    assert.match(html, /<section[^>]*aria-labelledby="([^"]+)"[\s\S]*<h2 id="\1"/);
    assert.match(html, /data-product-id="9007199254740993"/);
    assert.match(html, /<a href="\/products\/product-9007199254740993" class="kindred-shelf__link"/);
    assert.match(html, /<h3 class="kindred-shelf__title"[^>]*>Cork Yoga Block<\/h3>/);
    assert.match(html, /<img [^>]*src="https:\/\/cdn\.shopify\.com\/s\/files\/1\/0001\/9007199254740993\.jpg\?width=533"/);
    assert.match(html, /srcSet="[^"]*width=165 165w/);
    assert.match(html, /alt=""/);
    assert.match(html, /Sale price <\/span>€24\.00/);
    assert.match(html, /<s class="kindred-shelf__amount kindred-shelf__amount--compare">.*Regular price <\/span>€30\.00<\/s>/);
    assert.match(html, /<p class="kindred-shelf__reason"[^>]*>trending in this shop<\/p>/);
    assert.equal(count(html, '<img '), 1, 'a product without an image keeps an empty square');
    assert.deepEqual(client.calls, []);
  });

  test('a router link and product paths of the frontend\'s own', () => {
    const html = render({
      client: recordingClient(),
      strategy: 'for_you',
      initial,
      limit: 1,
      productHref: (p) => `/fr/products/${p.handle}`,
      renderLink: ({ href, children, className }) => createElement('a', { 'data-router': 'yes', href, className }, children),
    });
    assert.match(html, /<a data-router="yes" href="\/fr\/products\/product-9007199254740993" class="kindred-shelf__link">/);
  });

  test('nothing to show, or a shopper in the holdout: the `empty` content instead', () => {
    const none = { strategy: 'new_arrivals', requested_strategy: 'for_you', recommendations: [] };
    assert.equal(render({ client: recordingClient(), strategy: 'for_you', initial: none }), '');
    const holdout = { ...initial, recommendations: [], experiment: { id: 'holdout', arm: 'holdout', holdout: true, control: 'shopify' } };
    const html = render({
      client: recordingClient(),
      strategy: 'for_you',
      initial: holdout,
      empty: (response) => createElement('p', null, `control: ${response.experiment.control}`),
    });
    assert.equal(html, '<p>control: shopify</p>');
  });
});

describe('events and formatting', () => {
  test('impressions and clicks have the theme block\'s shape', () => {
    const events = shelfEvents('recommendation_viewed', [{ id: '1' }, { id: '9007199254740993' }], {
      strategy: 'trending',
      placement: 'product',
      clientId: 'browser-1',
    });
    assert.equal(events.length, 2);
    for (const [i, event] of events.entries()) {
      assert.deepEqual(Object.keys(event).sort(), ['client_id', 'id', 'placement', 'product_id', 'strategy', 'type']);
      assert.equal(event.type, 'recommendation_viewed');
      assert.equal(event.client_id, 'browser-1');
      assert.equal(event.strategy, 'trending');
      assert.equal(event.placement, 'product');
      assert.equal(event.product_id, ['1', '9007199254740993'][i]);
      assert.match(event.id, /^[0-9a-f-]{32,36}$/);
    }
    assert.notEqual(events[0].id, events[1].id);
    const [click] = shelfEvents('recommendation_clicked', [{ id: '1' }], { strategy: 'similar', clientId: 'b' });
    assert.equal(click.type, 'recommendation_clicked');
    assert.equal('placement' in click, false, 'no placement, none sent');
  });

  test('placements as the server takes them', () => {
    assert.equal(normalisePlacement('Product page'), 'product_page');
    assert.equal(normalisePlacement('cart'), 'cart');
    assert.equal(normalisePlacement(''), undefined);
    assert.equal(normalisePlacement(undefined), undefined);
    assert.equal(normalisePlacement('x'.repeat(60)).length, 40);
  });

  test('prices: in the shop\'s currency when given, else as sent', () => {
    assert.equal(formatPrice('129.00'), '129.00');
    assert.equal(formatPrice('129.00', 'USD'), '$129.00');
    assert.match(formatPrice('129.5', 'EUR', 'de-DE'), /^129,50\s€$/);
    assert.equal(formatPrice('129.00', 'not a currency'), '129.00 not a currency');
  });
});
