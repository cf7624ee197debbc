// The client against a stand-in server: every method's request and answer, errors, batching.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createKindredClient,
  KindredError,
  MAX_EVENTS_PER_REQUEST,
  parseRetryAfter,
  productId,
} from '../dist/client.js';
import { item, mockKindred } from './mock-server.mjs';

const KEY = 'kdr_sf_test_key';
const BIG = '9007199254740993'; // 2^53 + 1: a JavaScript number would round it

const shelf = (strategy, items, extra = {}) => ({ strategy, requested_strategy: strategy, recommendations: items, ...extra });

let server;
before(async () => {
  server = await mockKindred({
    'GET /api/v1/recommendations': ({ query }) => ({
      body: shelf(query.strategy === 'for_you' ? 'trending' : query.strategy, [item(BIG), item('4357742755898')], {
        requested_strategy: query.strategy,
      }),
    }),
    'GET /api/v1/products/4357742755898/similar': () => ({
      body: { product_id: '4357742755898', strategy: 'similar', recommendations: [item(BIG)] },
    }),
    'GET /api/v1/recommendations/cart': () => ({ body: shelf('complementary', [item('7553763328207', { reason: 'often bought with Cork Block' })]) }),
    'GET /api/v1/search': ({ query }) => ({
      body: { query: query.q.trim(), personalised: false, results: [item('1', { title: 'Cork Yoga Block', reason: `matches “${query.q}”` })] },
    }),
    'GET /api/v1/search/suggest': ({ query }) => ({
      body: { query: query.q, queries: ['cork yoga block'], products: [item('1', { title: 'Cork Yoga Block' })], personalised: false },
    }),
    'POST /api/v1/events': ({ body }) => ({
      body: {
        accepted: body.events.filter((e) => e.product_id).length,
        duplicates: 0,
        rejected: body.events.flatMap((e, index) => (e.product_id ? [] : [{ index, error: `\`${e.type}\` needs \`product_id\`` }])),
        ...(body.events.some((e) => e.customer_id) ? { warnings: ['`customer_id` was ignored'] } : {}),
      },
    }),
    // `/errors/429/api/v1/…`: that error, whatever the path; `/slow/…`: an answer in 2 s.
    '*': async ({ path }) => {
      if (path.startsWith('/slow/')) {
        await sleep(2000);
        return { body: { query: 'x', personalised: false, results: [] } };
      }
      const status = Number(/^\/errors\/(\d+)\//.exec(path)?.[1]);
      if (status === 400) {
        return { status, body: { error: { code: 'invalid_request', message: 'invalid request: `limit` must be a whole number from 1 to 50' } } };
      }
      if (status === 429) {
        return { status, headers: { 'retry-after': '7' }, body: { error: { code: 'rate_limited', message: 'too many requests' } } };
      }
      if (status === 503) return { status, headers: { 'retry-after': '1' }, body: '<html>Bad gateway</html>' };
      return { status: 404, body: { error: { code: 'not_found', message: `no route ${path}` } } };
    },
  });
});
after(() => server.close());

const latest = () => server.requests.at(-1);
const client = (options = {}) => createKindredClient({ baseUrl: server.url, storefrontKey: KEY, ...options });

describe('requests', () => {
  test('recommendations: the query names the server reads, the key and the customer token', async () => {
    const kindred = client({ customerToken: 'token-of-the-shop' });
    const answer = await kindred.recommendations({
      strategy: 'similar',
      fallback: 'trending',
      product_id: 'gid://shopify/Product/4357742755898',
      client_id: 'browser-1',
      cart: ['gid://shopify/Product/11', '22'],
      limit: 8,
      placement: 'product',
    });
    const request = latest();
    assert.equal(request.method, 'GET');
    assert.equal(request.path, '/api/v1/recommendations');
    assert.deepEqual(request.query, {
      strategy: 'similar',
      fallback: 'trending',
      product_id: '4357742755898',
      client_id: 'browser-1',
      cart: '11,22',
      limit: '8',
      placement: 'product',
    });
    assert.equal(request.headers.authorization, `Bearer ${KEY}`);
    assert.equal(request.headers.accept, 'application/json');
    assert.equal(request.headers['x-kindred-customer-token'], 'token-of-the-shop');
    assert.equal(answer.strategy, 'similar');
    assert.equal(answer.recommendations[0].id, BIG, 'ids stay exact strings');
    assert.equal(typeof answer.recommendations[0].score, 'number');
  });

  test('recommendations: unset parameters are left out; the answer names the strategy that answered', async () => {
    const answer = await client().recommendations({ strategy: 'for_you', fallback: 'trending', client_id: 'new-shopper', product_id: undefined });
    assert.deepEqual(latest().query, { strategy: 'for_you', fallback: 'trending', client_id: 'new-shopper' });
    assert.equal(latest().headers['x-kindred-customer-token'], undefined);
    assert.equal(answer.strategy, 'trending');
    assert.equal(answer.requested_strategy, 'for_you');
  });

  test('a per-call customer token replaces the client\'s', async () => {
    await client({ customerToken: 'a' }).search('mat', { customerToken: 'b' });
    assert.equal(latest().headers['x-kindred-customer-token'], 'b');
  });

  test('the base URL may name /api/v1 and end with a slash', async () => {
    for (const baseUrl of [`${server.url}/`, `${server.url}/api/v1`, `${server.url}/api/v1/`]) {
      await createKindredClient({ baseUrl, storefrontKey: KEY }).search('mat');
      assert.equal(latest().path, '/api/v1/search');
    }
  });

  test('similar: the product in the path (a global id too) and the filters', async () => {
    const answer = await client().similar('gid://shopify/Product/4357742755898', {
      limit: 5,
      include_unavailable: true,
      price_max: '150',
      tags: ['cork', 'size 10'],
    });
    assert.equal(latest().path, '/api/v1/products/4357742755898/similar');
    assert.deepEqual(latest().query, { limit: '5', include_unavailable: 'true', price_max: '150', tags: 'cork,size 10' });
    assert.equal(answer.product_id, '4357742755898');
    assert.equal(answer.recommendations[0].id, BIG);
  });

  test('cart: the product ids, comma-separated', async () => {
    const answer = await client().cart(['gid://shopify/Product/1', '2', BIG], { limit: 3 });
    assert.equal(latest().path, '/api/v1/recommendations/cart');
    assert.deepEqual(latest().query, { product_ids: `1,2,${BIG}`, limit: '3' });
    assert.equal(answer.strategy, 'complementary');
  });

  test('search and suggest', async () => {
    const found = await client().search('cork block', { client_id: 'browser-1', limit: 5 });
    assert.equal(latest().path, '/api/v1/search');
    assert.equal(latest().rawQuery, '?client_id=browser-1&limit=5&q=cork+block');
    assert.equal(found.query, 'cork block');
    assert.equal(found.personalised, false);
    assert.match(found.results[0].title, /cork/i);

    const suggested = await client().suggest('cork yoga bl', { limit: 4 });
    assert.equal(latest().path, '/api/v1/search/suggest');
    assert.deepEqual(latest().query, { q: 'cork yoga bl', limit: '4' });
    assert.deepEqual(suggested.queries, ['cork yoga block']);
    assert.equal(suggested.products.length, 1);
  });

  test('a request can be cancelled with an AbortSignal', async () => {
    const kindred = createKindredClient({ baseUrl: `${server.url}/slow`, storefrontKey: KEY });
    const controller = new AbortController();
    const pending = kindred.search('x', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, (error) => error.name === 'AbortError');
  });

  test('a fetch of the caller\'s own is used', async () => {
    const seen = [];
    const kindred = client({ fetch: (url, init) => (seen.push([String(url), init.method]), fetch(url, init)) });
    await kindred.suggest('co');
    assert.deepEqual(seen, [[`${server.url}/api/v1/search/suggest?q=co`, 'GET']]);
  });
});

describe('errors', () => {
  const failing = (status) => createKindredClient({ baseUrl: `${server.url}/errors/${status}`, storefrontKey: KEY });

  test('a 400 body becomes a KindredError with its code and message', async () => {
    await assert.rejects(failing(400).recommendations({ strategy: 'similar', limit: 0 }), (error) => {
      assert.ok(error instanceof KindredError);
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'KindredError');
      assert.equal(error.status, 400);
      assert.equal(error.code, 'invalid_request');
      assert.equal(error.message, 'invalid request: `limit` must be a whole number from 1 to 50');
      assert.equal(error.retryAfter, null);
      return true;
    });
  });

  test('a 429 carries Retry-After in seconds', async () => {
    await assert.rejects(failing(429).search('mat'), (error) => {
      assert.equal(error.status, 429);
      assert.equal(error.code, 'rate_limited');
      assert.equal(error.retryAfter, 7);
      return true;
    });
  });

  test('an answer that is not JSON still gives a status, a code and Retry-After', async () => {
    await assert.rejects(failing(503).similar('1'), (error) => {
      assert.ok(error instanceof KindredError);
      assert.equal(error.status, 503);
      assert.equal(error.code, 'http_503');
      assert.equal(error.retryAfter, 1);
      return true;
    });
  });

  test('Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-13T10:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120);
    assert.equal(parseRetryAfter('Tue, 13 Jan 2026 10:00:30 GMT', now), 30);
    assert.equal(parseRetryAfter('Tue, 13 Jan 2026 09:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter(null, now), null);
    assert.equal(parseRetryAfter('soon', now), null);
  });
});

describe('track', () => {
  const events = (n) =>
    Array.from({ length: n }, (_, i) => ({
      type: 'recommendation_viewed',
      client_id: 'browser-1',
      product_id: i === 150 ? undefined : String(1000 + i),
      strategy: 'similar',
      placement: 'product',
    }));

  test('sends 100 events a request, keepalive, and sums the answers with the indexes of the array given', async () => {
    const inits = [];
    const kindred = client({ fetch: (url, init) => (inits.push(init), fetch(url, init)) });
    const before = server.requests.length;
    const result = await kindred.track(events(250));
    const posts = server.requests.slice(before);
    assert.equal(MAX_EVENTS_PER_REQUEST, 100);
    assert.deepEqual(posts.map((r) => [r.method, r.path, r.body.events.length]), [
      ['POST', '/api/v1/events', 100],
      ['POST', '/api/v1/events', 100],
      ['POST', '/api/v1/events', 50],
    ]);
    assert.equal(posts[0].headers['content-type'], 'application/json');
    assert.equal(posts[0].headers.authorization, `Bearer ${KEY}`);
    assert.equal(posts[2].body.events[0].product_id, '1200', 'in order');
    assert.ok(inits.every((init) => init.keepalive === true));
    assert.deepEqual(result, {
      accepted: 249,
      duplicates: 0,
      rejected: [{ index: 150, error: '`recommendation_viewed` needs `product_id`' }],
    });
  });

  test('warnings come back; keepalive can be turned off; nothing to send sends nothing', async () => {
    const inits = [];
    const kindred = client({ fetch: (url, init) => (inits.push(init), fetch(url, init)) });
    const result = await kindred.track([{ type: 'product_viewed', client_id: 'b', product_id: '1', customer_id: '42' }], { keepalive: false });
    assert.deepEqual(result.warnings, ['`customer_id` was ignored']);
    assert.equal(inits[0].keepalive, false);
    assert.deepEqual(await kindred.track([]), { accepted: 0, duplicates: 0, rejected: [] });
    assert.equal(inits.length, 1);
  });
});

test('product ids: digits from a global id, strings kept whole', () => {
  assert.equal(productId('gid://shopify/Product/4357742755898'), '4357742755898');
  assert.equal(productId(' 4357742755898 '), '4357742755898');
  assert.equal(productId(9007199254740993n), BIG);
});
