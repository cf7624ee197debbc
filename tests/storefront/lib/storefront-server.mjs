// A local stand-in for a Shopify storefront: product and search pages rendered from the test
// theme with the real theme app extension in them, in two markets (lib/markets.mjs: the shop's
// own at `/`, a France one in euros and French at `/fr-fr`), the extension's assets, Shopify's app proxy, which
// forwards /apps/kindred/* (and /fr-fr/apps/kindred/*) to Kindred's /proxy/* signed as Shopify
// signs it and renders an `application/liquid` answer in the shopper's market, the cart's
// Ajax API (/cart.js, /cart/add.js, /cart/change.js, /cart/update.js, with the `sections` they
// render), the cart page, the Section Rendering API (`?section_id=`, `?sections=`) and a
// stand-in of Shopify's Customer Privacy API.

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { proxiedQuery } from './app-proxy.mjs';
import { CONSENT_COOKIE, CONSENT_VALUES, customerPrivacyScript } from './consent-api.mjs';
import { PRIMARY, inMarket, marketOf } from './markets.mjs';
import { placeholderImage } from './placeholder.mjs';
import { AllProducts, createThemeRenderer, productDrop } from './theme.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const THEME_DIR = path.resolve(here, '../theme');
export const EXTENSION_DIR = path.resolve(here, '../../../shopify-extension/theme');

export const PROXY_PREFIX = '/apps/kindred';
// A test names each browser it runs with this cookie; every record says which one sent it.
export const VISITOR_COOKIE = 'stand_in_visitor';
const CART_COOKIE = 'cart';
const CDN_ORIGIN = 'https://cdn.shopify.com/';
// Where a shop's own domain serves CDN files; the block resizes these like the CDN's.
const LOCAL_CDN_PREFIX = '/cdn/shop/';

// Where the stand-in `asset_url` points (lib/theme.mjs): the theme's assets and the extension's.
const ASSET_ROOTS = [['/cdn/theme/assets/', THEME_DIR], ['/cdn/extension/assets/', EXTENSION_DIR]];

const CONTENT_TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = /^(text\/|application\/json|image\/svg)/;

const readBody = (request) => new Promise((resolve, reject) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => resolve(Buffer.concat(chunks)));
  request.on('error', reject);
});

const cookies = (request) => Object.fromEntries((request.headers.cookie ?? '').split(';')
  .map((pair) => pair.trim().split('='))
  .filter(([name]) => name)
  .map(([name, ...value]) => [name, decodeURIComponent(value.join('='))]));

const parseJson = (buffer) => {
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch {
    return null;
  }
};

/**
 * Starts the storefront on 127.0.0.1. `products` is the shop's catalogue (Kindred's product
 * shape); `productId` the page `/` redirects to. `localImages` serves product images from
 * this server instead of Shopify's CDN (for a browser that cannot reach it and is not
 * intercepted, such as Lighthouse's).
 */
export async function startStorefront({
  kindredUrl,
  secret,
  shop,
  products,
  productId,
  withApp = true,
  blockSettings = {},
  localImages = false,
  customerId = '',
  currency = 'USD',
  port = 0,
}) {
  const renderer = createThemeRenderer({ themeDir: THEME_DIR, extensionDir: EXTENSION_DIR });
  // The shop's own currency is the primary market's.
  const primary = { ...PRIMARY, currency };
  const inThe = (market) => (market === PRIMARY ? primary : market);
  const byHandle = new Map();
  for (const product of products) if (!byHandle.has(product.handle)) byHandle.set(product.handle, product);
  const home = products.find((product) => product.id === String(productId));
  if (!home) throw new Error(`product ${productId} is not in the catalogue`);
  // Products Kindred recommended that the local catalogue lacks still get a page to land on.
  const recommended = new Map();
  const arrived = [];
  const forwarded = [];
  const carts = new Map();
  const cartRequests = [];
  const waiters = new Set();
  const notify = () => waiters.forEach((waiter) => waiter());
  let held = null;

  const localise = (text) => (localImages ? text.split(CDN_ORIGIN).join(LOCAL_CDN_PREFIX) : text);

  // A page's global objects in a market: its language, its currency, its locale's routes.
  const pageObjects = (pageType, objects, market = PRIMARY) => {
    const root = market.prefix || '';
    return {
      shop: { name: 'Yoga Store', permanent_domain: shop, currency },
      request: { locale: { iso_code: market.locale }, page_type: pageType, design_mode: false, host: '127.0.0.1' },
      routes: { root_url: root || '/', cart_url: `${root}/cart`, cart_add_url: `${root}/cart/add`, search_url: `${root}/search` },
      cart: { currency: { iso_code: inThe(market).currency }, item_count: 0, items: [], total_price: 0 },
      ...objects,
    };
  };
  // A product as the market shows it, its images from this server when asked.
  const shown = (product, market) => inMarket({ ...product, image_url: product.image_url && localise(product.image_url) }, inThe(market));
  const productObjects = (product, market) => pageObjects('product', { product: productDrop(shown(product, market)) }, market);
  // Shopify's own search, as much of it as the theme shows: every word in the title.
  const searchObjects = (terms, market) => {
    const words = terms.toLowerCase().split(/\s+/).filter(Boolean);
    const found = words.length ? products.filter((p) => words.every((word) => p.title.toLowerCase().includes(word))) : [];
    return pageObjects('search', { search: { terms, performed: words.length > 0, results_count: found.length } }, market);
  };
  const byId = new Map(products.map((product) => [product.id, product]));
  const byVariant = new Map(products.filter((product) => product.variant_id).map((product) => [product.variant_id, product]));
  const cents = (price) => Math.round(Number.parseFloat(price ?? 0) * 100);
  // The cart as Liquid and the Ajax API show it, priced in the market's currency.
  const cartView = (state, market) => {
    const items = state.lines.map(({ variantId, quantity }) => {
      const product = shown(byVariant.get(variantId), market);
      return {
        id: Number(variantId), key: `${variantId}:kindred`, variant_id: Number(variantId), product_id: Number(product.id),
        handle: product.handle, title: product.title, product_title: product.title, quantity, url: product.url,
        price: cents(product.price), line_price: cents(product.price) * quantity, final_line_price: cents(product.price) * quantity,
        image: product.image_url,
      };
    });
    return {
      token: state.token, note: state.note, attributes: state.attributes, currency: inThe(market).currency,
      item_count: items.reduce((sum, item) => sum + item.quantity, 0),
      total_price: items.reduce((sum, item) => sum + item.final_line_price, 0),
      items,
    };
  };
  // An `application/liquid` answer rendered in the market, and what it showed, for the tests.
  const renderLiquidAnswer = async (text, market) => {
    const lookup = (handle) => {
      const product = byHandle.get(handle) ?? recommended.get(handle);
      return product && shown(product, market);
    };
    const html = await renderer.renderProxyAnswer(text, pageObjects('app_proxy', { all_products: new AllProducts(lookup) }, market));
    const assigned = (name) => new RegExp(`assign kindred_${name} = '?([^'\\s]*)'?`).exec(text)?.[1] ?? null;
    const ids = [...html.matchAll(/data-product-id="(\d+)"/g)].map(([, id]) => id);
    return {
      html,
      summary: {
        strategy: assigned('strategy'),
        arm: assigned('arm'),
        holdout: assigned('holdout') === 'true',
        control: assigned('control'),
        personalised: assigned('personalised') === null ? undefined : assigned('personalised') === 'true',
        handles: (assigned('handles') ?? '').split(',').filter(Boolean),
        queries: (/assign kindred_queries = '([^']*)'/.exec(text)?.[1] ?? '').split('|').filter(Boolean),
        currency: inThe(market).currency,
        locale: market.locale,
        products: ids.map((id) => shown(byId.get(id), market)),
      },
    };
  };

  const send = (request, response, status, headers, body) => {
    const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body ?? '');
    const type = headers['Content-Type'] ?? '';
    if (COMPRESSIBLE.test(type) && buffer.length > 512 && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
      response.writeHead(status, { ...headers, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
      response.end(gzipSync(buffer));
      return;
    }
    response.writeHead(status, headers);
    response.end(buffer);
  };

  const proxy = async (request, response, url, pathname, market) => {
    const rest = pathname.slice(PROXY_PREFIX.length);
    const query = proxiedQuery(url.searchParams, { shop, customerId, pathPrefix: PROXY_PREFIX, secret });
    const target = new URL(`/proxy${rest}?${query}`, kindredUrl);
    const body = ['GET', 'HEAD'].includes(request.method) ? undefined : await readBody(request);
    const visitor = cookies(request)[VISITOR_COOKIE] ?? '';
    // What the browser asked, before the proxy signs it.
    arrived.push({ method: request.method, path: `/proxy${rest}`, visitor, asked: Object.fromEntries(url.searchParams) });
    notify();
    if (held?.paths.includes(rest)) await held.promise;
    const record = {
      method: request.method,
      path: `/proxy${rest}`,
      visitor,
      query: [...query],
      request_body: body ? parseJson(body) : null,
    };
    let status;
    let responseText;
    let contentType;
    try {
      const answer = await fetch(target, {
        method: request.method,
        body,
        headers: {
          accept: request.headers.accept ?? '*/*',
          ...(request.headers['content-type'] && { 'content-type': request.headers['content-type'] }),
          'x-forwarded-for': request.socket.remoteAddress,
        },
      });
      status = answer.status;
      contentType = answer.headers.get('content-type') ?? 'application/octet-stream';
      responseText = await answer.text();
    } catch (error) {
      status = 502;
      contentType = 'application/json';
      responseText = JSON.stringify({ error: { code: 'proxy_error', message: `Kindred unreachable: ${error.message}` } });
    }
    record.status = status;
    record.market = market.locale;
    // Shopify renders a Liquid answer in the shopper's storefront before the browser sees it.
    if (status === 200 && contentType === 'application/liquid') {
      const rendered = await renderLiquidAnswer(responseText, market);
      responseText = rendered.html;
      contentType = 'text/html; charset=utf-8';
      record.response_body = rendered.summary;
    } else {
      record.response_body = parseJson(Buffer.from(responseText));
    }
    const answered = record.response_body;
    // Search results and suggested products get a page to land on too.
    for (const item of [...(answered?.recommendations ?? []), ...(answered?.results ?? []), ...(answered?.products ?? [])]) {
      if (item?.handle) recommended.set(item.handle, item);
    }
    forwarded.push(record);
    notify();
    send(request, response, status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' }, localise(responseText));
  };

  const staticAsset = (request, response, dir, name) => {
    const file = path.join(dir, 'assets', path.basename(decodeURIComponent(name)));
    if (!fs.existsSync(file)) return send(request, response, 404, { 'Content-Type': 'text/plain' }, 'not found');
    return send(request, response, 200, {
      'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      // Shopify's CDN URLs change with the file, so browsers keep them for a year.
      'Cache-Control': 'public, max-age=31536000',
    }, fs.readFileSync(file));
  };

  // Shopify's cart as its Ajax API shows it: one per `cart` cookie, attributes kept (one set
  // to "" is removed, as Shopify removes it), lines by variant; `sections` in a change's body
  // come back rendered with the cart after it.
  const cartOf = (request, headers) => {
    let token = cookies(request)[CART_COOKIE];
    if (!token || !carts.has(token)) {
      token = `c1-${randomBytes(16).toString('hex')}`;
      carts.set(token, { token, note: null, attributes: {}, lines: [] });
      if (headers) headers['Set-Cookie'] = `${CART_COOKIE}=${token}; Path=/; SameSite=Lax`;
    }
    return carts.get(token);
  };
  const CART_PATHS = { read: '/cart.js', update: '/cart/update.js', add: '/cart/add.js', change: '/cart/change.js' };
  const cart = async (request, response, market, call) => {
    const headers = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
    const state = cartOf(request, headers);
    const body = call === 'read' ? null : parseJson(await readBody(request));
    const fail = (description) => send(request, response, 422, headers, JSON.stringify({ status: 422, message: 'Cart Error', description }));
    let answer = null;
    if (call === 'update') {
      if (!body || typeof body.attributes !== 'object') return fail('attributes must be an object');
      for (const [name, value] of Object.entries(body.attributes ?? {})) {
        if (value === '' || value == null) delete state.attributes[name];
        else state.attributes[name] = String(value);
      }
    }
    if (call === 'add') {
      const items = Array.isArray(body?.items) ? body.items : [body ?? {}];
      const known = items.map((item) => [String(item.id), Math.max(1, Number(item.quantity) || 1)]);
      if (!known.length || known.some(([variant]) => !byVariant.has(variant))) return fail('Cannot find variant');
      for (const [variantId, quantity] of known) {
        const line = state.lines.find((l) => l.variantId === variantId);
        if (line) line.quantity += quantity;
        else state.lines.push({ variantId, quantity });
      }
      const added = new Set(known.map(([variant]) => variant));
      answer = { items: cartView(state, market).items.filter((item) => added.has(String(item.variant_id))) };
    }
    if (call === 'change') {
      const variantId = String(body?.id ?? '').split(':')[0];
      const line = state.lines.find((l) => l.variantId === variantId);
      if (!line) return fail('no such line');
      line.quantity = Math.max(0, Number(body.quantity) || 0);
      state.lines = state.lines.filter((l) => l.quantity > 0);
    }
    answer ??= cartView(state, market);
    const sections = Array.isArray(body?.sections) ? body.sections : String(body?.sections ?? '').split(',').filter(Boolean);
    if (sections.length) answer.sections = await renderSections(sections, request, market);
    cartRequests.push({ method: request.method, path: CART_PATHS[call], visitor: cookies(request)[VISITOR_COOKIE] ?? '', body, attributes: { ...state.attributes } });
    notify();
    return send(request, response, 200, headers, JSON.stringify(answer));
  };
  const renderSections = async (names, request, market) => Object.fromEntries(await Promise.all(names.map(async (name) => [
    name, await renderer.renderSectionById(name, pageObjects('section', { cart: cartView(cartOf(request), market) }, market)),
  ])));

  const themePage = async (request, response, template, objects, market) => {
    const url = new URL(request.url, 'http://storefront');
    const withCart = { ...objects, cart: { ...cartView(cartOf(request), market), currency: { iso_code: inThe(market).currency } } };
    // The Section Rendering API: one section (`section_id`) as HTML, or several (`sections`) as JSON.
    if (url.searchParams.has('section_id')) {
      const html = await renderer.renderSectionById(url.searchParams.get('section_id'), withCart);
      return send(request, response, 200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }, html);
    }
    if (url.searchParams.has('sections')) {
      const rendered = await renderSections(url.searchParams.get('sections').split(','), request, market);
      return send(request, response, 200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, JSON.stringify(rendered));
    }
    // Every Online Store page has Shopify's Customer Privacy API; a test can ask for a page without.
    const head = cookies(request)[CONSENT_COOKIE] === CONSENT_VALUES.absent ? '' : customerPrivacyScript();
    const html = await renderer.renderPage(template, withCart, { withApp, blockSettings, head });
    send(request, response, 200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }, html);
  };

  const route = async (request, response) => {
    const url = new URL(request.url, 'http://storefront');
    // A market's pages, proxy and cart are all under its locale's prefix.
    const { market, path: pathname } = marketOf(url.pathname);
    if (pathname === PROXY_PREFIX || pathname.startsWith(`${PROXY_PREFIX}/`)) return proxy(request, response, url, pathname, market);
    if (pathname === '/') return send(request, response, 302, { Location: market.prefix + home.url }, '');
    if (pathname.startsWith('/products/')) {
      const handle = decodeURIComponent(pathname.slice('/products/'.length));
      const product = byHandle.get(handle) ?? recommended.get(handle);
      if (product) return themePage(request, response, 'product', productObjects(product, market), market);
    }
    if (pathname === '/search') return themePage(request, response, 'search', searchObjects(url.searchParams.get('q') ?? '', market), market);
    if (pathname === '/cart' && request.method === 'GET') return themePage(request, response, 'cart', pageObjects('cart', {}, market), market);
    for (const [prefix, dir] of ASSET_ROOTS) {
      if (pathname.startsWith(prefix)) return staticAsset(request, response, dir, pathname.slice(prefix.length));
    }
    if (pathname.startsWith(LOCAL_CDN_PREFIX)) {
      const image = placeholderImage(request.url);
      return send(request, response, 200, { 'Content-Type': image.contentType, 'Cache-Control': 'public, max-age=31536000' }, image.body);
    }
    if (pathname === '/cart.js' && request.method === 'GET') return cart(request, response, market, 'read');
    for (const call of ['update', 'add', 'change']) {
      if (pathname === `/cart/${call}.js` && request.method === 'POST') return cart(request, response, market, call);
    }
    return send(request, response, 404, { 'Content-Type': 'text/html; charset=utf-8' }, '<!doctype html><title>Not found</title><h1>Not found</h1>');
  };

  const server = http.createServer((request, response) => {
    route(request, response).catch((error) => {
      console.error(error);
      if (!response.headersSent) send(request, response, 500, { 'Content-Type': 'text/plain' }, String(error.stack ?? error));
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;

  return {
    origin,
    url: `${origin}${home.url}`,
    /** The page of a product of the catalogue. */
    productUrl: (id) => `${origin}${byId.get(String(id))?.url ?? home.url}`,
    /** Requests that reached the proxy, answered or not. */
    arrived,
    /** Requests forwarded and answered: query, bodies and status. */
    forwarded,
    /** Requests to the cart's Ajax API: who sent them, their body, the attributes after. */
    cartRequests,
    /**
     * Keeps recommendation requests (or those to the other proxy `paths`, such as `/search`)
     * waiting at the proxy until the returned function is called, so that a test sees the
     * block as a slow network would show it.
     */
    holdRecommendations(paths = ['/recommendations/cards']) {
      let release;
      held = { paths, promise: new Promise((resolve) => { release = resolve; }) };
      return () => {
        held = null;
        release();
      };
    },
    /** Resolves once `predicate()` holds, checked whenever a request arrives or is answered. */
    waitFor(predicate, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}
