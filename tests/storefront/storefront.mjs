// The storefront test: a product page of the stand-in theme with the real app block and app
// embed, Kindred behind the stand-in app proxy, and Debian's Chromium loading it as a shopper.
//
// It checks that the cards come from Kindred's answer (same products, same links), that the
// page logs no error and loses no request, that the block shifts nothing as its cards replace
// the skeleton (CLS < 0.01), and that impressions and a click reach Kindred and are accepted.
// It does so for each answer a shopper can give Shopify's consent banner, one browser each:
// with analytics allowed, the events come under one id kept in localStorage, which the cart's
// attributes carry too; refused, the cards still show but nothing is stored or sent and the
// recommendations request names no browser; not yet answered, the same until the page says
// yes, when that page's events go. Prints a JSON summary as the last line of stdout (the
// first full run's fields, and `consent` with what each state showed); any failed check
// exits 1 with the reason on stderr.
//
// Environment:
//   KINDRED_URL            Kindred's base URL (the stand-in proxy forwards to $KINDRED_URL/proxy/*)
//   KINDRED_PROXY_SECRET   the Shopify app secret the proxy signs with
//   SHOP                   the shop's myshopify domain (yoga-store.myshopify.com)
//   PRODUCT_ID             the product page to open (4357742755898)
//   PRODUCT_JSON           the catalogue the page's product comes from: a products.json, one
//                          product, or a folder of them (the shared yoga-store capture)
//   SCREENSHOT             a PNG path for a full-page screenshot (none if unset)
//   BLOCK                  1: the page with the app block and embed (default); 0: without them
//   BLOCK_SETTINGS         JSON settings overriding the template's, e.g. {"limit": 4}
//   VIEWPORT               WIDTHxHEIGHT (1280x800)
//   SERVE_ONLY             1: only serve the page, print {"url": ...} and wait (for Lighthouse);
//                          product images then come from the server itself (LOCAL_IMAGES=0 not to)
//   PORT                   the storefront's port in SERVE_ONLY mode (any free one)
//   CHROMIUM               the browser (/usr/bin/chromium)
//   CONSENT                the consent states to run, comma separated (given,refused,unanswered);
//                          `absent` is also one: a page without Shopify's consent API

import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { DEFAULT_CATALOG, loadCatalog } from './lib/catalog.mjs';
import {
  CheckFailed, check, checkAccepted, eventsOf, isEventsRecord, STEP_TIMEOUT_MS,
} from './lib/check.mjs';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './lib/chromium.mjs';
import { CONSENT_COOKIE, CONSENT_VALUES } from './lib/consent-api.mjs';
import { checkNothingPersonal, checkPersonal, giveConsent } from './lib/consent-checks.mjs';
import { placeholderImage } from './lib/placeholder.mjs';
import { PROXY_PREFIX, VISITOR_COOKIE, startStorefront } from './lib/storefront-server.mjs';

const CLS_LIMIT = 0.01;
const CONSENT_STATES = ['given', 'refused', 'unanswered', 'absent'];
// Longer than the block holds impressions (1 s) before it sends them.
const QUIET_MS = 1500;

const env = (name, fallback) => {
  const value = process.env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback === undefined) throw new CheckFailed(`${name} is required`);
  return fallback;
};

const settings = () => ({
  kindredUrl: env('KINDRED_URL'),
  secret: env('KINDRED_PROXY_SECRET'),
  shop: env('SHOP', 'yoga-store.myshopify.com'),
  productId: env('PRODUCT_ID', '4357742755898'),
  catalog: env('PRODUCT_JSON', DEFAULT_CATALOG),
  screenshot: env('SCREENSHOT', ''),
  withApp: env('BLOCK', '1') !== '0',
  blockSettings: JSON.parse(env('BLOCK_SETTINGS', '{}')),
  viewport: env('VIEWPORT', '1280x800').split('x').map(Number),
  serveOnly: env('SERVE_ONLY', '0') === '1',
  localImages: env('LOCAL_IMAGES', env('SERVE_ONLY', '0')) === '1',
  port: Number(env('PORT', '0')),
  chromium: CHROMIUM_PATH,
  consent: [...new Set(env('CONSENT', 'given,refused,unanswered').split(',').map((state) => state.trim()).filter(Boolean))],
});

// Runs in the page before any of its scripts: every layout shift not caused by input.
const observeLayoutShifts = () => {
  window.kindredLayoutShifts = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.hadRecentInput) continue;
      window.kindredLayoutShifts.push({
        value: entry.value,
        at: Math.round(entry.startTime),
        sources: (entry.sources ?? []).map((source) => source.node?.className || source.node?.nodeName || '?'),
      });
    }
  }).observe({ type: 'layout-shift', buffered: true });
};

const accepted = ({ record }) => record.status >= 200 && record.status < 300;
const isEventPost = (request) => request.method() === 'POST' && new URL(request.url()).pathname === `${PROXY_PREFIX}/events`;
const totalShift = (shifts) => shifts.reduce((sum, shift) => sum + shift.value, 0);

/** Records what a shopper would never see but a test must: console errors, lost requests. */
function watchProblems(page) {
  const problems = { console_errors: [], console_warnings: [], failed_requests: [], event_posts: 0 };
  page.on('console', (message) => {
    if (message.type() === 'error') problems.console_errors.push(message.text());
    if (message.type() === 'warning') problems.console_warnings.push(message.text());
  });
  page.on('pageerror', (error) => problems.console_errors.push(`uncaught: ${error.message}`));
  page.on('request', (request) => {
    if (isEventPost(request)) problems.event_posts += 1;
  });
  page.on('requestfailed', (request) => {
    // Chromium reports a beacon or keepalive request as aborted when its page unloads, even
    // though it goes on to the server: those are counted at the proxy instead.
    if (isEventPost(request) && request.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.failed_requests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.failed_requests.push(`${response.request().method()} ${response.url()}: HTTP ${response.status()}`);
  });
  return problems;
}

/**
 * What one shopper's browser sent: the storefront's records narrowed to the requests that
 * carry its visitor cookie, so that no state sees another's late beacons.
 */
const visitorView = (storefront, visitor) => ({
  get arrived() { return storefront.arrived.filter((record) => record.visitor === visitor); },
  get forwarded() { return storefront.forwarded.filter((record) => record.visitor === visitor); },
  get cartRequests() { return storefront.cartRequests.filter((record) => record.visitor === visitor); },
  waitFor: storefront.waitFor,
  holdRecommendations: storefront.holdRecommendations,
});

/** A fresh browser context (its own storage, cookies and cart) for one consent state. */
async function openPage(browser, config, storefront, state) {
  const context = await browser.newContext({ viewport: { width: config.viewport[0], height: config.viewport[1] } });
  // This machine cannot reach Shopify's CDN: its images are answered here, URLs unchanged.
  await context.route('https://cdn.shopify.com/**', (route) => {
    const image = placeholderImage(route.request().url());
    return route.fulfill({ status: 200, contentType: image.contentType, body: image.body });
  });
  await context.addInitScript(observeLayoutShifts);
  const cookies = [{ name: VISITOR_COOKIE, value: state || 'shopper', url: storefront.origin }];
  if (CONSENT_VALUES[state]) cookies.push({ name: CONSENT_COOKIE, value: CONSENT_VALUES[state], url: storefront.origin });
  await context.addCookies(cookies);
  const page = await context.newPage();
  return { context, page, problems: watchProblems(page) };
}

/** Opens the product page as one shopper, runs `exercise` on it, then checks its problems. */
async function visit(browser, config, storefront, state, exercise) {
  const { context, page, problems } = await openPage(browser, config, storefront, state);
  const view = visitorView(storefront, state || 'shopper');
  try {
    const release = config.withApp ? storefront.holdRecommendations() : null;
    await page.goto(storefront.url, { waitUntil: 'load' });
    const result = await exercise(page, view, release);
    const delivered = view.forwarded.filter(isEventsRecord).length;
    check(delivered === problems.event_posts, `${state}: the page sent ${problems.event_posts} event requests, ${delivered} reached Kindred`);
    check(problems.console_errors.length === 0, `${state}: console errors: ${problems.console_errors.join(' | ')}`);
    check(problems.failed_requests.length === 0, `${state}: failed requests: ${problems.failed_requests.join(' | ')}`);
    const { event_posts: _, ...reported } = problems;
    return { ...result, ...reported };
  } finally {
    await context.close();
  }
}

const withoutApp = async (page) => {
  check(await page.locator('[data-kindred-recommendations], [data-kindred-tracking]').count() === 0,
    'BLOCK=0 still rendered the app block or embed');
  await page.waitForLoadState('networkidle');
  const cls = totalShift(await page.evaluate(() => window.kindredLayoutShifts));
  check(cls < CLS_LIMIT, `layout shift ${cls.toFixed(4)} without the block`);
  return { cards: [], cls };
};

/** Allowed from the start (or no API to ask): the whole shopper journey, and one id throughout. */
const allowed = (config) => async (page, view, release) => {
  // The embed tags the cart once the page is idle, and notes it for the session when the cart
  // answers; a click sooner would leave that to the next page.
  const tagged = () => page.waitForFunction(() => sessionStorage.getItem('kindred_cart_client_id'), null, { timeout: STEP_TIMEOUT_MS })
    .catch(() => check(false, `the embed did not note the cart as tagged within ${STEP_TIMEOUT_MS} ms`));
  const summary = await exerciseBlock(page, config, view, release, tagged);
  return { ...summary, consent: await checkPersonal(page, view) };
};

/** Refused: the cards, and nothing personal. */
const refused = (config) => async (page, view, release) => {
  const block = page.locator('[data-kindred-recommendations]');
  const loaded = await loadBlock(page, block, config, view, release);
  const layout = await checkLayout(page, block, loaded);
  return { cards: loaded.cards, cls: layout.cls, consent: { ...await checkNothingPersonal(page, view, QUIET_MS), cards: loaded.cards.length } };
};

/** Not answered: as refused, until the shopper says yes; then this page's events go. */
const unanswered = (config) => async (page, view, release) => {
  const block = page.locator('[data-kindred-recommendations]');
  const loaded = await loadBlock(page, block, config, view, release);
  const layout = await checkLayout(page, block, loaded);
  const before = { ...await checkNothingPersonal(page, view, QUIET_MS), cards: loaded.cards.length };
  const visible = await visibleCards(block);
  await giveConsent(page);
  await view.waitFor(
    () => eventsOf(view.forwarded, 'product_viewed').length > 0
      && visible.every((id) => eventsOf(view.forwarded, 'recommendation_viewed').some(({ event }) => event.product_id === id)),
    STEP_TIMEOUT_MS,
    `the page's view and the impressions of ${visible.join(', ')} once the shopper said yes`,
  );
  // The request made before the yes rightly named no browser.
  const after = await checkPersonal(page, view, { named: false });
  return { cards: loaded.cards, cls: layout.cls, consent: { before, after } };
};

const EXERCISES = { given: allowed, absent: allowed, refused, unanswered };

async function runBrowser(config, storefront) {
  const browser = await chromium.launch({ executablePath: config.chromium, args: CHROMIUM_ARGS, headless: true });
  try {
    const base = { url: storefront.url, block: config.withApp };
    if (!config.withApp) return { ...base, ...await visit(browser, config, storefront, '', withoutApp) };
    const unknown = config.consent.filter((state) => !CONSENT_STATES.includes(state));
    check(config.consent.length > 0 && unknown.length === 0, `CONSENT: ${unknown.join(', ') || 'none'} (one of ${CONSENT_STATES.join(', ')})`);
    const runs = {};
    // One page each, one after the other: they share the stand-in proxy's held answer.
    for (const state of config.consent) runs[state] = await visit(browser, config, storefront, state, EXERCISES[state](config));
    // The first full journey is the summary, as it was before the consent states.
    const main = runs.given ?? runs.absent ?? Object.values(runs)[0];
    const all = (field) => Object.entries(runs).flatMap(([state, run]) => run[field].map((text) => `${state}: ${text}`));
    const { consent: _, ...fields } = main;
    return {
      ...base,
      ...fields,
      console_errors: all('console_errors'),
      console_warnings: all('console_warnings'),
      failed_requests: all('failed_requests'),
      consent: Object.fromEntries(Object.entries(runs).map(([state, run]) => [state, run.consent])),
    };
  } finally {
    await browser.close();
  }
}

/**
 * Scrolls to the block with Kindred's answer held at the proxy, checks the skeleton, lets the
 * answer through and checks the cards against it.
 */
async function loadBlock(page, block, config, storefront, release) {
  const limit = Number(await block.getAttribute('data-limit'));
  // Loading waits for the block to come within 200px of the viewport.
  const blockTop = await block.evaluate((element) => element.getBoundingClientRect().top);
  const lazy = blockTop > config.viewport[1] + 200;
  if (lazy) {
    await page.waitForTimeout(500);
    check(!storefront.arrived.some((r) => r.path === '/proxy/recommendations'),
      'recommendations were fetched before the block neared the viewport');
  }
  await block.scrollIntoViewIfNeeded();
  await storefront.waitFor(
    () => storefront.arrived.some((r) => r.path === '/proxy/recommendations'),
    STEP_TIMEOUT_MS,
    'the recommendations request',
  );

  // What the shopper sees while the answer is on its way.
  check(await block.locator('.kindred-card--skeleton').count() === limit, 'the skeleton does not hold `limit` cards');
  check(await block.getAttribute('aria-busy') === 'true', 'aria-busy is not true while loading');
  const reservedHeight = (await block.boundingBox()).height;
  release();
  await page.waitForFunction(
    () => ['loaded', 'empty'].includes(document.querySelector('[data-kindred-recommendations]')?.dataset.kindredState),
    null,
    { timeout: STEP_TIMEOUT_MS },
  );

  const answer = storefront.forwarded.find((r) => r.path === '/proxy/recommendations');
  check(answer.status === 200, `Kindred answered ${answer.status}: ${JSON.stringify(answer.response_body)}`);
  const served = answer.response_body?.recommendations;
  check(Array.isArray(served) && served.length > 0, `Kindred recommended nothing: ${JSON.stringify(answer.response_body)}`);
  const cards = await block.locator('.kindred-card').evaluateAll((items) => items.map((item) => ({
    id: item.dataset.productId,
    title: item.querySelector('.kindred-card__title')?.textContent.trim(),
    url: item.querySelector('.kindred-card__link')?.getAttribute('href'),
    skeleton: item.classList.contains('kindred-card--skeleton'),
  })));
  check(cards.every((card) => !card.skeleton), 'skeleton cards are left after loading');
  check(cards.length === Math.min(limit, served.length), `${cards.length} cards for ${served.length} recommendations (limit ${limit})`);
  cards.forEach((card, index) => {
    const item = served[index];
    check(card.id === String(item.id) && card.url === item.url && card.title === item.title,
      `card ${index} is ${JSON.stringify(card)}, Kindred recommended ${JSON.stringify({ id: item.id, title: item.title, url: item.url })}`);
  });
  check(await block.getAttribute('aria-busy') === 'false', 'aria-busy is still true after loading');
  return {
    lazy, limit, reservedHeight, strategy: answer.response_body.strategy, servedCount: served.length,
    cards: cards.map(({ id, title, url }) => ({ id, title, url })),
  };
}

/** Nothing moved: no layout shift, and the cards fill exactly the skeleton's space. */
async function checkLayout(page, block, loaded) {
  await page.waitForFunction(
    () => [...document.querySelectorAll('.kindred-card img')].every((img) => img.complete && img.naturalWidth > 0),
    null,
    { timeout: STEP_TIMEOUT_MS },
  );
  const loadedHeight = (await block.boundingBox()).height;
  const shifts = await page.evaluate(() => window.kindredLayoutShifts);
  const cls = totalShift(shifts);
  check(cls < CLS_LIMIT, `layout shift ${cls.toFixed(4)} (limit ${CLS_LIMIT}): ${JSON.stringify(shifts)}`);
  if (loaded.servedCount >= loaded.limit) {
    check(Math.abs(loadedHeight - loaded.reservedHeight) < 1,
      `the skeleton reserved ${loaded.reservedHeight}px, the loaded block takes ${loadedHeight}px`);
  }
  return { loadedHeight, shifts, cls };
}

/** The ids of the cards at least half on screen: those an impression is due for. */
async function visibleCards(block) {
  const visible = await block.locator('.kindred-card').evaluateAll((items) => items.filter((item) => {
    const box = item.getBoundingClientRect();
    return Math.min(box.bottom, innerHeight) - Math.max(box.top, 0) >= box.height / 2;
  }).map((item) => item.dataset.productId));
  check(visible.length > 0, 'no card is on screen after scrolling to the block');
  return visible;
}

/** Waits for the impressions of the cards on screen, then clicks the first card. */
async function seeAndClick(page, block, config, storefront, cards) {
  const visible = await visibleCards(block);
  await storefront.waitFor(
    () => visible.every((id) => eventsOf(storefront.forwarded, 'recommendation_viewed').some(({ event }) => event.product_id === id)),
    STEP_TIMEOUT_MS,
    `impressions of ${visible.join(', ')}`,
  );
  if (config.screenshot) await page.screenshot({ path: config.screenshot, fullPage: true });

  const target = cards[0];
  await Promise.all([
    page.waitForURL((url) => decodeURIComponent(url.pathname) === target.url, { timeout: STEP_TIMEOUT_MS }),
    block.locator('.kindred-card__link').first().click(),
  ]);
  await storefront.waitFor(
    () => eventsOf(storefront.forwarded, 'recommendation_clicked').some(({ event }) => event.product_id === target.id),
    STEP_TIMEOUT_MS,
    `the click on ${target.id}`,
  );
  await page.waitForLoadState('networkidle');
}

/** Every event the product page sent names a card and its strategy, and Kindred took it. */
function checkEvents(storefront, loaded) {
  // The product page the click led to has a block of its own: its events are not this page's.
  const clickPost = storefront.forwarded.findIndex((record) => eventsOf([record], 'recommendation_clicked').length);
  const thisPage = storefront.forwarded.slice(0, clickPost + 1);
  const impressions = eventsOf(thisPage, 'recommendation_viewed');
  const clicks = eventsOf(thisPage, 'recommendation_clicked');
  const cardIds = new Set(loaded.cards.map((card) => card.id));
  for (const { event } of [...impressions, ...clicks]) {
    check(cardIds.has(event.product_id), `an event names ${event.product_id}, which no card shows`);
    check(event.strategy === loaded.strategy, `an event says strategy ${event.strategy}, Kindred answered ${loaded.strategy}`);
  }
  const impressionIds = impressions.map(({ event }) => event.product_id);
  check(new Set(impressionIds).size === impressionIds.length, `a card was counted twice: ${impressionIds.join(', ')}`);

  const posts = checkAccepted(thisPage);
  const views = eventsOf(thisPage, 'product_viewed').filter(accepted).length;
  check(views > 0, 'the app embed sent no accepted product_viewed');
  return {
    impressions_sent: impressions.filter(accepted).length,
    clicks_sent: clicks.filter(accepted).length,
    product_views_sent: views,
    events_responses: posts.map((post) => ({
      status: post.status,
      types: post.request_body?.events?.map((event) => event.type),
      body: post.response_body,
    })),
  };
}

/** The block's whole journey; `beforeClick` runs while the product page is still open. */
async function exerciseBlock(page, config, storefront, release, beforeClick = async () => {}) {
  const block = page.locator('[data-kindred-recommendations]');
  check(await block.count() === 1, 'the page has no recommendations block');
  const loaded = await loadBlock(page, block, config, storefront, release);
  const layout = await checkLayout(page, block, loaded);
  await beforeClick();
  await seeAndClick(page, block, config, storefront, loaded.cards);
  return {
    strategy: loaded.strategy,
    loaded_when: loaded.lazy ? 'scrolled near' : 'within 200px of the first viewport',
    cards: loaded.cards,
    reserved_height: loaded.reservedHeight,
    loaded_height: layout.loadedHeight,
    // Measured on the product page, before the click leaves it.
    cls: layout.cls,
    layout_shifts: layout.shifts,
    ...checkEvents(storefront, loaded),
  };
}

async function main() {
  const config = settings();
  const products = loadCatalog(config.catalog);
  const storefront = await startStorefront({ ...config, products, port: config.serveOnly ? config.port : 0 });
  if (config.serveOnly) {
    console.log(JSON.stringify({ url: storefront.url, block: config.withApp }));
    const stop = () => storefront.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return;
  }
  try {
    const summary = await runBrowser(config, storefront);
    // One line, the last of stdout: callers read it as the result.
    console.log(JSON.stringify(summary));
  } finally {
    await storefront.close();
  }
}

if (fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(error instanceof CheckFailed ? `storefront check failed: ${error.message}` : error);
    process.exit(1);
  });
}
