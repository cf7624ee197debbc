// A stand-in for Kindred's embedded-admin side: `/app` and `/app/assets/*` served from
// `app/src/http/admin_ui/` as the server serves them (`{{client_id}}` and `{{lang}}` filled
// in), and the `/app/api/*` JSON API of the contract on the real yoga-store catalogue, each
// request's shop taken from its session token (HS256, the app's secret, `aud` the client id).
// The first shop has 30 days of impressions, orders and a holdout; the second has nothing.
// For working on the admin without the Rust server; the Rust test runs admin.mjs against the
// real one.
//
//   node mock-admin.mjs                     serves and prints {"url": ...}
//   node mock-admin.mjs node admin.mjs      runs the command against it with the environment
//                                           admin.mjs reads (KINDRED_URL, API_KEY, ...)

import { spawn } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { DEFAULT_CATALOG, loadCatalog } from './lib/catalog.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const UI = path.resolve(here, '../../app/src/http/admin_ui');
const ASSETS = { 'admin.js': 'text/javascript', 'i18n.js': 'text/javascript', 'charts.js': 'text/javascript', 'insights.js': 'text/javascript', 'merchandising.js': 'text/javascript', 'settings.js': 'text/javascript', 'admin.css': 'text/css' };
const DAY_MS = 86400000;
const STRATEGIES = ['similar', 'for_you', 'complementary', 'trending', 'recently_viewed', 'new_arrivals', 'buy_again'];

class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The shop a session token names, or an HttpError: signature, audience, time, iss = dest. */
function verifiedShop(header, { apiKey, secret }) {
  const token = /^Bearer (.+)$/.exec(header ?? '')?.[1];
  if (!token) throw new HttpError(401, 'unauthorized', 'no session token');
  const [head, body, signature] = token.split('.');
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(signature ?? '', 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new HttpError(401, 'invalid_session_token', 'bad signature');
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
  const now = Date.now() / 1000;
  if (claims.aud !== apiKey || !(claims.exp > now - 10) || !(claims.nbf < now + 10)) throw new HttpError(401, 'invalid_session_token', 'bad claims');
  const shop = new URL(claims.dest).host;
  if (new URL(claims.iss).host !== shop) throw new HttpError(401, 'invalid_session_token', 'iss and dest differ');
  return shop;
}

const item = (product, reason, score) => ({ ...product, score, reason });

/** One shop's state; `seeded` gives it a month of traffic. */
function shopState(products, seeded, now) {
  const daily = [];
  for (let i = 89; i >= 0; i -= 1) {
    const shown = seeded ? 200 + ((i * 37) % 90) : 0;
    const clicked = Math.round(shown * 0.06);
    daily.push({ day: new Date(now - i * DAY_MS).toISOString().slice(0, 10), shown, clicked, added_to_cart: Math.round(clicked / 3), attributed_orders: Math.round(clicked / 8), attributed_units: Math.round(clicked / 6), attributed_revenue: seeded ? Math.round(clicked * 11.5 * 100) / 100 : 0 });
  }
  return {
    products: seeded ? products : [],
    daily,
    rules: { exclude: [], pin: [], boost: [], bury: [], max_per_vendor: null, collapse_variants: true, diversity: 0.3, exclude_gift_cards: true, exclude_purchased: true },
    settings: { attribution_window_hours: 72, event_retention_days: 400, holdout: { enabled: true, share_percent: 10, control: 'none' } },
    experiments: [{ id: 'holdout', name: 'Holdout', kind: 'holdout', placement: null, status: 'running', arms: [{ name: 'kindred', weight: 90, strategy: null }, { name: 'holdout', weight: 10, strategy: null }], created_at_ms: now - 40 * DAY_MS, started_at_ms: now - 40 * DAY_MS, stopped_at_ms: null }],
    keys: [{ key_id: 'a1b2c3d4', scope: 'storefront', shop: null, origin: 'generated', created_at_ms: now - 5 * DAY_MS, revoked_at_ms: null }],
    origins: [],
    failed: seeded ? [{ webhook_id: 'wh-1', topic: 'products/update', attempts: 5, last_error: 'storage unavailable', received_at_ms: now - DAY_MS }] : [],
    plan: 'free',
  };
}

function report(state, days) {
  const daily = state.daily.slice(-days);
  const sum = (field) => daily.reduce((total, day) => total + day[field], 0);
  const shown = sum('shown');
  const rows = shown ? [
    { strategy: 'similar', placement: 'product', share: 0.6 }, { strategy: 'complementary', placement: 'cart', share: 0.3 }, { strategy: 'trending', placement: null, share: 0.1 },
  ].map(({ strategy, placement, share }) => ({
    strategy, placement, shown: Math.round(shown * share), clicked: Math.round(sum('clicked') * share), click_through_rate: sum('clicked') / shown,
    added_to_cart: Math.round(sum('added_to_cart') * share), attributed_orders: Math.round(sum('attributed_orders') * share), attributed_units: Math.round(sum('attributed_units') * share),
    attributed_revenue: Math.round(sum('attributed_revenue') * share * 100) / 100,
  })) : [];
  return {
    currency: 'EUR', days, window_hours: state.settings.attribution_window_hours, daily, rows,
    orders: { with_recommendations: { orders: sum('attributed_orders'), revenue: sum('attributed_revenue'), aov: shown ? 92.4 : 0 }, without: { orders: shown ? 410 : 0, revenue: shown ? 31200 : 0, aov: shown ? 76.1 : 0 } },
    holdout: shown ? { lift: { estimate: 0.041, low: 0.012, high: 0.07 }, verdict: 'Kindred added 4.1% revenue per visitor, 95% interval 1.2%–7.0%' } : { lift: null, verdict: 'Not enough visitors in the holdout yet.' },
  };
}

/** What the rules leave of a shelf: the exclusions only, which is what the test looks at. */
const applyRules = (items, rules) => items.filter((p) => !rules.exclude.some((m) => m.product_id === p.id));

function shelves(state, productId) {
  const others = state.products.filter((p) => p.id !== productId);
  if (productId && others.length === state.products.length) throw new HttpError(404, 'not_found', `product ${productId} of this shop`);
  return STRATEGIES.slice(0, 4).map((strategy, s) => ({
    strategy, used_strategy: strategy,
    recommendations: applyRules(others.slice(s * 3, s * 3 + 6), state.rules).map((p, i) => item(p, `${strategy} pick`, 1 - i / 10)),
  }));
}

function createExperiment(state, body, now) {
  if (!body.name || !Array.isArray(body.arms) || body.arms.length < 2) throw new HttpError(400, 'invalid_input', 'an experiment needs a name and two arms');
  const experiment = { id: `exp-${randomBytes(4).toString('hex')}`, name: body.name, kind: 'ab', placement: body.placement ?? null, status: 'draft', arms: body.arms.map((a) => ({ name: a.name, weight: a.weight, strategy: a.strategy ?? null })), created_at_ms: now, started_at_ms: null, stopped_at_ms: null };
  state.experiments.push(experiment);
  return experiment;
}

function results(state, id) {
  const experiment = state.experiments.find((e) => e.id === id);
  if (!experiment) throw new HttpError(404, 'not_found', `experiment ${id}`);
  const arms = experiment.arms.map((arm, i) => ({
    name: arm.name, visitors: 1000 + i * 20, orders: 40 + i * 3, converted: 38 + i * 3, revenue: 3600 + i * 200, revenue_per_visitor: 3.6 + i * 0.1, conversion_rate: 0.038 + i * 0.002, aov: 90 + i,
    revenue_per_visitor_lift: i ? { estimate: 0.03, low: -0.01, high: 0.07 } : null, conversion_lift: i ? { estimate: 0.05, low: -0.02, high: 0.12 } : null,
  }));
  return { experiment, currency: 'EUR', control_arm: experiment.arms[experiment.kind === 'holdout' ? 1 : 0].name, method: 'Intervals are 95% bootstrap intervals over visitors.', arms, sample_ratio: { p_value: 0.41, mismatch: false }, verdict: 'No clear difference yet: 3.0% revenue per visitor, 95% interval -1.0%–7.0%' };
}

async function readJson(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString();
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    throw new HttpError(400, 'invalid_json', 'the body is not JSON');
  }
}

/** The API: [method, path pattern, handler(state, match, body, url)]. */
const ROUTES = [
  ['GET', /^\/status$/, (s, m, b, u, shop) => ({ shop, products: s.products.length, indexed: s.products.length, sync: s.products.length ? { state: 'completed', finished_at: Date.now() - 3600000, last_error: null } : null, order_sync: null, orders: 120, test_orders: 2, web_pixel: s.products.length ? '123' : null, webhooks: { pending: 0, applied: 50, failed: s.failed.length }, plan: { id: s.plan, name: s.plan } })],
  ['POST', /^\/(orders\/)?sync$/, () => [202, { sync: 'requested' }]],
  ['GET', /^\/report$/, (s, m, b, u) => report(s, Math.min(90, Number(u.searchParams.get('days') ?? 30)))],
  ['GET', /^\/settings$/, (s) => s.settings],
  ['PUT', /^\/settings$/, (s, m, b) => {
    s.settings = { ...s.settings, ...(b.attribution_window_hours ? { attribution_window_hours: b.attribution_window_hours } : {}), holdout: { ...s.settings.holdout, ...(b.holdout ?? {}) } };
    return s.settings;
  }],
  ['GET', /^\/rules$/, (s) => s.rules],
  ['PUT', /^\/rules$/, (s, m, b) => {
    for (const [i, match] of (b.exclude ?? []).entries()) if (match.product_id && !/^\d+$/.test(match.product_id)) throw new HttpError(400, 'invalid_input', `exclude[${i}]: \`product_id\` is not a Shopify id`);
    s.rules = { ...s.rules, ...b };
    return s.rules;
  }],
  ['POST', /^\/rules\/preview$/, (s, m, b) => {
    const shelf = shelves(s, b.product_id)[0];
    return { before: { strategy: shelf.strategy, recommendations: shelf.recommendations }, after: { strategy: shelf.strategy, recommendations: applyRules(shelf.recommendations, b.rules) } };
  }],
  ['GET', /^\/preview$/, (s, m, b, u) => ({ currency: 'EUR', shelves: shelves(s, u.searchParams.get('product_id')) })],
  ['GET', /^\/shoppers\/recent$/, (s) => ({ shoppers: s.products.length ? [{ client_id: 'c0ffee00-1111-2222-3333-444455556666', last_seen_ms: Date.now() - 600000, events: 14 }] : [] })],
  ['GET', /^\/experiments$/, (s) => ({ experiments: s.experiments })],
  ['POST', /^\/experiments$/, (s, m, b) => [201, createExperiment(s, b, Date.now())]],
  ['POST', /^\/experiments\/([^/]+)\/(start|stop)$/, (s, m) => {
    const experiment = s.experiments.find((e) => e.id === m[1]);
    if (!experiment) throw new HttpError(404, 'not_found', `experiment ${m[1]}`);
    experiment.status = m[2] === 'start' ? 'running' : 'stopped';
    experiment[m[2] === 'start' ? 'started_at_ms' : 'stopped_at_ms'] = Date.now();
    return experiment;
  }],
  ['GET', /^\/experiments\/([^/]+)\/results$/, (s, m) => results(s, m[1])],
  ['GET', /^\/keys$/, (s, m, b, u, shop) => ({ shop, keys: s.keys })],
  ['POST', /^\/keys$/, (s, m, b) => {
    const info = { key_id: randomBytes(4).toString('hex'), scope: b.scope, shop: null, origin: 'generated', created_at_ms: Date.now(), revoked_at_ms: null };
    s.keys.push(info);
    return [201, { key: `kdr_sf_${randomBytes(32).toString('hex')}`, info }];
  }],
  ['DELETE', /^\/keys\/([^/]+)$/, (s, m) => {
    const key = s.keys.find((k) => k.key_id === m[1]);
    if (!key) throw new HttpError(404, 'not_found', `key ${m[1]}`);
    key.revoked_at_ms = Date.now();
    return { revoked: key };
  }],
  ['GET', /^\/allowed-origins$/, (s) => ({ origins: s.origins })],
  ['PUT', /^\/allowed-origins$/, (s, m, b) => {
    s.origins = [...new Set(b.origins.map((o) => new URL(o).origin))];
    return { origins: s.origins };
  }],
  ['GET', /^\/webhooks\/failed$/, (s) => ({ deliveries: s.failed })],
  ['POST', /^\/webhooks\/([^/]+)\/retry$/, (s, m) => {
    s.failed = s.failed.filter((d) => d.webhook_id !== m[1]);
    return { webhook_id: m[1], state: 'pending' };
  }],
  ['GET', /^\/billing$/, (s) => ({
    plan: s.plan, subscription: null,
    plans: [
      { id: 'free', name: 'Free', price: 0, currency: 'USD', interval: 'EVERY_30_DAYS', trial_days: 0, features: ['1,000 recommendations a month', 'Similar products and trending'] },
      { id: 'growth', name: 'Growth', price: 29, currency: 'USD', interval: 'EVERY_30_DAYS', trial_days: 14, features: ['Unlimited recommendations', 'Every strategy', 'A/B tests'] },
    ],
  })],
  ['POST', /^\/billing\/subscribe$/, (s, m, b) => ({ confirmation_url: `https://admin.shopify.com/charges/confirm?plan=${b.plan}` })],
];

export function createMockAdmin({ apiKey, secret, shops, catalog = DEFAULT_CATALOG }) {
  const products = loadCatalog(catalog).slice(0, 60);
  const now = Date.now();
  const states = new Map(shops.map((shop, i) => [shop, shopState(products, i === 0, now)]));

  const send = (response, status, body, type = 'application/json') => {
    response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    response.end(type === 'application/json' ? JSON.stringify(body) : body);
  };

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url, 'http://mock');
    try {
      if (request.method === 'GET' && url.pathname === '/app') {
        const lang = (url.searchParams.get('locale') ?? 'en').slice(0, 2);
        const page = fs.readFileSync(path.join(UI, 'index.html'), 'utf8')
          .replace('{{client_id}}', apiKey).replace('{{lang}}', ['en', 'fr', 'de'].includes(lang) ? lang : 'en');
        return send(response, 200, page, 'text/html; charset=utf-8');
      }
      const asset = /^\/app\/assets\/([a-z0-9_]+\.(js|css))$/.exec(url.pathname)?.[1];
      if (request.method === 'GET' && asset && ASSETS[asset]) {
        return send(response, 200, fs.readFileSync(path.join(UI, asset), 'utf8'), `${ASSETS[asset]}; charset=utf-8`);
      }
      if (!url.pathname.startsWith('/app/api/')) throw new HttpError(404, 'not_found', url.pathname);
      const shop = verifiedShop(request.headers.authorization, { apiKey, secret });
      const state = states.get(shop);
      if (!state) throw new HttpError(401, 'not_installed', `${shop} is not installed`);
      const route = url.pathname.slice('/app/api'.length);
      for (const [method, pattern, handle] of ROUTES) {
        const match = pattern.exec(route);
        if (!match || method !== request.method) continue;
        const body = ['POST', 'PUT'].includes(method) ? await readJson(request) : null;
        const answer = handle(state, match, body, url, shop);
        const [status, value] = Array.isArray(answer) ? answer : [200, answer];
        return send(response, status, value);
      }
      throw new HttpError(404, 'not_found', `${request.method} ${url.pathname}`);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) console.error(error);
      return send(response, status, { error: { code: error.code ?? 'internal', message: error.message } });
    }
  });

  return {
    products,
    listen: () => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`))),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = {
    ...process.env,
    API_KEY: process.env.API_KEY || 'mock-client-id',
    API_SECRET: process.env.API_SECRET || randomBytes(32).toString('hex'),
    SHOP: process.env.SHOP || 'yoga-store.myshopify.com',
    OTHER_SHOP: process.env.OTHER_SHOP || 'other-store.myshopify.com',
  };
  const mock = createMockAdmin({ apiKey: env.API_KEY, secret: env.API_SECRET, shops: [env.SHOP, env.OTHER_SHOP] });
  env.KINDRED_URL = await mock.listen();
  env.PICK_PRODUCT ||= mock.products[0].id;
  env.EXCLUDE_PRODUCT ||= mock.products[1].id;
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    console.log(JSON.stringify({ url: env.KINDRED_URL, api_key: env.API_KEY, api_secret: env.API_SECRET, shop: env.SHOP, pick_product: env.PICK_PRODUCT }));
  } else {
    const child = spawn(command, args, { env, stdio: 'inherit' });
    child.on('exit', async (code, signal) => {
      await mock.close();
      process.exit(code ?? (signal ? 1 : 0));
    });
  }
}
