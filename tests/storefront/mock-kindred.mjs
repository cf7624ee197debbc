// A stand-in for Kindred's app proxy endpoints, for working on the storefront blocks without
// the Rust server. It answers the same JSON contract on the real yoga-store catalogue, checks
// every request's app proxy signature as the server must, and keeps shopper events in memory
// so that "for you", "recently viewed" and "trending" react to them. Its recommendations are
// plain word overlap, and its search and suggestions plain word matching (re-ranked towards
// what the browser looked at): a development aid, not a measure of Kindred's quality.
//
//   node mock-kindred.mjs      (env: KINDRED_PROXY_SECRET, SHOP, KINDRED_CATALOG, PORT)
//
// prints {"url": "http://127.0.0.1:PORT"} on its first line of stdout.

import http from 'node:http';
import { fileURLToPath } from 'node:url';

import { verifyAppProxyQuery } from './lib/app-proxy.mjs';
import { cardsLiquid } from './lib/cards-liquid.mjs';
import { DEFAULT_CATALOG, loadCatalog } from './lib/catalog.mjs';

const STRATEGIES = ['similar', 'for_you', 'complementary', 'trending', 'recently_viewed', 'new_arrivals'];
const PRODUCT_EVENTS = ['product_viewed', 'product_added_to_cart', 'product_removed_from_cart'];
const RECOMMENDATION_EVENTS = ['recommendation_viewed', 'recommendation_clicked'];
const EVENT_TYPES = [...PRODUCT_EVENTS, ...RECOMMENDATION_EVENTS, 'checkout_completed', 'search_submitted', 'collection_viewed'];
const MAX_EVENTS = 100;
const MAX_BODY_BYTES = 1 << 20;
// Where a block stands (`product`, `cart`, a merchant's own name), as the server takes it.
const PLACEMENT = /^[a-z0-9_]{1,40}$/;
const PLACEMENT_ERROR = '`placement` must be 1 to 40 characters of a-z, 0-9 and _';
// What the app proxy adds to every request; search takes nothing else beside its own.
const PROXY_PARAMETERS = ['shop', 'logged_in_customer_id', 'path_prefix', 'timestamp', 'signature'];
const SEARCH_PARAMETERS = ['q', 'client_id', 'limit'];
const MAX_QUERY_CHARS = 200;
const MAX_COMPLETIONS = 5;

class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const words = (product) => new Set(
  [product.title, product.product_type, product.vendor, ...product.tags]
    .join(' ')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 2),
);

// Search reads every word, short ones too ("5mm", "xl").
const tokens = (text) => text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);

const jaccard = (a, b) => {
  let shared = 0;
  for (const word of a) if (b.has(word)) shared += 1;
  return shared / (a.size + b.size - shared || 1);
};

// Ids arrive as digit strings, `gid://shopify/Product/1`, or numbers small enough to be exact.
const parseId = (value) => {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? String(value) : null;
  if (typeof value !== 'string') return null;
  const match = /^(?:gid:\/\/shopify\/\w+\/)?(\d{1,20})$/.exec(value);
  return match ? match[1] : null;
};

const boundedString = (value, max) => typeof value === 'string' && value.length >= 1 && value.length <= max;

function validateEvent(event) {
  if (!event || typeof event !== 'object' || Array.isArray(event)) return 'an event is a JSON object';
  if (!EVENT_TYPES.includes(event.type)) return `unknown event type ${JSON.stringify(event.type)}`;
  if (!boundedString(event.client_id, 128)) return '`client_id` must be 1 to 128 characters';
  if (event.id !== undefined && !boundedString(String(event.id), 128)) return '`id` must be 1 to 128 characters';
  if ([...PRODUCT_EVENTS, ...RECOMMENDATION_EVENTS].includes(event.type) && !parseId(event.product_id)) {
    return `\`${event.type}\` needs \`product_id\``;
  }
  if (RECOMMENDATION_EVENTS.includes(event.type) && !boundedString(event.strategy, 40)) {
    return `\`${event.type}\` needs \`strategy\` (at most 40 characters)`;
  }
  if (event.placement !== undefined && !(typeof event.placement === 'string' && PLACEMENT.test(event.placement))) return PLACEMENT_ERROR;
  if (event.type === 'checkout_completed' && !(Array.isArray(event.line_items) && event.line_items.length
    && event.line_items.every((line) => parseId(line?.product_id) && Number.isInteger(line.quantity) && line.quantity > 0))) {
    return '`checkout_completed` needs `line_items` of `product_id` and `quantity`';
  }
  if (event.type === 'search_submitted' && !boundedString(event.query, 500)) return '`search_submitted` needs `query`';
  if (event.type === 'collection_viewed' && !parseId(event.collection_id)) return '`collection_viewed` needs `collection_id`';
  return null;
}

export function createMockKindred({ secret, shop, catalog = DEFAULT_CATALOG }) {
  if (!secret) throw new Error('the mock needs the app secret to check signatures');
  const products = loadCatalog(catalog);
  const byId = new Map(products.map((product) => [product.id, product]));
  const wordsOf = new Map(products.map((product) => [product.id, words(product)]));
  const events = [];
  const seenEventIds = new Set();

  const recommendable = (product, exclude) => product.available && !exclude.has(product.id);
  const ranked = (scored, limit) => scored
    .filter(([, score]) => score > 0)
    .sort((a, b) => b[1] - a[1] || (a[0].id < b[0].id ? -1 : 1))
    .slice(0, limit);
  const item = ([product, score], reason) => {
    const { created_at: _c, variant_id: _v, description: _d, image_width: _w, image_height: _h, ...fields } = product;
    return { ...fields, score: Math.round(score * 1000) / 1000, reason };
  };

  const clientEvents = (clientId) => events.filter((event) => event.client_id === clientId);
  const viewedByClient = (clientId) => {
    const seen = new Set();
    return clientEvents(clientId).reverse().map((event) => parseId(event.product_id))
      .filter((id) => id && byId.has(id) && !seen.has(id) && seen.add(id));
  };

  const similarTo = (anchor, limit, exclude, differentType = false) => ranked(
    products
      .filter((product) => recommendable(product, exclude) && product.id !== anchor.id
        && (!differentType || product.product_type !== anchor.product_type))
      .map((product) => [product, jaccard(wordsOf.get(anchor.id), wordsOf.get(product.id))]),
    limit,
  );

  const strategies = {
    similar: ({ product, limit }) => similarTo(product, limit, new Set()).map((s) => item(s, `similar to ${product.title}`)),
    complementary: ({ product, limit }) => similarTo(product, limit, new Set(), true).map((s) => item(s, `goes with ${product.title}`)),
    for_you: ({ clientId, limit }) => {
      const viewed = viewedByClient(clientId);
      if (!viewed.length) return [];
      const last = byId.get(viewed[0]);
      return similarTo(last, limit, new Set(viewed)).map((s) => item(s, `because you looked at ${last.title}`));
    },
    recently_viewed: ({ clientId, limit }) => viewedByClient(clientId)
      .map((id) => byId.get(id)).filter((product) => product.available).slice(0, limit)
      .map((product) => item([product, 1], 'recently viewed')),
    trending: ({ limit }) => {
      const counts = new Map();
      for (const event of events) {
        const id = parseId(event.product_id);
        if (id && byId.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      // A shop with no activity yet still gets a stable list: the catalogue order.
      return ranked(products.filter((p) => p.available)
        .map((p, index) => [p, (counts.get(p.id) ?? 0) + 1 / (index + 2)]), limit)
        .map((s) => item(s, 'trending'));
    },
    new_arrivals: ({ limit }) => products.filter((p) => p.available && p.created_at)
      .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at)).slice(0, limit)
      .map((product) => item([product, 1], 'new arrival')),
  };

  const recommend = (params) => {
    const limit = Number(params.get('limit') ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) {
      throw new HttpError(400, 'invalid_request', '`limit` must be a whole number from 1 to 50');
    }
    const asked = [params.get('strategy'), params.get('fallback')].filter((name) => name && name !== 'none');
    for (const name of asked) {
      if (!STRATEGIES.includes(name)) throw new HttpError(400, 'invalid_request', `unknown strategy ${JSON.stringify(name)}`);
    }
    if (!params.get('strategy')) throw new HttpError(400, 'invalid_request', '`strategy` is required');
    if (params.has('placement') && !PLACEMENT.test(params.get('placement'))) throw new HttpError(400, 'invalid_request', PLACEMENT_ERROR);
    // As the server does: with a fallback, new arrivals come last, so a block is never empty.
    const order = asked.length > 1 ? [...asked, 'new_arrivals'] : asked;
    const productId = params.get('product_id');
    const product = productId ? byId.get(parseId(productId)) : null;
    if (productId && !product) throw new HttpError(404, 'not_found', `no product ${productId}`);
    // As the server does: what the cart holds is never offered, and goes-with reads the cart
    // when there is no product on screen.
    const cart = new Set((params.get('cart') ?? '').split(',').map(parseId).filter((id) => id && byId.has(id)));
    const anchor = product ?? byId.get([...cart][0]) ?? null;
    const context = { product: anchor, limit: limit + cart.size, clientId: params.get('client_id') ?? '' };
    const requested = order[0];
    for (const name of order) {
      if (['similar', 'complementary'].includes(name) && !anchor) {
        if (order.length === 1) throw new HttpError(400, 'invalid_request', `\`${name}\` needs \`product_id\``);
        continue;
      }
      const recommendations = strategies[name](context).filter((r) => !cart.has(r.id)).slice(0, limit);
      if (recommendations.length) return { strategy: name, requested_strategy: requested, recommendations };
    }
    return { strategy: requested, requested_strategy: requested, recommendations: [] };
  };

  // Search: the share of the query's words a product has (a last word still being typed
  // counts by its start), a little more when the title holds the whole query, then for a
  // browser with history a little more again for what resembles the product it last viewed.
  const searchWords = new Map(products.map((p) => [p.id, new Set(tokens([p.title, p.product_type, p.vendor, ...p.tags].join(' ')))]));
  const titleWords = new Map(products.map((p) => [p.id, tokens(p.title)]));
  const searchParams = (params, defaultLimit) => {
    for (const name of params.keys()) {
      if (!SEARCH_PARAMETERS.includes(name) && !PROXY_PARAMETERS.includes(name)) {
        throw new HttpError(400, 'invalid_request', `unknown parameter \`${name}\``);
      }
    }
    const q = (params.get('q') ?? '').trim();
    if (!q) throw new HttpError(400, 'invalid_request', '`q` is required');
    if ([...q].length > MAX_QUERY_CHARS) throw new HttpError(400, 'invalid_request', `\`q\` must be at most ${MAX_QUERY_CHARS} characters`);
    const limit = Number(params.get('limit') ?? defaultLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) {
      throw new HttpError(400, 'invalid_request', '`limit` must be a whole number from 1 to 50');
    }
    const clientId = params.get('client_id');
    if (clientId !== null && !boundedString(clientId, 128)) throw new HttpError(400, 'invalid_request', '`client_id` must be 1 to 128 characters');
    return { q, limit, clientId };
  };
  const find = ({ q, limit, clientId }, { partial = false } = {}) => {
    const words = tokens(q);
    const last = partial && !/\s$/.test(q) ? words.pop() : null;
    const has = (id, word) => searchWords.get(id).has(word);
    const starts = (id, prefix) => [...searchWords.get(id)].some((word) => word.startsWith(prefix));
    const viewed = clientId ? viewedByClient(clientId) : [];
    const anchor = viewed.length ? byId.get(viewed[0]) : null;
    const phrase = q.toLowerCase();
    const scored = products.filter((p) => p.available).map((p) => {
      const matched = words.filter((word) => has(p.id, word)).length + (last && starts(p.id, last) ? 1 : 0);
      const total = words.length + (last ? 1 : 0);
      if (!matched || (partial && matched < total)) return [p, 0, ''];
      let score = matched / total + (p.title.toLowerCase().includes(phrase) ? 0.25 : 0);
      const reason = matched === total ? `matches “${q}”` : `close in meaning to “${q}”`;
      const near = anchor && anchor.id !== p.id ? jaccard(wordsOf.get(anchor.id), wordsOf.get(p.id)) : 0;
      score += 0.2 * near;
      return [p, score, near > 0.2 ? `${reason}, close to what you looked at` : reason];
    });
    const results = ranked(scored, limit).map(([p, score, reason]) => item([p, score], reason));
    return { results, personalised: Boolean(anchor), words, last };
  };
  const search = (params) => {
    const asked = searchParams(params, 10);
    const { results, personalised } = find(asked);
    return { query: asked.q, personalised, results };
  };
  // Completions: the typed words, then each title word that starts as the last one does,
  // most found first.
  const suggest = (params) => {
    const asked = searchParams(params, 4);
    const { results, personalised, words, last } = find(asked, { partial: true });
    const counts = new Map();
    if (last) {
      for (const p of products.filter((product) => product.available && words.every((word) => searchWords.get(product.id).has(word)))) {
        for (const word of new Set(titleWords.get(p.id))) {
          if (word.startsWith(last) && word.length > 1) counts.set(word, (counts.get(word) ?? 0) + 1);
        }
      }
    }
    const queries = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_COMPLETIONS)
      .map(([word]) => [...words, word].join(' '));
    return { query: asked.q, queries, personalised, products: results };
  };

  const accept = (body) => {
    if (!Array.isArray(body?.events)) throw new HttpError(400, 'invalid_request', 'the body is {"events": [...]}');
    if (body.events.length > MAX_EVENTS) throw new HttpError(400, 'invalid_request', `at most ${MAX_EVENTS} events per request`);
    const answer = { accepted: 0, duplicates: 0, rejected: [] };
    body.events.forEach((event, index) => {
      const error = validateEvent(event);
      if (error) {
        answer.rejected.push({ index, error });
      } else if (event.id !== undefined && seenEventIds.has(String(event.id))) {
        answer.duplicates += 1;
      } else {
        if (event.id !== undefined) seenEventIds.add(String(event.id));
        events.push({ ...event, received_at: Date.now() });
        answer.accepted += 1;
      }
    });
    return answer;
  };

  const readJson = (request) => new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new HttpError(413, 'payload_too_large', 'body too large'));
      chunks.push(chunk);
    });
    request.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new HttpError(400, 'invalid_json', 'the body is not JSON'));
      }
    });
    request.on('error', reject);
  });

  const handle = async (request) => {
    const url = new URL(request.url, 'http://mock');
    if (url.pathname === '/health') return [200, { status: 'ok' }];
    if (!url.pathname.startsWith('/proxy/')) throw new HttpError(404, 'not_found', 'no such route');
    const pairs = [...url.searchParams];
    const verdict = verifyAppProxyQuery(pairs, secret);
    if (!verdict.valid) {
      // The server's codes: a missing or wrong signature is "who are you", the rest a refusal.
      const unsigned = ['missing or repeated signature', 'signature mismatch'].includes(verdict.reason);
      throw unsigned
        ? new HttpError(401, 'invalid_proxy_signature', `app proxy: ${verdict.reason}`)
        : new HttpError(403, 'proxy_request_refused', `app proxy: ${verdict.reason}`);
    }
    if (url.searchParams.get('shop') !== shop) throw new HttpError(404, 'unknown_shop', 'this shop has not installed the app');
    const route = `${request.method} ${url.pathname}`;
    if (route === 'GET /proxy/recommendations') return [200, recommend(url.searchParams)];
    if (route === 'GET /proxy/recommendations/cards') {
      const answer = recommend(url.searchParams);
      return [200, cardsLiquid({ ...answer, items: answer.recommendations }), 'application/liquid'];
    }
    if (route === 'GET /proxy/search') return [200, search(url.searchParams)];
    if (route === 'GET /proxy/search/cards') {
      const answer = search(url.searchParams);
      return [200, cardsLiquid({ strategy: 'search', items: answer.results, personalised: answer.personalised }), 'application/liquid'];
    }
    if (route === 'GET /proxy/search/suggest') return [200, suggest(url.searchParams)];
    if (route === 'GET /proxy/search/suggest/cards') {
      const answer = suggest(url.searchParams);
      return [200, cardsLiquid({ strategy: 'search', items: answer.products, personalised: answer.personalised, queries: answer.queries }), 'application/liquid'];
    }
    if (route === 'POST /proxy/events') return [200, accept(await readJson(request))];
    throw new HttpError(404, 'not_found', 'no such route');
  };

  const server = http.createServer(async (request, response) => {
    let status;
    let body;
    let type;
    try {
      [status, body, type] = await handle(request);
    } catch (error) {
      status = error instanceof HttpError ? error.status : 500;
      body = { error: { code: error.code ?? 'internal_error', message: error.message } };
      if (status === 500) console.error(error);
    }
    response.writeHead(status, { 'Content-Type': type ?? 'application/json', 'Cache-Control': 'no-store' });
    response.end(type ? body : JSON.stringify(body));
  });

  return {
    server,
    events,
    products,
    listen: (port = 0, host = '127.0.0.1') => new Promise((resolve) => {
      server.listen(port, host, () => resolve(`http://${host}:${server.address().port}`));
    }),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const secret = process.env.KINDRED_PROXY_SECRET;
  if (!secret) {
    console.error('KINDRED_PROXY_SECRET is required: the secret Shopify signs app proxy requests with');
    process.exit(2);
  }
  const mock = createMockKindred({
    secret,
    shop: process.env.SHOP || 'yoga-store.myshopify.com',
    catalog: process.env.KINDRED_CATALOG || DEFAULT_CATALOG,
  });
  const url = await mock.listen(Number(process.env.PORT || 0));
  console.log(JSON.stringify({ url, products: mock.products.length }));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => mock.close().then(() => process.exit(0)));
}
