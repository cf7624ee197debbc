// The theme app extension as Shopify will take it: the limits Shopify sets on its files, its
// locales in step, and its blocks rendered into a theme page the way the storefront does.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { loadCatalog } from './lib/catalog.mjs';
import { EXTENSION_DIR, THEME_DIR } from './lib/storefront-server.mjs';
import { createThemeRenderer, productDrop, readSchema } from './lib/theme.mjs';

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
const product = loadCatalog().find((p) => p.id === '4357742755898');
const objects = {
  shop: { name: 'Yoga Store', currency: 'USD' },
  request: { locale: { iso_code: 'fr' }, page_type: 'product', design_mode: false },
  routes: { root_url: '/', cart_url: '/cart', cart_add_url: '/cart/add' },
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
  assert.match(block, />Recommended products<\/h2>/);
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
