// The web pixel (shopify-extension/web-pixel/) run as Shopify runs it, on Shopify's standard
// event payloads for real yoga-store products: what it sends to Kindred's pixel endpoint,
// byte for byte, and what its extension file declares.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  CLIENT_ID_KEY, FLUSH_DELAY_MS, MAX_EVENTS_PER_REQUEST, kindredPixel, shopifyId,
} from '../../shopify-extension/web-pixel/src/pixel.js';

const PIXEL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shopify-extension/web-pixel');
const ENDPOINT = 'https://kindred.example.com/api/v1/pixel/events';
const KEY = 'kdr_sf_3f9c2a7e1b';
const SHOPIFY_CLIENT_ID = 'e0c9f1a2-7b3d-4c5e-9f80-1a2b3c4d5e6f';
const EMBED_CLIENT_ID = '6f1d2c3b-4a59-4e87-b6c5-d4e3f2a1b0c9';
const CHECKOUT_CLIENT_ID = '0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d';

// The yoga-store capture: Manduka's PRO mat (two variants) and PROlite mat.
const PRO_MAT = { id: '4357742755898', title: 'Manduka PRO™ Yoga Mat 6mm', vendor: 'Manduka', url: '/products/manduka-pro-yoga-mat' };
const PRO_MAT_VARIANT = { id: '40332749897786', sku: '111011460', title: 'Black Magic / 71"', price: { amount: 144, currencyCode: 'USD' }, product: PRO_MAT };
const PROLITE = { id: '4357742690362', title: 'PROlite® Yoga Mat 4.7mm', vendor: 'Manduka', url: '/products/prolite-yoga-mat' };
const PROLITE_VARIANT = { id: '39834453671994', sku: '112011010', title: 'Black / 71"', price: { amount: 112, currencyCode: 'USD' }, product: PROLITE };

let sequence = 0;
/** A standard event as Shopify delivers it to a pixel's subscriber. */
const shopifyEvent = (name, data, overrides = {}) => {
  sequence += 1;
  return {
    id: `sh-5a1c9e20-${String(sequence).padStart(4, '0')}-4F1B-8C3A-2E7D9B6F0A14`,
    name,
    type: 'standard',
    timestamp: `2026-01-13T10:15:${String(sequence % 60).padStart(2, '0')}.250Z`,
    clientId: SHOPIFY_CLIENT_ID,
    seq: sequence,
    context: { document: { location: { href: 'https://yoga-store.myshopify.com/products/manduka-pro-yoga-mat' } } },
    data,
    ...overrides,
  };
};

const productViewed = (variant = PRO_MAT_VARIANT, overrides) => shopifyEvent('product_viewed', { productVariant: variant }, overrides);
const cartLine = (variant, quantity) => ({ cost: { totalAmount: { amount: variant.price.amount * quantity, currencyCode: 'USD' } }, merchandise: variant, quantity });
const checkout = (overrides = {}) => ({
  token: 'c1-8b1f0e6d2a4c4f3e9d7b5a3c1e0f2d4b',
  currencyCode: 'USD',
  attributes: [],
  order: { id: 'gid://shopify/OrderIdentity/5723048214586', customer: { id: 'gid://shopify/Customer/7001', isFirstOrder: true } },
  lineItems: [
    { id: 'l1', quantity: 1, title: PRO_MAT.title, variant: PRO_MAT_VARIANT },
    { id: 'l2', quantity: 2, title: PROLITE.title, variant: PROLITE_VARIANT },
  ],
  totalPrice: { amount: 368, currencyCode: 'USD' },
  ...overrides,
});

/** The pixel with Shopify's API faked: `publish` delivers an event as Shopify's bus does. */
function startPixel({ stored = {}, storage, settings = { endpoint: ENDPOINT, key: KEY } } = {}) {
  const subscribers = new Map();
  const items = new Map(Object.entries(stored));
  const localStorage = storage ?? {
    getItem: async (name) => items.get(name) ?? null,
    setItem: async (name, value) => { items.set(name, String(value)); },
  };
  const requests = [];
  globalThis.fetch = async (url, options) => {
    requests.push({ url, options, body: JSON.parse(options.body) });
    return new Response(JSON.stringify({ accepted: 1, duplicates: 0, rejected: [] }), { status: 200 });
  };
  const pixel = kindredPixel({
    analytics: { subscribe: (name, callback) => subscribers.set(name, callback) },
    browser: { localStorage, sessionStorage: localStorage, cookie: { get: async () => '' } },
    init: { context: {}, data: { customer: null, cart: null } },
    settings,
  });
  const publish = async (...events) => {
    for (const event of events) subscribers.get(event.name)?.(event);
    await pixel.idle();
  };
  return { pixel, publish, requests, items, subscribers };
}

const sent = (requests) => requests.flatMap((request) => request.body.events);

test('ids are the digits of what Shopify gives, as strings, and never a rounded number', () => {
  assert.equal(shopifyId('4357742755898'), '4357742755898');
  assert.equal(shopifyId(4357742755898), '4357742755898');
  assert.equal(shopifyId('gid://shopify/Product/4357742755898'), '4357742755898');
  assert.equal(shopifyId('gid://shopify/OrderIdentity/5723048214586'), '5723048214586');
  assert.equal(shopifyId(2 ** 53 + 2), null);
  assert.equal(shopifyId('18446744073709551615'), '18446744073709551615');
  assert.equal(shopifyId(''), null);
  assert.equal(shopifyId('gid://shopify/Product/'), null);
});

test('a product view is sent as Kindred\'s event, in a text/plain POST with the shop\'s key', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { publish, requests } = startPixel({ stored: { [CLIENT_ID_KEY]: EMBED_CLIENT_ID } });
  const event = productViewed();
  await publish(event);
  assert.equal(requests.length, 0, 'sent before the flush delay');
  t.mock.timers.tick(FLUSH_DELAY_MS);
  assert.equal(requests.length, 1);
  const [{ url, options }] = requests;
  assert.equal(url, ENDPOINT);
  assert.equal(options.method, 'POST');
  assert.equal(options.keepalive, true);
  assert.deepEqual(options.headers, { 'Content-Type': 'text/plain;charset=UTF-8' });
  assert.equal(options.body, JSON.stringify({
    key: KEY,
    events: [{
      type: 'product_viewed', id: event.id, client_id: EMBED_CLIENT_ID, occurred_at: event.timestamp, product_id: '4357742755898',
    }],
  }));
});

test('collection views, searches and cart changes carry their own fields', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { publish, requests } = startPixel({ stored: { [CLIENT_ID_KEY]: EMBED_CLIENT_ID } });
  const events = [
    shopifyEvent('collection_viewed', { collection: { id: 'gid://shopify/Collection/261316149306', title: 'Yoga Mats', productVariants: [PRO_MAT_VARIANT] } }),
    shopifyEvent('search_submitted', { searchResult: { query: '  cork yoga mat ', productVariants: [] } }),
    shopifyEvent('product_added_to_cart', { cartLine: cartLine(PRO_MAT_VARIANT, 2) }),
    shopifyEvent('product_removed_from_cart', { cartLine: cartLine({ ...PROLITE_VARIANT, product: { ...PROLITE, id: 4357742690362 } }, 1) }),
  ];
  await publish(...events);
  t.mock.timers.tick(FLUSH_DELAY_MS);
  assert.equal(requests.length, 1, 'one batch for what one page reported');
  const base = (event) => ({ type: event.name, id: event.id, client_id: EMBED_CLIENT_ID, occurred_at: event.timestamp });
  assert.deepEqual(sent(requests), [
    { ...base(events[0]), collection_id: '261316149306' },
    { ...base(events[1]), query: 'cork yoga mat' },
    { ...base(events[2]), product_id: '4357742755898', quantity: 2 },
    { ...base(events[3]), product_id: '4357742690362', quantity: 1 },
  ]);
});

test('at most 100 events a request: full batches go at once, the rest after the delay', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { publish, requests } = startPixel({ stored: { [CLIENT_ID_KEY]: EMBED_CLIENT_ID } });
  await publish(...Array.from({ length: 250 }, () => productViewed()));
  assert.deepEqual(requests.map((request) => request.body.events.length), [MAX_EVENTS_PER_REQUEST, MAX_EVENTS_PER_REQUEST]);
  t.mock.timers.tick(FLUSH_DELAY_MS);
  assert.deepEqual(requests.map((request) => request.body.events.length), [100, 100, 50]);
  const ids = sent(requests).map((event) => event.id);
  assert.equal(new Set(ids).size, 250, 'every event once');
});

test("without the embed's id, Shopify's client id is used and stored for the embed to adopt", async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { publish, requests, items } = startPixel();
  await publish(productViewed(), productViewed(PROLITE_VARIANT));
  t.mock.timers.tick(FLUSH_DELAY_MS);
  assert.deepEqual(sent(requests).map((event) => event.client_id), [SHOPIFY_CLIENT_ID, SHOPIFY_CLIENT_ID]);
  assert.equal(items.get(CLIENT_ID_KEY), SHOPIFY_CLIENT_ID);
});

test("storage that throws leaves Shopify's client id", async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const refused = async () => { throw new Error('SecurityError: access denied'); };
  const { publish, requests } = startPixel({ storage: { getItem: refused, setItem: refused } });
  await publish(productViewed());
  t.mock.timers.tick(FLUSH_DELAY_MS);
  assert.deepEqual(sent(requests).map((event) => event.client_id), [SHOPIFY_CLIENT_ID]);
});

test('a completed checkout goes at once, under the id its cart carried, with its order and lines', async () => {
  const { publish, requests, items } = startPixel({ stored: { [CLIENT_ID_KEY]: EMBED_CLIENT_ID } });
  const giftCard = { id: 'l3', quantity: 1, title: 'Gift card', variant: null };
  const event = shopifyEvent('checkout_completed', {
    checkout: checkout({
      attributes: [{ key: 'gift_note', value: 'Namaste' }, { key: '_kindred_client_id', value: CHECKOUT_CLIENT_ID }],
      lineItems: [...checkout().lineItems, giftCard],
    }),
  });
  await publish(event);
  assert.equal(requests.length, 1, 'not held for the flush delay');
  assert.equal(requests[0].options.body, JSON.stringify({
    key: KEY,
    events: [{
      type: 'checkout_completed',
      id: event.id,
      client_id: CHECKOUT_CLIENT_ID,
      occurred_at: event.timestamp,
      line_items: [{ product_id: '4357742755898', quantity: 1 }, { product_id: '4357742690362', quantity: 2 }],
      order_id: '5723048214586',
      checkout_token: 'c1-8b1f0e6d2a4c4f3e9d7b5a3c1e0f2d4b',
    }],
  }));
  assert.equal(items.get(CLIENT_ID_KEY), EMBED_CLIENT_ID, "the storefront's id is left as it was");
});

test("a checkout without the cart attribute falls back to this origin's stored id, then Shopify's", async () => {
  const stored = startPixel({ stored: { [CLIENT_ID_KEY]: EMBED_CLIENT_ID } });
  await stored.publish(shopifyEvent('checkout_completed', { checkout: checkout() }));
  assert.equal(sent(stored.requests)[0].client_id, EMBED_CLIENT_ID);

  const bare = startPixel();
  await bare.publish(shopifyEvent('checkout_completed', { checkout: checkout({ attributes: [{ key: '_kindred_client_id', value: ' ' }] }) }));
  assert.equal(sent(bare.requests)[0].client_id, SHOPIFY_CLIENT_ID);
});

test('an event missing what its type needs is never sent', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { publish, requests } = startPixel({ stored: { [CLIENT_ID_KEY]: EMBED_CLIENT_ID } });
  const kept = productViewed();
  await publish(
    shopifyEvent('product_viewed', { productVariant: { ...PRO_MAT_VARIANT, product: { ...PRO_MAT, id: undefined } } }),
    shopifyEvent('product_viewed', { productVariant: { ...PRO_MAT_VARIANT, product: { ...PRO_MAT, id: 2 ** 53 + 2 } } }),
    shopifyEvent('collection_viewed', { collection: { title: 'Yoga Mats' } }),
    shopifyEvent('search_submitted', { searchResult: { query: '   ', productVariants: [] } }),
    shopifyEvent('product_added_to_cart', { cartLine: null }),
    shopifyEvent('product_added_to_cart', { cartLine: cartLine(PRO_MAT_VARIANT, 0) }),
    shopifyEvent('checkout_completed', { checkout: checkout({ order: null }) }),
    shopifyEvent('checkout_completed', { checkout: checkout({ token: null }) }),
    shopifyEvent('checkout_completed', { checkout: checkout({ lineItems: [{ id: 'l3', quantity: 1, title: 'Gift card', variant: null }] }) }),
    productViewed(PRO_MAT_VARIANT, { id: undefined }),
    productViewed(PRO_MAT_VARIANT, { timestamp: undefined }),
    kept,
  );
  t.mock.timers.tick(FLUSH_DELAY_MS);
  assert.deepEqual(sent(requests).map((event) => event.id), [kept.id]);
});

test('with no id anywhere, the event is dropped rather than sent without one', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { publish, requests } = startPixel();
  await publish(productViewed(PRO_MAT_VARIANT, { clientId: undefined }));
  t.mock.timers.tick(FLUSH_DELAY_MS);
  assert.equal(requests.length, 0);
});

test('without its endpoint, or with a key that is not a public pixel key, the pixel listens to nothing', () => {
  for (const settings of [{ key: KEY }, { endpoint: ENDPOINT }, { endpoint: ENDPOINT, key: 'kdr_sk_live_secret' }]) {
    const { subscribers } = startPixel({ settings });
    assert.equal(subscribers.size, 0, JSON.stringify(settings));
  }
  const { subscribers } = startPixel();
  assert.deepEqual([...subscribers.keys()].sort(), [
    'checkout_completed', 'collection_viewed', 'product_added_to_cart', 'product_removed_from_cart', 'product_viewed', 'search_submitted',
  ]);
});

test('a rate-limited batch is dropped, not retried', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { publish, requests } = startPixel({ stored: { [CLIENT_ID_KEY]: EMBED_CLIENT_ID } });
  globalThis.fetch = async (url, options) => {
    requests.push({ url, options, body: JSON.parse(options.body) });
    return new Response('{"error":{"code":"rate_limited"}}', { status: 429, headers: { 'Retry-After': '30' } });
  };
  await publish(productViewed());
  t.mock.timers.tick(FLUSH_DELAY_MS);
  await new Promise(setImmediate);
  t.mock.timers.tick(FLUSH_DELAY_MS * 10);
  assert.equal(requests.length, 1);
});

// A flat reading of the extension file: `[table]` headers and `key = value` lines.
const readToml = (file) => {
  const tables = {};
  let table = tables[''] = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    const header = /^\[([\w.]+)\]$/.exec(line);
    if (header) {
      table = tables[header[1]] = {};
      continue;
    }
    const [, name, value] = /^(\w+)\s*=\s*(.+)$/.exec(line) ?? [];
    if (name) table[name] = /^".*"$/.test(value) ? value.slice(1, -1) : value;
  }
  return tables;
};

test('the extension is a strict web pixel that needs analytics consent only, set up by endpoint and key', () => {
  const toml = readToml(path.join(PIXEL_DIR, 'shopify.extension.toml'));
  assert.equal(toml[''].type, 'web_pixel_extension');
  assert.equal(toml[''].runtime_context, 'strict');
  assert.deepEqual(toml.customer_privacy, { analytics: 'true', marketing: 'false', preferences: 'false', sale_of_data: 'disabled' });
  assert.equal(toml.settings.type, 'object');
  const fields = Object.keys(toml).filter((name) => name.startsWith('settings.fields.')).map((name) => name.slice(16));
  assert.deepEqual(fields, ['endpoint', 'key']);
  for (const field of fields) assert.equal(toml[`settings.fields.${field}`].type, 'single_line_text_field', field);
});

test("the entry point hands Shopify's register the pixel, and the package depends on Shopify's library", () => {
  const index = fs.readFileSync(path.join(PIXEL_DIR, 'src/index.js'), 'utf8');
  assert.match(index, /import \{ register \} from '@shopify\/web-pixels-extension'/);
  assert.match(index, /import \{ kindredPixel \} from '\.\/pixel\.js'/);
  assert.match(index, /register\(kindredPixel\)/);
  const manifest = JSON.parse(fs.readFileSync(path.join(PIXEL_DIR, 'package.json'), 'utf8'));
  assert.equal(manifest.private, true);
  assert.ok(manifest.dependencies['@shopify/web-pixels-extension']);
});
