// The theme app extension as Shopify will take it: the limits Shopify sets on its files, its
// locales in step, and its blocks rendered into a theme page the way the storefront does.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import vm from 'node:vm';

import { cardsLiquid } from './lib/cards-liquid.mjs';
import { loadCatalog } from './lib/catalog.mjs';
import { FRANCE, inMarket } from './lib/markets.mjs';
import { EXTENSION_DIR, THEME_DIR } from './lib/storefront-server.mjs';
import { AllProducts, createThemeRenderer, productDrop, readSchema } from './lib/theme.mjs';

const files = (dir) => fs.readdirSync(path.join(EXTENSION_DIR, dir)).map((name) => path.join(EXTENSION_DIR, dir, name));
const keys = (node, prefix = '') => Object.entries(node).flatMap(([key, value]) => (
  typeof value === 'object' ? keys(value, `${prefix}${key}.`) : [`${prefix}${key}`]
)).sort();
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

test('only the file types Shopify allows, in the folders it allows them', () => {
  const allowed = { assets: /\.(js|css|svg|png|jpe?g|gif|webp|woff2?)$/, blocks: /\.liquid$/, snippets: /\.liquid$/, locales: /\.json$/ };
  for (const entry of fs.readdirSync(EXTENSION_DIR, { withFileTypes: true })) {
    if (!entry.isDirectory()) {
      assert.match(entry.name, /^(shopify\.extension\.toml|README\.md)$/, entry.name);
      continue;
    }
    assert.ok(allowed[entry.name], `folder ${entry.name}`);
    for (const name of fs.readdirSync(path.join(EXTENSION_DIR, entry.name))) assert.match(name, allowed[entry.name], name);
  }
});

test("within Shopify's size limits: Liquid under 100 KB in all, app block scripts under 10 KB, locales under 15 KB", () => {
  const liquid = [...files('blocks')].reduce((sum, file) => sum + fs.statSync(file).size, 0);
  assert.ok(liquid < 100_000, `${liquid} bytes of Liquid`);
  for (const file of files('blocks')) {
    const { javascript } = readSchema(file);
    if (!javascript) continue;
    const size = fs.statSync(path.join(EXTENSION_DIR, 'assets', javascript)).size;
    assert.ok(size < 10_000, `${javascript}: ${size} bytes`);
  }
  for (const file of files('locales')) assert.ok(fs.statSync(file).size < 15_000, path.basename(file));
});

test('every locale has exactly the keys of the default one', () => {
  const storefront = keys(readJson(path.join(EXTENSION_DIR, 'locales/en.default.json')));
  const schema = keys(readJson(path.join(EXTENSION_DIR, 'locales/en.default.schema.json')));
  for (const file of files('locales')) {
    if (path.basename(file).startsWith('en.default')) continue;
    assert.deepEqual(keys(readJson(file)), file.endsWith('.schema.json') ? schema : storefront, path.basename(file));
  }
});

const renderer = createThemeRenderer({ themeDir: THEME_DIR, extensionDir: EXTENSION_DIR });
// The pages below are in French (`request.locale`), as are the extension's words on them.
const translations = readJson(path.join(EXTENSION_DIR, 'locales/fr.json'));
const product = loadCatalog().find((p) => p.id === '4357742755898');
const objects = {
  shop: { name: 'Yoga Store', currency: 'USD' },
  request: { locale: { iso_code: 'fr' }, page_type: 'product', design_mode: false },
  routes: { root_url: '/', cart_url: '/cart', cart_add_url: '/cart/add', search_url: '/search' },
  cart: { currency: { iso_code: 'EUR' }, item_count: 0 },
  product: productDrop(product),
};

test('the app block renders a skeleton of `limit` cards and hands its settings to the script', async () => {
  const html = await renderer.renderPage('product', objects, { blockSettings: { limit: 6, heading: '' } });
  const block = /<section\s+class="kindred-recommendations"[\s\S]*?<\/section>/.exec(html)?.[0];
  assert.ok(block, 'no block in the page');
  assert.equal(block.match(/kindred-card--skeleton/g).length, 6);
  assert.match(block, /data-product-id="4357742755898"/);
  assert.match(block, /data-currency="EUR"/);
  assert.match(block, /data-locale="fr"/);
  assert.match(block, /data-limit="6"/);
  assert.match(block, /data-proxy-base="\/apps\/kindred"/);
  // The page is in French: so are the block's words.
  assert.match(block, new RegExp(`>${translations.recommendations.heading}</h2>`));
  assert.doesNotMatch(html, /translation missing/);
});

test("the schema's assets load once per page: the stylesheet in the head, the scripts deferred", async () => {
  const html = await renderer.renderPage('product', objects);
  const head = html.slice(0, html.indexOf('</head>'));
  assert.match(head, /kindred-recommendations\.css/);
  for (const script of ['kindred-recommendations.js', 'kindred-tracking.js']) {
    const tags = html.match(new RegExp(`<script[^>]*${script.replace('.', '\\.')}[^>]*>`, 'g'));
    assert.equal(tags.length, 1, script);
    assert.match(tags[0], /\sdefer[\s>]/, script);
  }
  assert.match(html, /data-kindred-tracking[\s\S]*data-product-id="4357742755898"/);
});

test('without the app, the page has none of it', async () => {
  const html = await renderer.renderPage('product', objects, { withApp: false });
  assert.doesNotMatch(html, /kindred/i);
});

// The block's script on the block the Liquid renders, in a page just big enough for it:
// elements with attributes, dataset and listeners; the network, the viewport and the timers
// are the test's to drive.

const SCRIPT = fs.readFileSync(path.join(EXTENSION_DIR, 'assets/kindred-recommendations.js'), 'utf8');
const CONTROL_SCRIPT = fs.readFileSync(path.join(EXTENSION_DIR, 'assets/kindred-control.js'), 'utf8');
const catalog = loadCatalog();
const [MAT, STRAP, BLOCKS] = ['4357742690362', '876111003695', '6857887940772'].map((id) => catalog.find((p) => p.id === id));

const dataAttribute = (key) => `data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
const unescapeHtml = (text) => text.replace(/&(quot|#34|#39|lt|gt|amp);/g, (_, e) => ({ quot: '"', '#34': '"', '#39': "'", lt: '<', gt: '>', amp: '&' })[e]);
const VOID_ELEMENTS = new Set(['img', 'br', 'input', 'meta', 'link']);

class FakeElement {
  constructor(tag, attributes = {}) {
    this.tagName = tag.toUpperCase();
    this.attributes = new Map(Object.entries(attributes));
    this.children = [];
    this.parent = null;
    this.listeners = {};
    this.hidden = false;
    const attrs = this.attributes;
    this.dataset = new Proxy({}, {
      get: (_, key) => (typeof key === 'string' ? attrs.get(dataAttribute(key)) : undefined),
      set: (_, key, value) => { attrs.set(dataAttribute(key), String(value)); return true; },
      has: (_, key) => attrs.has(dataAttribute(key)),
    });
  }

  setAttribute(name, value) { this.attributes.set(name, String(value)); }
  getAttribute(name) { return this.attributes.get(name) ?? null; }
  append(...nodes) {
    for (const node of nodes) {
      const child = typeof node === 'string' ? { text: node } : node;
      child.parent = this;
      this.children.push(child);
    }
  }

  replaceChildren(...nodes) { this.children = []; this.append(...nodes); }
  remove() { if (this.parent) this.parent.children = this.parent.children.filter((c) => c !== this); }
  get lastChild() { return this.children.at(-1) ?? null; }
  get classList() { return { contains: (name) => (this.getAttribute('class') ?? '').split(/\s+/).includes(name) }; }
  get textContent() { return this.children.map((c) => c.text ?? c.textContent).join(''); }
  set textContent(text) { this.replaceChildren(String(text)); }
  // `.class`, `[attribute]` or a tag name, or a comma-separated list of them.
  matches(selector) {
    return selector.split(',').some((one) => {
      const [, kind, name] = /^([.[]?)([\w-]+)\]?$/.exec(one.trim());
      if (kind === '.') return this.classList.contains(name);
      return kind === '[' ? this.attributes.has(name) : this.tagName === name.toUpperCase();
    });
  }

  querySelectorAll(selector) {
    const elements = this.children.filter((c) => c instanceof FakeElement);
    return elements.flatMap((c) => [...(c.matches(selector) ? [c] : []), ...c.querySelectorAll(selector)]);
  }

  querySelector(selector) { return this.querySelectorAll(selector)[0] ?? null; }
  closest(selector) { return this.matches(selector) ? this : this.parent?.closest?.(selector) ?? null; }
  addEventListener(type, listener) { (this.listeners[type] ??= []).push(listener); }
  dispatch(type, event = {}) { for (const listener of this.listeners[type] ?? []) listener({ type, target: this, ...event }); }
  dispatchEvent(event) { this.dispatch(event.type, { detail: event.detail }); }
}

/** Well-formed HTML (what the storefront renders of Kindred's cards) as fake elements. */
const parseHtml = (html) => {
  const document = new FakeElement('#document');
  let open = document;
  for (const [, closing, tag, attributes, text] of html.matchAll(/<(\/?)([a-z][\w-]*)([^>]*)>|([^<]+)/gi)) {
    if (text !== undefined) {
      if (text.trim()) open.append(unescapeHtml(text));
      continue;
    }
    if (closing) {
      open = open.parent ?? document;
      continue;
    }
    const element = new FakeElement(tag, Object.fromEntries(
      [...attributes.matchAll(/([\w-]+)(?:="([^"]*)")?/g)].map(([, name, value]) => [name, unescapeHtml(value ?? '')]),
    ));
    open.append(element);
    if (!VOID_ELEMENTS.has(tag.toLowerCase())) open = element;
  }
  return document;
};

/** The rendered block's `<section>` as an element holding its (skeleton-free) grid. */
const blockElement = (html) => {
  const [, attributes] = /<section\s+(class="kindred-recommendations[^"]*"[^>]*)>/.exec(html);
  const root = new FakeElement('section', Object.fromEntries(
    [...attributes.matchAll(/([\w-]+)(?:="([^"]*)")?/g)].map(([, name, value]) => [name, unescapeHtml(value ?? '')]),
  ));
  root.append(new FakeElement('ul', { class: 'kindred-grid' }));
  return root;
};

/**
 * Renders the block for `request`, runs its script on it and answers its requests: `kindred`
 * is the recommendations answer (or the search answer, on the `search` template with the
 * `search` object), `shopify` the Product Recommendations API's.
 */
async function runBlock({
  kindred, shopify = { products: [] }, request = {}, product = objects.product, routes = {}, blockSettings = {}, template = 'product', search,
}) {
  const page = { ...objects, request: { ...objects.request, ...request }, routes: { ...objects.routes, ...routes }, product, search };
  const root = blockElement(await renderer.renderPage(template, page, { blockSettings }));
  const requests = [];
  const timers = [];
  const observers = new Set();
  const warnings = [];
  const scripts = [];
  const json = (body) => new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } });
  // Kindred's Liquid answer, rendered as the storefront renders it, in the page's market.
  const market = page.routes.root_url === FRANCE.prefix ? FRANCE : null;
  const lookup = (handle) => {
    const found = catalog.find((p) => p.handle === handle);
    return found && (market ? inMarket(found, market) : found);
  };
  const cards = async (search) => {
    const liquid = cardsLiquid({
      strategy: search ? 'search' : kindred.strategy,
      items: (search ? kindred.results : kindred.recommendations) ?? [],
      experiment: kindred.experiment,
      personalised: search ? kindred.personalised : undefined,
    });
    const html = await renderer.renderProxyAnswer(liquid, { ...page, all_products: new AllProducts(lookup) });
    return new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
  };
  const proxied = (url) => url.replace(/^\/[a-z]{2}(-[a-z]{2})?\/apps\//, '/apps/');
  const window = {
    document: {
      readyState: 'complete',
      visibilityState: 'visible',
      createElement: (tag) => new FakeElement(tag),
      querySelectorAll: (selector) => (root.matches(selector) ? [root] : []),
      addEventListener() {},
      importNode: (node) => node,
      // The control's script, loaded as the block asks for it.
      head: { append: (script) => { vm.runInContext(CONTROL_SCRIPT, window); scripts.push(script.src); script.onload(); } },
    },
    DOMParser: class { parseFromString(html) { return parseHtml(html); } },
    CustomEvent: class { constructor(type, init = {}) { this.type = type; this.detail = init.detail; } },
    localStorage: { items: new Map(), getItem(key) { return this.items.get(key) ?? null; }, setItem(key, value) { this.items.set(key, value); } },
    location: { href: 'https://yoga-store.myshopify.com/products/prolite-yoga-mat' },
    navigator: {
      sendBeacon: (url, blob) => { requests.push({ url, body: blob.text(), beacon: true }); return true; },
    },
    fetch: async (url, options = {}) => {
      requests.push({ url, body: options.body });
      if (proxied(url).startsWith('/apps/kindred/recommendations/cards?')) return cards(false);
      if (proxied(url).startsWith('/apps/kindred/search/cards?')) return cards(true);
      if (url.includes('/recommendations/products.json?')) return json(shopify);
      return json({ accepted: 1 });
    },
    IntersectionObserver: class {
      constructor(callback) { this.callback = callback; this.targets = new Set(); observers.add(this); }
      observe(target) { this.targets.add(target); }
      unobserve(target) { this.targets.delete(target); }
      disconnect() { this.targets.clear(); }
    },
    setTimeout: (callback) => timers.push(callback),
    clearTimeout: (id) => { timers[id - 1] = null; },
    addEventListener: (type, listener) => root.addEventListener(`window:${type}`, listener),
    console: { warn: (...args) => warnings.push(args.join(' ')) },
    crypto, Blob, URL, URLSearchParams, AbortSignal,
    // Shopify's own script, as the theme editor has it.
    Shopify: page.request.design_mode ? { designMode: true } : undefined,
  };
  window.window = window;
  vm.createContext(window);
  vm.runInContext(SCRIPT, window);

  return {
    root,
    warnings,
    /** The block comes on screen, loads, and its cards are seen: what the observers report. */
    scrollIntoView: async () => {
      const reveal = () => [...observers].filter((o) => o.targets.size)
        .forEach((o) => o.callback([...o.targets].map((target) => ({ isIntersecting: true, intersectionRatio: 1, intersectionRect: { width: 533, height: 533 }, target }))));
      reveal();
      for (let i = 0; i < 50 && !['loaded', 'empty'].includes(root.dataset.kindredState); i += 1) await new Promise(setImmediate);
      reveal();
    },
    runTimers: () => timers.splice(0).forEach((callback) => callback?.()),
    click: (card) => root.querySelector('.kindred-grid').dispatch('click', { target: card.querySelector('.kindred-card__link'), button: 0 }),
    leave: () => root.dispatch('window:pagehide'),
    scripts,
    recommendationsQuery: () => new URL(requests.find((r) => proxied(r.url).startsWith('/apps/kindred/recommendations/cards?')).url, 'https://shop').searchParams,
    kindredPaths: () => requests.map((r) => r.url.split('?')[0]).filter((url) => /^(\/[a-z]{2}(-[a-z]{2})?)?\/apps\/kindred\//.test(url)),
    searchQuery: () => new URL(requests.find((r) => proxied(r.url).startsWith('/apps/kindred/search/cards?')).url, 'https://shop').searchParams,
    shopifyRequests: () => requests.filter((r) => r.url.includes('/recommendations/products.json')).map((r) => r.url),
    events: async () => (await Promise.all(requests.filter((r) => r.url.endsWith('/events')).map((r) => r.body)))
      .flatMap((body) => JSON.parse(body).events),
    cards: () => root.querySelectorAll('.kindred-card').map((card) => ({
      id: card.dataset.productId,
      title: card.querySelector('.kindred-card__link').textContent,
      href: card.querySelector('.kindred-card__link').getAttribute('href'),
      image: card.querySelector('.kindred-card__media').children[0]?.getAttribute('src') ?? null,
      price: card.querySelector('.kindred-card__price')?.textContent ?? null,
    })),
  };
}

const kindredItem = (p) => ({ id: p.id, handle: p.handle, title: p.title, vendor: p.vendor, url: p.url, price: p.price, compare_at_price: p.compare_at_price, image_url: p.image_url });
// The Product Recommendations API's shape: numeric ids, prices in cents, protocol-relative images.
const shopifyProduct = (p) => ({
  id: Number(p.id), title: p.title, handle: p.handle, vendor: p.vendor, url: `${p.url}?pr_prod_strat=collection_fallback&pr_seq=uniform`,
  price: Math.round(Number(p.price) * 100), compare_at_price: p.compare_at_price && Math.round(Number(p.compare_at_price) * 100),
  featured_image: p.image_url.replace(/^https:/, ''),
});
const euros = (amount) => new Intl.NumberFormat('fr', { style: 'currency', currency: 'EUR' }).format(amount);
const holdout = (control) => ({ id: 'holdout', arm: 'holdout', holdout: true, control });

test('the block names its placement, the page type, in its recommendations query and in every event it sends', async () => {
  const block = await runBlock({ kindred: { strategy: 'similar', recommendations: [MAT, STRAP].map(kindredItem) } });
  assert.equal(block.root.dataset.placement, 'product');
  await block.scrollIntoView();
  const query = block.recommendationsQuery();
  assert.equal(query.get('placement'), 'product');
  assert.equal(query.get('strategy'), 'similar');
  assert.equal(query.get('product_id'), '4357742755898');

  block.runTimers();
  block.click(block.root.querySelectorAll('.kindred-card')[1]);
  const events = await block.events();
  assert.deepEqual(events.map((e) => [e.type, e.product_id, e.strategy, e.placement]), [
    ['recommendation_viewed', MAT.id, 'similar', 'product'],
    ['recommendation_viewed', STRAP.id, 'similar', 'product'],
    ['recommendation_clicked', STRAP.id, 'similar', 'product'],
  ]);
  assert.equal(block.root.dataset.kindredArm, undefined);
  assert.deepEqual(block.warnings, []);
});

test("a merchant's placement setting replaces the page type, kept to a-z, 0-9 and _ and 40 characters", async () => {
  const named = async (placement, page_type = 'product') => {
    const block = await runBlock({ kindred: { recommendations: [] }, request: { page_type }, blockSettings: { placement } });
    await block.scrollIntoView();
    return block.recommendationsQuery().get('placement');
  };
  assert.equal(await named('Cart drawer, upsell'), 'cart_drawer_upsell');
  assert.equal(await named('', 'customers/account'), 'customers_account');
  assert.equal(await named('x'.repeat(60)), 'x'.repeat(40));
});

test('a holdout whose control is none collapses as an empty answer does, and sends nothing', async () => {
  const block = await runBlock({ kindred: { strategy: 'similar', experiment: holdout('none'), recommendations: [] } });
  await block.scrollIntoView();
  assert.equal(block.root.dataset.kindredState, 'empty');
  assert.equal(block.root.hidden, true);
  assert.equal(block.root.getAttribute('aria-busy'), 'false');
  assert.equal(block.root.dataset.kindredArm, 'holdout');
  assert.deepEqual(block.shopifyRequests(), []);
  block.runTimers();
  block.leave();
  assert.deepEqual(await block.events(), []);

  // In the theme editor, the note an empty answer shows.
  const preview = await runBlock({ kindred: { experiment: holdout('none'), recommendations: [] }, request: { design_mode: true } });
  await preview.scrollIntoView();
  assert.equal(preview.root.hidden, false);
  assert.equal(preview.root.querySelector('.kindred-recommendations__note').textContent, preview.root.dataset.labelEmpty);
});

test("a holdout whose control is Shopify shows Shopify's related products, priced from cents, and sends no events", async () => {
  const block = await runBlock({
    kindred: { strategy: 'similar', experiment: holdout('shopify'), recommendations: [] },
    shopify: { products: [MAT, BLOCKS].map(shopifyProduct) },
    blockSettings: { limit: 4 },
  });
  await block.scrollIntoView();
  assert.deepEqual(block.shopifyRequests(), ['/recommendations/products.json?product_id=4357742755898&limit=4&intent=related']);
  assert.equal(block.root.dataset.kindredState, 'loaded');
  assert.equal(block.root.dataset.kindredArm, 'holdout');
  const [mat, blocks] = block.cards();
  assert.deepEqual(mat, {
    id: MAT.id,
    title: MAT.title,
    href: shopifyProduct(MAT).url,
    image: `${MAT.image_url}&width=533`,
    price: euros(Number(MAT.price)),
  });
  // On sale: 110.00 (11000 cents) instead of 126.00.
  const { labelSale, labelSalePrice, labelRegularPrice } = block.root.dataset;
  assert.equal(blocks.price, `${labelSale} ${labelSalePrice} ${euros(110)} ${labelRegularPrice} ${euros(126)}`);

  block.runTimers();
  block.click(block.root.querySelectorAll('.kindred-card')[0]);
  block.leave();
  assert.deepEqual(await block.events(), []);
  assert.deepEqual(block.warnings, []);
});

test("a holdout with Shopify's control but no product to relate to collapses without asking Shopify", async () => {
  const block = await runBlock({
    kindred: { strategy: 'trending', experiment: holdout('shopify'), recommendations: [] },
    request: { page_type: 'index' },
    product: null,
    shopify: { products: [MAT].map(shopifyProduct) },
  });
  await block.scrollIntoView();
  assert.equal(block.recommendationsQuery().get('placement'), 'index');
  assert.equal(block.root.dataset.kindredState, 'empty');
  assert.deepEqual(block.shopifyRequests(), []);
});

test("under a language's root URL, Shopify's control is asked there and every link carries the root once", async () => {
  const held = await runBlock({
    kindred: { experiment: holdout('shopify'), recommendations: [] },
    routes: { root_url: '/fr' },
    shopify: { products: [{ ...shopifyProduct(MAT), url: `/fr${MAT.url}` }, shopifyProduct(STRAP)] },
  });
  await held.scrollIntoView();
  assert.match(held.shopifyRequests()[0], /^\/fr\/recommendations\/products\.json\?/);
  assert.deepEqual(held.cards().map((c) => c.href.split('?')[0]), [`/fr${MAT.url}`, `/fr${STRAP.url}`]);

  // Kindred's cards are asked under the root too, and Shopify renders their links in it.
  const tested = await runBlock({ kindred: { recommendations: [kindredItem(MAT)] }, routes: { root_url: FRANCE.prefix } });
  await tested.scrollIntoView();
  assert.deepEqual(tested.kindredPaths(), [`${FRANCE.prefix}/apps/kindred/recommendations/cards`]);
  assert.deepEqual(tested.cards().map((c) => [c.title, c.href]), [[inMarket(MAT, FRANCE).title, `${FRANCE.prefix}${MAT.url}`]]);
});

test("an A/B test's arm marks the block, and its cards are measured as any Kindred cards are", async () => {
  const block = await runBlock({
    kindred: { strategy: 'similar', experiment: { id: 'similar-v2', arm: 'b', holdout: false }, recommendations: [kindredItem(MAT)] },
  });
  await block.scrollIntoView();
  assert.equal(block.root.dataset.kindredArm, 'b');
  block.runTimers();
  assert.deepEqual((await block.events()).map((e) => [e.type, e.product_id, e.placement]), [['recommendation_viewed', MAT.id, 'product']]);
});

test("in the theme editor the merchant's previews show Kindred's cards but count nothing", async () => {
  const block = await runBlock({ kindred: { strategy: 'similar', recommendations: [kindredItem(MAT)] }, request: { design_mode: true } });
  await block.scrollIntoView();
  assert.equal(block.cards().length, 1);
  block.runTimers();
  block.click(block.root.querySelector('.kindred-card'));
  assert.deepEqual(await block.events(), []);
});

// Search: the results block on the search template and the suggestions embed on every page.

const searchPage = (terms, request = {}) => ({
  ...objects,
  product: null,
  request: { ...objects.request, page_type: 'search', ...request },
  search: { terms, performed: terms !== '', results_count: 0 },
});
const section = (html, marker) => new RegExp(`<section\\s+class="kindred-recommendations[^"]*"[^>]*${marker}[\\s\\S]*?</section>`).exec(html)?.[0];
const grid = (html) => /<ul class="kindred-grid"[\s\S]*?<\/ul>/.exec(html)?.[0];

test('the search block renders a skeleton of `limit` cards and hands the escaped terms to the script', async () => {
  const terms = 'cork "block" & <strap>';
  const html = await renderer.renderPage('search', searchPage(terms), { blockSettings: { limit: 6 } });
  const block = section(html, 'data-kindred-search');
  assert.ok(block, 'no search block in the page');
  assert.equal(block.match(/kindred-card--skeleton/g).length, 6);
  const written = /data-terms="([^"]*)"/.exec(block)[1];
  assert.doesNotMatch(written, /[<>]/);
  assert.equal(unescapeHtml(written), terms);
  assert.match(block, /data-strategy="search"/);
  assert.match(block, /data-placement="search"/);
  assert.match(block, /data-limit="6"/);
  assert.match(block, /data-proxy-base="\/apps\/kindred"/);
  assert.match(block, new RegExp(`>${translations.search_results.heading}</h2>`));
  assert.doesNotMatch(block, /data-label-empty/);
  assert.doesNotMatch(html, /translation missing/);
  // Kindred reads 200 characters of a query: the block sends no more.
  const long = await renderer.renderPage('search', searchPage(`${'a'.repeat(250)}`));
  assert.match(long, new RegExp(`data-terms="a{200}"`));
});

test("the search block's skeleton is the recommendations block's, card for card", async () => {
  const settings = { limit: 5, show_vendor: true, show_price: false };
  const recommendations = grid(section(await renderer.renderPage('product', objects, { blockSettings: settings }), 'data-kindred-recommendations'));
  const search = grid(section(await renderer.renderPage('search', searchPage('mat'), { blockSettings: settings }), 'data-kindred-search'));
  assert.ok(recommendations && search);
  assert.equal(search, recommendations);
  assert.match(search, /kindred-card__vendor/);
  assert.doesNotMatch(search, /kindred-card__price/);
});

test('without terms the search block renders nothing for shoppers and a note for the merchant', async () => {
  // (The cart drawer embed's shelf waits in a template on every page, the search page too.)
  const html = (await renderer.renderPage('search', searchPage('   '))).replace(/<template data-kindred-cart-drawer[\s\S]*?<\/template>/, '');
  assert.doesNotMatch(html, /data-kindred-search|kindred-card/);
  const editor = await renderer.renderPage('search', searchPage('', { design_mode: true }));
  assert.match(editor, new RegExp(`kindred-recommendations__note">${translations.search_results.editor_no_terms.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}<`));
  assert.doesNotMatch(editor, /data-kindred-search/);
});

test('the search page loads the shared card script and stylesheet once, and the suggestions embed', async () => {
  const html = await renderer.renderPage('search', searchPage('mat'));
  const head = html.slice(0, html.indexOf('</head>'));
  for (const css of ['kindred-recommendations.css', 'kindred-search-suggestions.css']) {
    assert.equal(head.match(new RegExp(css.replace('.', '\\.'), 'g'))?.length, 1, css);
  }
  for (const script of ['kindred-recommendations.js', 'kindred-search-suggestions.js', 'kindred-tracking.js']) {
    const tags = html.match(new RegExp(`<script[^>]*${script.replace('.', '\\.')}[^>]*>`, 'g'));
    assert.equal(tags?.length, 1, script);
    assert.match(tags[0], /\sdefer[\s>]/, script);
  }
  // What the suggestions script attaches to: the theme's search forms' `q` boxes.
  assert.equal(html.match(/<form[^>]*action="\/search"[\s\S]*?name="q"/g)?.length, 2);
  const config = /<div\s+hidden\s+data-kindred-suggestions[^>]*>/.exec(html)?.[0];
  assert.ok(config, 'no suggestions embed in the page');
  assert.match(config, /data-proxy-base="\/apps\/kindred"/);
  assert.match(config, /data-limit="4"/);
  assert.match(config, /data-show-price/);
  assert.match(config, /data-currency="EUR"/);
  for (const [key, text] of Object.entries(translations.search_suggestions)) {
    assert.match(config, new RegExp(`data-label-${key}="${text}"`), key);
  }
  // The tracking embed reports the search itself.
  assert.match(html, /data-kindred-tracking[^>]*data-search-terms="mat"/);
});

test("the search block asks Kindred's search with the terms alone and shows its results as cards", async () => {
  const results = [MAT, STRAP, BLOCKS].map(kindredItem);
  const block = await runBlock({
    template: 'search', product: null, request: { page_type: 'search' }, search: { terms: 'cork & strap', performed: true },
    kindred: { query: 'cork & strap', personalised: true, results },
    blockSettings: { limit: 2 },
  });
  assert.equal(block.root.dataset.placement, 'search');
  await block.scrollIntoView();
  assert.deepEqual(block.kindredPaths(), ['/apps/kindred/search/cards']);
  const query = block.searchQuery();
  // The search API takes q, limit and client_id, and refuses any other parameter.
  assert.deepEqual([...query.keys()].sort(), ['client_id', 'limit', 'q']);
  assert.equal(query.get('q'), 'cork & strap');
  assert.equal(query.get('limit'), '2');
  assert.equal(block.root.dataset.kindredState, 'loaded');
  assert.equal(block.root.getAttribute('aria-busy'), 'false');
  assert.deepEqual(block.cards().map((c) => [c.id, c.title, c.href]), [MAT, STRAP].map((p) => [p.id, p.title, p.url]));

  block.runTimers();
  block.click(block.root.querySelectorAll('.kindred-card')[1]);
  assert.deepEqual((await block.events()).map((e) => [e.type, e.product_id, e.strategy, e.placement]), [
    ['recommendation_viewed', MAT.id, 'search', 'search'],
    ['recommendation_viewed', STRAP.id, 'search', 'search'],
    ['recommendation_clicked', STRAP.id, 'search', 'search'],
  ]);
  assert.deepEqual(block.warnings, []);
});

test('a search with no results hides the block, but for the note in the theme editor', async () => {
  const run = (request = {}) => runBlock({
    template: 'search', product: null, request: { page_type: 'search', ...request }, search: { terms: 'zzz', performed: true },
    kindred: { query: 'zzz', personalised: false, results: [] },
  });
  const block = await run();
  await block.scrollIntoView();
  assert.equal(block.root.dataset.kindredState, 'empty');
  assert.equal(block.root.hidden, true);
  block.runTimers();
  assert.deepEqual(await block.events(), []);

  const preview = await run({ design_mode: true });
  await preview.scrollIntoView();
  assert.equal(preview.root.hidden, false);
  assert.equal(preview.root.querySelector('.kindred-recommendations__note').textContent, translations.search_results.editor_empty);
});
