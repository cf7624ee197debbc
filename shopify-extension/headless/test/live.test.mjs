// Against a running Kindred server: KINDRED_URL (e.g. http://127.0.0.1:8080) and KINDRED_KEY
// (a storefront key of a shop holding the yoga-store catalogue); KINDRED_PRODUCT_ID names a
// product of that shop (default: one of the yoga catalogue). Skipped without them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { checkSchema } from '../scripts/check-schema.mjs';
import { createKindredClient, KindredError } from '../dist/client.js';

const { KINDRED_URL, KINDRED_KEY } = process.env;
const PRODUCT = process.env.KINDRED_PRODUCT_ID || '4357742755898';
const skip = KINDRED_URL && KINDRED_KEY ? false : 'set KINDRED_URL and KINDRED_KEY to run against a Kindred server';
/** Each test says it was skipped, and why, when no server is named. */
const live = (name, fn) => test(name, { skip }, fn);

const kindred = () => createKindredClient({ baseUrl: KINDRED_URL, storefrontKey: KINDRED_KEY });

/** A DOM (happy-dom) for the React shelf, with an IntersectionObserver the test drives. */
async function browser() {
  const { Window } = await import('happy-dom');
  const window = new Window({ url: 'https://shop.example.com/products/live' });
  for (const name of ['window', 'document', 'navigator', 'HTMLElement', 'Node', 'Event', 'MouseEvent', 'localStorage']) {
    Object.defineProperty(globalThis, name, { configurable: true, writable: true, value: name === 'window' ? window : window[name] });
  }
  globalThis.IS_REACT_ACT_ENVIRONMENT = true;
  window.document.addEventListener('click', (event) => event.preventDefault());
  const observers = [];
  globalThis.IntersectionObserver = class {
    constructor(callback) {
      Object.assign(this, { callback, targets: [] });
      observers.push(this);
    }
    observe(target) {
      this.targets.push(target);
    }
    disconnect() {}
  };
  const show = () => observers.forEach((o) => o.callback(o.targets.map((target) => ({ target, isIntersecting: true })), o));
  const { act, createElement } = await import('react');
  const { createRoot } = await import('react-dom/client');
  const { KindredShelf } = await import('../dist/react.js');
  return { window, act, createElement, createRoot, KindredShelf, show };
}

/** Every item as the server sends it: string ids that survive JavaScript, a reason to show. */
function assertItems(items, { min = 1 } = {}) {
  assert.ok(Array.isArray(items) && items.length >= min, `at least ${min} item(s), got ${items?.length}`);
  for (const item of items) {
    assert.equal(typeof item.id, 'string');
    assert.match(item.id, /^\d+$/);
    assert.equal(BigInt(item.id).toString(), item.id);
    assert.equal(typeof item.title, 'string');
    assert.ok(item.title.length > 0);
    assert.equal(typeof item.reason, 'string');
    assert.ok(item.reason.trim().length > 0, `a reason for ${item.id}`);
    assert.equal(typeof item.score, 'number');
    assert.match(item.url, /^\/products\//);
    assert.ok(item.price === null || item.price === undefined || /^\d+\.\d{2}$/.test(item.price), `price ${item.price}`);
    assert.equal(item.available, true, 'sold-out products are never recommended');
  }
}

describe('live server', () => {
  live('the committed types are the server\'s (no drift)', async () => {
    const { same, diff } = await checkSchema(KINDRED_URL);
    assert.ok(same, `src/schema.d.ts differs from the server's OpenAPI document:\n${diff}`);
  });

  live('similar', async () => {
    const answer = await kindred().similar(PRODUCT, { limit: 5 });
    assert.equal(answer.product_id, PRODUCT);
    assert.equal(answer.strategy, 'similar');
    assertItems(answer.recommendations);
    assert.ok(answer.recommendations.length <= 5);
    assert.ok(answer.recommendations.every((r) => r.id !== PRODUCT), 'never the product itself');
    assert.ok(answer.recommendations.every((r) => r.reason.startsWith('similar to')));
  });

  live('recommendations: a strategy by name, and the fallback for a new shopper', async () => {
    const similar = await kindred().recommendations({ strategy: 'similar', product_id: `gid://shopify/Product/${PRODUCT}`, limit: 4, placement: 'product' });
    assert.equal(similar.strategy, 'similar');
    assert.equal(similar.requested_strategy, 'similar');
    assertItems(similar.recommendations);
    assert.ok(similar.recommendations.length <= 4);

    // A new browser id may fall in the shop's holdout (5% by default), which gets no shelf.
    let newShopper;
    for (let tries = 0; tries < 20 && !newShopper; tries++) {
      const answer = await kindred().recommendations({ strategy: 'recently_viewed', client_id: `live-${randomUUID()}`, fallback: 'new_arrivals', limit: 4 });
      if (answer.experiment?.holdout) assert.deepEqual(answer.recommendations, []);
      else newShopper = answer;
    }
    assert.equal(newShopper.requested_strategy, 'recently_viewed');
    assert.equal(newShopper.strategy, 'new_arrivals', 'a new shopper viewed nothing: the fallback answers');
    assertItems(newShopper.recommendations);

    const cart = await kindred().cart([PRODUCT], { limit: 3 });
    assertItems(cart.recommendations);
    assert.ok(cart.recommendations.every((r) => r.id !== PRODUCT), 'never what is in the cart');
  });

  live('search: "cork block" finds cork', async () => {
    const found = await kindred().search('cork block', { limit: 5 });
    assert.equal(found.query, 'cork block');
    assert.equal(typeof found.personalised, 'boolean');
    assertItems(found.results);
    assert.match(found.results[0].title, /cork/i);
    const cork = found.results.filter((r) => /cork/i.test(r.title));
    assert.ok(cork.length >= Math.min(3, found.results.length), `mostly cork: ${found.results.map((r) => r.title).join(' | ')}`);
  });

  live('suggest: completions and products for an unfinished word', async () => {
    const suggested = await kindred().suggest('cork bl');
    assert.equal(suggested.query, 'cork bl');
    assert.ok(suggested.queries.length > 0);
    assert.ok(suggested.queries.every((q) => typeof q === 'string' && q.startsWith('cork bl')), suggested.queries.join(' | '));
    assertItems(suggested.products);
    assert.ok(suggested.products.length <= 4, 'four products by default');
  });

  live('track: impressions and a click are accepted; a resent event counts once; a bad one is refused by index', async () => {
    const client_id = `live-${randomUUID()}`;
    const shelf = await kindred().recommendations({ strategy: 'similar', product_id: PRODUCT, limit: 2 });
    const base = { client_id, strategy: shelf.strategy, placement: 'product' };
    const events = [
      ...shelf.recommendations.map((r) => ({ ...base, type: 'recommendation_viewed', id: randomUUID(), product_id: r.id })),
      { ...base, type: 'recommendation_clicked', id: randomUUID(), product_id: shelf.recommendations[0].id },
    ];
    const first = await kindred().track(events);
    assert.deepEqual(first, { accepted: events.length, duplicates: 0, rejected: [] });
    const again = await kindred().track([...events, { client_id, type: 'recommendation_clicked', strategy: 'similar' }]);
    assert.equal(again.duplicates, events.length);
    assert.deepEqual(again.rejected.map((r) => r.index), [events.length]);
    assert.match(again.rejected[0].error, /product_id/);
  });

  live('the React shelf: the server\'s cards, and its impressions and click accepted', async () => {
    const { window, act, createElement, createRoot, KindredShelf, show } = await browser();
    const client = kindred();
    const reports = [];
    const shelfClient = { ...client, track: (events) => { const sent = client.track(events); reports.push(sent); return sent; } };
    // A browser id outside the holdout (which gets no shelf) for this placement.
    let clientId;
    let expected;
    for (let tries = 0; tries < 20 && !expected; tries++) {
      clientId = `live-${randomUUID()}`;
      const answer = await client.recommendations({ strategy: 'similar', fallback: 'trending', product_id: PRODUCT, client_id: clientId, limit: 4, placement: 'product' });
      if (!answer.experiment?.holdout) expected = answer;
    }
    const container = window.document.createElement('div');
    window.document.body.appendChild(container);
    const root = createRoot(container);
    await act(async () => root.render(createElement(KindredShelf, { client: shelfClient, strategy: 'similar', productId: PRODUCT, clientId, placement: 'Product', limit: 4, currency: 'USD', track: true })));
    assert.equal(container.querySelectorAll('li[aria-hidden="true"]').length, 4, 'four skeleton cards first');
    const section = () => container.querySelector('section');
    for (let waited = 0; section()?.dataset.kindredState === 'loading' && waited < 10000; waited += 50) {
      await act(() => new Promise((resolve) => setTimeout(resolve, 50)));
    }
    assert.equal(section().dataset.kindredState, 'loaded');
    const cards = [...container.querySelectorAll('li')];
    assert.deepEqual(cards.map((li) => li.dataset.productId), expected.recommendations.map((r) => r.id));
    assert.equal(cards[0].querySelector('h3').textContent, expected.recommendations[0].title);
    assert.equal(cards[0].querySelector('.kindred-shelf__reason').textContent, expected.recommendations[0].reason);

    await act(async () => show());
    await act(async () => {
      cards[0].querySelector('a').dispatchEvent(new window.MouseEvent('click', { bubbles: true, cancelable: true }));
    });
    const results = await Promise.all(reports);
    assert.deepEqual(results.map((r) => [r.accepted, r.rejected.length]), [[4, 0], [1, 0]], 'four impressions, then the click');
    await act(async () => root.unmount());
  });

  live('errors: a KindredError with the server\'s code', async () => {
    await assert.rejects(kindred().recommendations({ strategy: 'similar', product_id: PRODUCT, limit: 0 }), (error) => {
      assert.ok(error instanceof KindredError);
      assert.equal(error.status, 400);
      assert.equal(error.code, 'invalid_request');
      assert.match(error.message, /limit/);
      return true;
    });
    const stranger = createKindredClient({ baseUrl: KINDRED_URL, storefrontKey: 'kdr_sf_not_a_key' });
    await assert.rejects(stranger.search('mat'), (error) => error.status === 401 && error.code === 'invalid_credentials');
  });
});
