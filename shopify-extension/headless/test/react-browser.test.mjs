// KindredShelf mounted in a DOM (happy-dom): it fetches once with the shopper's id, keeps
// the skeleton's card count, reports impressions once when the shelf comes into view and
// each click, with the strategy that answered, the placement and the client id.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { Window } from 'happy-dom';
import { item } from './mock-server.mjs';

const window = new Window({ url: 'https://shop.example.com/products/cork-block' });
for (const name of ['window', 'document', 'navigator', 'HTMLElement', 'Node', 'Event', 'MouseEvent', 'localStorage']) {
  Object.defineProperty(globalThis, name, { configurable: true, writable: true, value: name === 'window' ? window : window[name] });
}
globalThis.IS_REACT_ACT_ENVIRONMENT = true;
// No navigation away from the test page.
window.document.addEventListener('click', (event) => event.preventDefault());

const { act, createElement } = await import('react');
const { createRoot } = await import('react-dom/client');
const { KindredShelf } = await import('../dist/react.js');

/** A stand-in IntersectionObserver the test drives. */
class FakeObserver {
  static instances = [];
  constructor(callback, options) {
    Object.assign(this, { callback, options, targets: [], disconnected: false });
    FakeObserver.instances.push(this);
  }
  observe(target) {
    this.targets.push(target);
  }
  unobserve() {}
  disconnect() {
    this.disconnected = true;
  }
  static show() {
    for (const o of FakeObserver.instances.filter((o) => !o.disconnected)) {
      o.callback(o.targets.map((target) => ({ target, isIntersecting: true, intersectionRatio: 1 })), o);
    }
  }
}

/** A client whose shelf answers when the test says so. */
function fakeClient() {
  const client = { asked: [], tracked: [] };
  client.recommendations = (params) =>
    new Promise((resolve, reject) => client.asked.push({ params, resolve, reject }));
  client.track = async (events) => {
    client.tracked.push(events);
    return { accepted: events.length, duplicates: 0, rejected: [] };
  };
  return client;
}

const answer = {
  strategy: 'trending',
  requested_strategy: 'for_you',
  recommendations: [item('9007199254740993'), item('4357742755898'), item('3')],
};

let container;
let root;
beforeEach(() => {
  window.localStorage.clear();
  FakeObserver.instances = [];
  globalThis.IntersectionObserver = FakeObserver;
  container = window.document.createElement('div');
  window.document.body.appendChild(container);
  root = createRoot(container);
});
afterEach(async () => {
  await act(async () => root.unmount());
  container.remove();
});

// The shopper consented unless a test says otherwise (the shelf's default is no tracking).
const mount = (props) => act(async () => root.render(createElement(KindredShelf, { track: true, ...props })));
const cards = () => [...container.querySelectorAll('li')];
const click = (element, init = {}) => act(async () => {
  element.dispatchEvent(new window.MouseEvent(init.type ?? 'click', { bubbles: true, cancelable: true, button: init.button ?? 0 }));
});

test('fetches once with the stored browser id, then reports the view once and each click', async () => {
  const client = fakeClient();
  await mount({ client, strategy: 'for_you', placement: 'Product page', limit: 3 });

  assert.equal(client.asked.length, 1);
  const stored = window.localStorage.getItem('kindred_client_id');
  assert.ok(stored, 'the id the theme script keeps');
  const { signal, ...params } = client.asked[0].params;
  assert.ok(signal instanceof AbortSignal);
  assert.deepEqual(params, {
    strategy: 'for_you',
    fallback: 'trending',
    product_id: undefined,
    cart: undefined,
    client_id: stored,
    limit: 3,
    placement: 'product_page',
  });
  assert.equal(cards().length, 3);
  assert.ok(cards().every((li) => li.getAttribute('aria-hidden') === 'true'), 'skeleton cards');
  assert.equal(container.querySelector('section').getAttribute('aria-busy'), 'true');

  await act(async () => client.asked[0].resolve(answer));
  assert.equal(cards().length, 3, 'as many cards as skeleton cards: no shift');
  assert.ok(cards().every((li) => !li.hasAttribute('aria-hidden')));
  assert.equal(container.querySelector('section').getAttribute('aria-busy'), 'false');
  assert.deepEqual(client.tracked, [], 'no impression before the shelf is seen');

  await act(async () => FakeObserver.show());
  await act(async () => FakeObserver.show());
  assert.equal(client.tracked.length, 1, 'one report, however often it is seen');
  const views = client.tracked[0];
  assert.deepEqual(views.map((e) => [e.type, e.product_id, e.strategy, e.placement, e.client_id]), [
    ['recommendation_viewed', '9007199254740993', 'trending', 'product_page', stored],
    ['recommendation_viewed', '4357742755898', 'trending', 'product_page', stored],
    ['recommendation_viewed', '3', 'trending', 'product_page', stored],
  ]);

  await click(cards()[1].querySelector('a h3'));
  await click(cards()[2].querySelector('a'), { type: 'auxclick', button: 1 });
  await click(cards()[2].querySelector('a'), { type: 'auxclick', button: 2 });
  assert.equal(client.tracked.length, 3);
  assert.deepEqual(client.tracked.slice(1).map((batch) => batch.map((e) => [e.type, e.product_id, e.strategy, e.placement, e.client_id])), [
    [['recommendation_clicked', '4357742755898', 'trending', 'product_page', stored]],
    [['recommendation_clicked', '3', 'trending', 'product_page', stored]],
  ]);
});

test('without IntersectionObserver a click sends the views first: no click without its view', async () => {
  globalThis.IntersectionObserver = undefined;
  const client = fakeClient();
  await mount({ client, strategy: 'for_you', clientId: 'browser-7', limit: 2 });
  assert.equal(client.asked[0].params.client_id, 'browser-7');
  assert.equal(window.localStorage.getItem('kindred_client_id'), null, 'a given id is used as is');
  await act(async () => client.asked[0].resolve(answer));
  assert.equal(cards().length, 2);
  assert.deepEqual(client.tracked, []);
  await click(cards()[0].querySelector('a'));
  assert.deepEqual(client.tracked.map((batch) => batch.map((e) => `${e.type} ${e.product_id}`)), [
    ['recommendation_viewed 9007199254740993', 'recommendation_viewed 4357742755898', 'recommendation_clicked 9007199254740993'],
  ]);
});

test('a shopper in the holdout sees the `empty` content and sends nothing', async () => {
  const client = fakeClient();
  await mount({ client, strategy: 'for_you', empty: createElement('p', { id: 'control' }, 'Shopify picks') });
  await act(async () =>
    client.asked[0].resolve({ ...answer, recommendations: [], experiment: { id: 'holdout', arm: 'holdout', holdout: true, control: 'none' } }),
  );
  assert.equal(container.querySelector('section'), null);
  assert.equal(container.querySelector('#control').textContent, 'Shopify picks');
  await act(async () => FakeObserver.show());
  assert.deepEqual(client.tracked, []);
});

test('track={false}: no browser id kept or sent, no events', async () => {
  const client = fakeClient();
  await mount({ client, strategy: 'trending', track: false, limit: 3 });
  assert.equal(client.asked[0].params.client_id, undefined);
  assert.equal(window.localStorage.getItem('kindred_client_id'), null);
  await act(async () => client.asked[0].resolve(answer));
  await act(async () => FakeObserver.show());
  await click(cards()[0].querySelector('a'));
  assert.deepEqual(client.tracked, []);
});

test('an error leaves the shelf\'s place and tells onError; new props fetch again', async () => {
  const client = fakeClient();
  const errors = [];
  await mount({ client, strategy: 'similar', productId: '1', onError: (e) => errors.push(e.message) });
  await act(async () => client.asked[0].reject(new Error('HTTP 503')));
  assert.equal(container.innerHTML, '');
  assert.deepEqual(errors, ['HTTP 503']);

  await mount({ client, strategy: 'similar', productId: '2', onError: (e) => errors.push(e.message) });
  assert.equal(client.asked.length, 2);
  assert.equal(client.asked[1].params.product_id, '2');
  assert.equal(cards().length, 4, 'the skeleton again while the new shelf loads');
});

test('an answer from the server loader is shown without fetching', async () => {
  const client = fakeClient();
  await mount({ client, strategy: 'for_you', clientId: 'b', initial: answer, limit: 2 });
  assert.equal(client.asked.length, 0);
  assert.equal(cards().length, 2);
  await act(async () => FakeObserver.show());
  assert.deepEqual(client.tracked[0].map((e) => [e.type, e.strategy, e.client_id]), [
    ['recommendation_viewed', 'trending', 'b'],
    ['recommendation_viewed', 'trending', 'b'],
  ]);
});
