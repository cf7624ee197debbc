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
// yes, when that page's events go.
//
// Then, in each consent state again, a search page (`/search?q=SEARCH_TERMS`) with the search
// results block and the search suggestions embed: the block's skeleton holds `limit` cards
// until Kindred's search answers, its cards are the results (same products, same links), the
// page does not shift, and a shopper who allowed analytics and viewed a product first gets
// results personalised under their browser id, with impressions and a click reported under
// the placement `search`; without consent no id goes with any request and nothing is sent or
// kept. Typing in the theme's search box opens the suggestion listbox with Kindred's completed
// queries and products, a keystroke aborts the request before it, opening the list moves
// nothing on the page, and the combobox follows the arrow keys, Escape and Enter (a query is
// searched through the theme's form; a product opens).
//
// Then the same product page in a second market (`/fr-fr`: a France market, euros, French), where the cards must
// show what the shop itself shows there: Kindred answers the cards as Liquid through the
// locale's app proxy path, the storefront renders them in the market, and each card's title,
// price and link are the market's (checked against the product page a card leads to).
//
// Then the cart, with analytics allowed: the product page's "Add to cart" opens the theme's
// drawer (built as Dawn's is), where the "Complete your order" embed puts its shelf before the
// drawer's footer: cards of what goes with the cart, none of them in it, each with an add
// button. Adding one puts it in the cart, the theme re-renders the drawer, the shelf is put
// back and asks again for the new cart, and the add is reported as a click; nothing shifts.
// The cart page's block does the same under the theme's own cart list.
//
// Prints a JSON summary as the last line of stdout (the first full run's fields, `consent`
// with what each state showed, and `search` with what each state's search page showed); any
// failed check exits 1 with the reason on stderr.
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
//   SEARCH                 1: the search page too, in each consent state (default); 0: not
//   SEARCH_TERMS           what the search page searched for (cork yoga block)
//   SUGGEST_TEXT           what is typed in the header's search box, a word and the start of
//                          another (yoga st)
//   SEARCH_SCREENSHOT      a PNG path for a full-page screenshot of the search page (none if unset)
//   SUGGESTIONS_SCREENSHOT a PNG path for a screenshot of the open suggestions (none if unset)
//   MARKET                 1: the product page in the French market too (default); 0: not
//   MARKET_SCREENSHOT      a PNG path for a full-page screenshot of that page (none if unset)
//   CART                   1: the cart drawer and the cart page too (default); 0: not
//   CART_PRODUCT_ID        the product the cart journey starts from (4594791841910, a yoga block:
//                          what goes with it includes products without options to choose)
//   CART_SCREENSHOT        a PNG path for a screenshot of the open drawer with its shelf (none if unset)

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { DEFAULT_CATALOG, loadCatalog } from './lib/catalog.mjs';
import {
  CheckFailed, check, checkAccepted, eventsOf, isEventsRecord, STEP_TIMEOUT_MS,
} from './lib/check.mjs';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './lib/chromium.mjs';
import { CONSENT_COOKIE, CONSENT_VALUES } from './lib/consent-api.mjs';
import { checkNothingPersonal, checkPersonal, giveConsent } from './lib/consent-checks.mjs';
import { FRANCE, moneyFormat } from './lib/markets.mjs';
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
  search: env('SEARCH', '1') !== '0',
  searchTerms: env('SEARCH_TERMS', 'cork yoga block'),
  suggestText: env('SUGGEST_TEXT', 'yoga st'),
  searchScreenshot: env('SEARCH_SCREENSHOT', ''),
  suggestionsScreenshot: env('SUGGESTIONS_SCREENSHOT', ''),
  market: env('MARKET', '1') !== '0',
  marketScreenshot: env('MARKET_SCREENSHOT', ''),
  cart: env('CART', '1') !== '0',
  cartProductId: env('CART_PRODUCT_ID', '4594791841910'),
  cartScreenshot: env('CART_SCREENSHOT', ''),
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
const isSuggestion = (request) => new URL(request.url()).pathname === `${PROXY_PREFIX}/search/suggest/cards`;
const totalShift = (shifts) => shifts.reduce((sum, shift) => sum + shift.value, 0);

/** Records what a shopper would never see but a test must: console errors, lost requests. */
function watchProblems(page) {
  const problems = { console_errors: [], console_warnings: [], failed_requests: [], aborted_suggestions: [], event_posts: 0 };
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
    // A keystroke aborts the suggestions asked for before it, on purpose: noted, not a failure.
    if (isSuggestion(request) && request.failure()?.errorText === 'net::ERR_ABORTED') {
      problems.aborted_suggestions.push(new URL(request.url()).searchParams.get('q'));
      return;
    }
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
async function openPage(browser, config, storefront, state, visitor) {
  const context = await browser.newContext({ viewport: { width: config.viewport[0], height: config.viewport[1] } });
  // This machine cannot reach Shopify's CDN: its images are answered here, URLs unchanged.
  await context.route('https://cdn.shopify.com/**', (route) => {
    const image = placeholderImage(route.request().url());
    return route.fulfill({ status: 200, contentType: image.contentType, body: image.body });
  });
  await context.addInitScript(observeLayoutShifts);
  const cookies = [{ name: VISITOR_COOKIE, value: visitor, url: storefront.origin }];
  if (CONSENT_VALUES[state]) cookies.push({ name: CONSENT_COOKIE, value: CONSENT_VALUES[state], url: storefront.origin });
  await context.addCookies(cookies);
  const page = await context.newPage();
  return { context, page, problems: watchProblems(page) };
}

/**
 * Opens `url` (the product page unless told) as one shopper, runs `exercise` on it, then checks its
 * problems. `hold` names the proxy paths held until the exercise releases them; `visitor`
 * tells this browser's requests from the others'.
 */
async function visit(browser, config, storefront, state, exercise, { url = storefront.url, visitor = state || 'shopper', hold } = {}) {
  const { context, page, problems } = await openPage(browser, config, storefront, state, visitor);
  const view = visitorView(storefront, visitor);
  try {
    const release = config.withApp ? storefront.holdRecommendations(hold) : null;
    await page.goto(url, { waitUntil: 'load' });
    const result = await exercise(page, view, release, problems);
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
  check(await page.locator('[data-kindred-recommendations], [data-kindred-tracking], [data-kindred-suggestions]').count() === 0,
    'BLOCK=0 still rendered the app block or an embed');
  check(await page.locator('[role="combobox"]').count() === 0, 'BLOCK=0 still made a search box a combobox');
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
    const searches = {};
    for (const [index, state] of (config.search ? config.consent : []).entries()) {
      // A shopper who allows analytics comes from a product page, for the search to personalise.
      searches[state] = await visit(browser, config, storefront, state, searchJourney(config, state, index === 0), {
        url: PERSONAL_STATES.includes(state) ? storefront.url : `${storefront.origin}/search?${new URLSearchParams({ q: config.searchTerms })}`,
        visitor: `search-${state}`,
        hold: ['/search/cards'],
      });
    }
    const market = config.market ? await visit(browser, config, storefront, 'refused', marketJourney(config), {
      url: `${storefront.origin}${FRANCE.prefix}${new URL(storefront.url).pathname}`,
      visitor: 'market',
    }) : null;
    const cart = config.cart ? await visit(browser, config, storefront, 'given', cartJourney(config), {
      url: storefront.productUrl(config.cartProductId), visitor: 'cart', hold: ['/none'],
    }) : null;
    // The first full journey is the summary, as it was before the consent states.
    const main = runs.given ?? runs.absent ?? Object.values(runs)[0];
    const every = [
      ...Object.entries(runs),
      ...Object.entries(searches).map(([state, run]) => [`search ${state}`, run]),
      ...(market ? [['market fr', market]] : []),
      ...(cart ? [['cart', cart]] : []),
    ];
    const all = (field) => every.flatMap(([state, run]) => run[field].map((text) => `${state}: ${text}`));
    const { consent: _, aborted_suggestions: _aborted, ...fields } = main;
    const PAGE_FIELDS = ['console_errors', 'console_warnings', 'failed_requests'];
    return {
      ...base,
      ...fields,
      console_errors: all('console_errors'),
      console_warnings: all('console_warnings'),
      failed_requests: all('failed_requests'),
      consent: Object.fromEntries(Object.entries(runs).map(([state, run]) => [state, run.consent])),
      search: Object.fromEntries(Object.entries(searches).map(([state, run]) => [
        state, Object.fromEntries(Object.entries(run).filter(([field]) => !PAGE_FIELDS.includes(field))),
      ])),
      market: market && Object.fromEntries(Object.entries(market).filter(([field]) => !PAGE_FIELDS.includes(field))),
      cart: cart && Object.fromEntries(Object.entries(cart).filter(([field]) => !PAGE_FIELDS.includes(field))),
    };
  } finally {
    await browser.close();
  }
}

// The two kinds of card block: where each asks Kindred, and where the answer's products are.
const SHELVES = {
  recommendations: { selector: '[data-kindred-recommendations]', path: '/proxy/recommendations/cards' },
  search: { selector: '[data-kindred-search]', path: '/proxy/search/cards' },
};

/**
 * Scrolls to the block with Kindred's answer held at the proxy, checks the skeleton, lets the
 * answer through and checks the cards against it.
 */
async function loadBlock(page, block, config, storefront, release, shelf = SHELVES.recommendations) {
  const limit = Number(await block.getAttribute('data-limit'));
  // Loading waits for the block to come within 200px of the viewport.
  const blockTop = await block.evaluate((element) => element.getBoundingClientRect().top);
  const lazy = blockTop > config.viewport[1] + 200;
  if (lazy) {
    await page.waitForTimeout(500);
    check(!storefront.arrived.some((r) => r.path === shelf.path),
      `${shelf.path} was asked before the block neared the viewport`);
  }
  await block.scrollIntoViewIfNeeded();
  await storefront.waitFor(
    () => storefront.arrived.some((r) => r.path === shelf.path),
    STEP_TIMEOUT_MS,
    `the ${shelf.path} request`,
  );

  // What the shopper sees while the answer is on its way.
  check(await block.locator('.kindred-card--skeleton').count() === limit, 'the skeleton does not hold `limit` cards');
  check(await block.getAttribute('aria-busy') === 'true', 'aria-busy is not true while loading');
  const reservedHeight = (await block.boundingBox()).height;
  release();
  await page.waitForFunction(
    (selector) => ['loaded', 'empty'].includes(document.querySelector(selector)?.dataset.kindredState),
    shelf.selector,
    { timeout: STEP_TIMEOUT_MS },
  );

  // Kindred answered Liquid, which the storefront rendered in the shopper's market: the
  // products it showed, as that market shows them.
  const answer = storefront.forwarded.find((r) => r.path === shelf.path);
  check(answer.status === 200, `Kindred answered ${answer.status}: ${JSON.stringify(answer.response_body)}`);
  const served = answer.response_body?.products;
  check(Array.isArray(served) && served.length > 0, `Kindred answered no products: ${JSON.stringify(answer.response_body)}`);
  const money = moneyFormat(answer.response_body);
  const cards = await block.locator('.kindred-card').evaluateAll((items) => items.map((item) => ({
    id: item.dataset.productId,
    title: item.querySelector('.kindred-card__title')?.textContent.trim(),
    url: item.querySelector('.kindred-card__link')?.getAttribute('href'),
    price: item.querySelector('.kindred-price')?.lastChild?.textContent.trim() ?? null,
    skeleton: item.classList.contains('kindred-card--skeleton'),
  })));
  check(cards.every((card) => !card.skeleton), 'skeleton cards are left after loading');
  check(cards.length === Math.min(limit, served.length), `${cards.length} cards for ${served.length} recommendations (limit ${limit})`);
  const showsPrice = await block.evaluate((element) => 'showPrice' in element.dataset);
  cards.forEach((card, index) => {
    const item = served[index];
    const price = showsPrice ? money(Number.parseFloat(item.price)) : null;
    check(card.id === String(item.id) && card.url === item.url && card.title === item.title && card.price === price,
      `card ${index} is ${JSON.stringify(card)}, the storefront shows ${JSON.stringify({ id: item.id, title: item.title, url: item.url, price })}`);
  });
  check(await block.getAttribute('aria-busy') === 'false', 'aria-busy is still true after loading');
  return {
    lazy, limit, reservedHeight, strategy: answer.response_body.strategy, servedCount: served.length,
    cards: cards.map(({ id, title, url, price }) => ({ id, title, url, price })),
    answer,
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

/**
 * The product page in the French market: the block's own words in French, and cards whose
 * titles, euro prices and `/fr-fr` links are those the market's pages show, down to the product
 * page the first card opens.
 */
const marketJourney = (config) => async (page, view, release) => {
  const block = page.locator(SHELVES.recommendations.selector);
  const loaded = await loadBlock(page, block, config, view, release);
  const layout = await checkLayout(page, block, loaded);
  const asked = loaded.answer;
  check(asked.market === FRANCE.locale && asked.response_body.currency === FRANCE.currency,
    `the cards were rendered in ${asked.market}, ${asked.response_body.currency}`);
  const heading = (await block.locator('.kindred-recommendations__heading').textContent()).trim();
  const french = JSON.parse(fs.readFileSync(new URL('../../shopify-extension/theme/locales/fr.json', import.meta.url), 'utf8'));
  check(heading === french.recommendations.heading, `the block's heading in the French market is ${JSON.stringify(heading)}`);
  for (const card of loaded.cards) {
    check(card.url.startsWith(`${FRANCE.prefix}/products/`), `a card links to ${card.url}, outside the market's ${FRANCE.prefix}`);
    check(card.price.includes('€') && !card.price.includes('$'), `a card's price in the French market is ${card.price}`);
  }
  const translated = loaded.cards.filter((card) => /(^|\s)(tapis|blocs?|sangle|sac|serviette|liège|coussin|couverture|caoutchouc|naturel|noir|bleu|vert|gris|rouge)(\s|$)/i.test(card.title));
  check(translated.length > 0, `no card's title is in French: ${loaded.cards.map((card) => card.title).join(' | ')}`);
  if (config.marketScreenshot) await page.screenshot({ path: config.marketScreenshot, fullPage: true });

  // The page the first card opens shows the same title and price.
  const first = loaded.cards[0];
  await page.waitForLoadState('networkidle');
  await Promise.all([
    page.waitForURL((url) => decodeURIComponent(url.pathname) === first.url, { timeout: STEP_TIMEOUT_MS }),
    block.locator('.kindred-card__link').first().click(),
  ]);
  const shownThere = {
    title: (await page.locator('.product__title').textContent()).trim(),
    price: (await page.locator('.price__current').textContent()).trim(),
  };
  check(shownThere.title === first.title && shownThere.price === first.price,
    `the card showed ${JSON.stringify({ title: first.title, price: first.price })}, its page ${JSON.stringify(shownThere)}`);
  await page.waitForLoadState('networkidle');
  return { market: FRANCE.locale, currency: FRANCE.currency, heading, cards: loaded.cards, cls: layout.cls, product_page: shownThere };
};

// The cart: the drawer embed and the cart page block.

const CART_SHELF = '[data-kindred-cart]';
const cartCardsPath = '/proxy/recommendations/cards';
const askedFor = (record, placement) => record.path === cartCardsPath && signedParam(record, 'placement') === placement;

/** What the cart holds, as the storefront's Ajax API says (product ids). */
const cartProducts = (page) => page.evaluate(async () => (await (await fetch('/cart.js')).json()).items.map((item) => String(item.product_id)));

/**
 * Waits for the shelf's answer to the cart `ids` (the latest request of `placement`), then
 * checks its cards: Kindred's products as the storefront rendered them, none in the cart,
 * each with an add button for its variant.
 */
async function checkCartShelf(page, view, placement, ids) {
  const want = [...ids].sort().join(',');
  const sameCart = (record) => askedFor(record, placement) && (signedParam(record, 'cart') ?? '').split(',').sort().join(',') === want;
  await view.waitFor(() => view.forwarded.some(sameCart), STEP_TIMEOUT_MS, `the ${placement} shelf asked for the cart ${want}`);
  const answer = view.forwarded.filter(sameCart).at(-1);
  check(answer.status === 200, `Kindred answered the ${placement} shelf ${answer.status}: ${JSON.stringify(answer.response_body)}`);
  check(signedParam(answer, 'strategy') === 'complementary', `the ${placement} shelf asked for ${signedParam(answer, 'strategy')}`);
  const served = answer.response_body.products.map((product) => product.id);
  const selector = placement === 'cart_drawer' ? `cart-drawer ${CART_SHELF}` : `main ${CART_SHELF}`;
  await page.waitForFunction(([sel, first]) => {
    const shelf = document.querySelector(sel);
    return shelf?.dataset.kindredState === 'loaded' && shelf.querySelector('.kindred-card')?.dataset.productId === first;
  }, [selector, served[0]], { timeout: STEP_TIMEOUT_MS });
  const cards = await page.locator(`${selector} .kindred-card`).evaluateAll((items) => items.map((item) => {
    const add = item.querySelector('.kindred-card__add');
    return {
      id: item.dataset.productId,
      title: item.querySelector('.kindred-card__link')?.textContent.trim(),
      url: item.querySelector('.kindred-card__link')?.getAttribute('href'),
      // A button adds a product with nothing to choose; a link opens one with options.
      kind: add?.tagName === 'BUTTON' ? 'add' : add?.tagName === 'A' ? 'options' : null,
      variant: add?.dataset.variantId ?? null,
      options_href: add?.tagName === 'A' ? add.getAttribute('href') : null,
      name: add?.textContent.trim() ?? null,
    };
  }));
  const limit = Number(await page.locator(selector).getAttribute('data-limit'));
  check(cards.length === Math.min(limit, served.length) && cards.every((card, index) => card.id === served[index]),
    `the ${placement} shelf shows ${cards.map((card) => card.id).join(', ')}, Kindred answered ${served.join(', ')}`);
  check(cards.every((card) => !ids.includes(card.id)), `the ${placement} shelf offers what the cart holds: ${cards.map((card) => card.id)}`);
  check(cards.every((card) => (card.kind === 'add' && card.variant) || (card.kind === 'options' && card.options_href === card.url)),
    `a card without its button: ${JSON.stringify(cards)}`);
  // Each button is named with its product, for a screen reader's list of buttons.
  check(cards.every((card) => card.name.endsWith(card.title)), `a button not named with its product: ${JSON.stringify(cards)}`);
  return { cards, strategy: answer.response_body.strategy, selector };
}

/** The drawer, then the cart page: each shelf follows the cart, and its buttons add to it. */
const cartJourney = (config) => async (page, view) => {
  const product = new URL(page.url()).pathname;
  const homeId = await page.locator('.product-form input[name="product-id"]').getAttribute('value');
  await page.waitForLoadState('networkidle');
  const shiftsBefore = (await page.evaluate(() => window.kindredLayoutShifts)).length;

  // The theme's own "Add to cart" opens its drawer, with the shelf before the footer.
  await page.locator('.product-form button[name="add"]').click();
  await page.waitForFunction(() => document.querySelector('cart-drawer')?.classList.contains('is-open'), null, { timeout: STEP_TIMEOUT_MS });
  const placed = await page.evaluate((sel) => document.querySelector(sel)?.nextElementSibling?.className, `cart-drawer ${CART_SHELF}`);
  check(placed === 'drawer__footer', `the drawer's shelf stands before ${placed}, not the drawer's footer`);
  const first = await checkCartShelf(page, view, 'cart_drawer', [homeId]);
  await page.waitForFunction((sel) => [...document.querySelectorAll(`${sel} img`)].every((img) => img.complete), first.selector);
  if (config.cartScreenshot) await page.screenshot({ path: config.cartScreenshot });

  // A card's button: its product joins the cart, the drawer is re-rendered with it and the
  // shelf, put back, asks again for the cart of two.
  const target = first.cards.find((card) => card.kind === 'add');
  check(target, `no product on the drawer's shelf can be added at once: ${JSON.stringify(first.cards)}`);
  await page.locator(`${first.selector} .kindred-card[data-product-id="${target.id}"] .kindred-card__add`).click();
  await page.waitForFunction((n) => document.querySelectorAll('cart-drawer .cart-item').length === n, 2, { timeout: STEP_TIMEOUT_MS });
  const inCart = await cartProducts(page);
  check(inCart.length === 2 && inCart.includes(target.id), `after the add the cart holds ${inCart.join(', ')}`);
  const second = await checkCartShelf(page, view, 'cart_drawer', inCart);
  const afterAdd = await page.evaluate(() => ({
    status: document.querySelector('cart-drawer [data-kindred-cart-status]')?.textContent,
    focused: document.activeElement?.className,
  }));
  check(afterAdd.status && afterAdd.focused === 'kindred-recommendations__heading',
    `after the add, the status said ${JSON.stringify(afterAdd.status)} and the focus is on ${afterAdd.focused}`);
  await view.waitFor(
    () => eventsOf(view.forwarded, 'recommendation_clicked').some(({ event }) => event.product_id === target.id && event.placement === 'cart_drawer'),
    STEP_TIMEOUT_MS,
    `the add of ${target.id} reported as a click on the drawer's shelf`,
  );
  const clicked = eventsOf(view.forwarded, 'recommendation_clicked').find(({ event }) => event.product_id === target.id).event;
  check(clicked.strategy === first.strategy, `the add was reported under ${clicked.strategy}, the shelf's strategy is ${first.strategy}`);
  const shifts = (await page.evaluate(() => window.kindredLayoutShifts)).slice(shiftsBefore);
  const cls = totalShift(shifts);
  check(cls < CLS_LIMIT, `the drawer shifted ${cls.toFixed(4)}: ${JSON.stringify(shifts)}`);

  // The cart page: the block under the theme's list, the same buttons. (The drawer's
  // impressions go first: a beacon sent as a page unloads is not one a test can count.)
  await page.waitForTimeout(QUIET_MS);
  await page.waitForLoadState('networkidle');
  await page.goto(new URL('/cart', page.url()).href, { waitUntil: 'load' });
  const page1 = await checkCartShelf(page, view, 'cart', inCart);
  const next = page1.cards.find((card) => card.kind === 'add');
  check(next, `no product on the cart page's shelf can be added at once: ${JSON.stringify(page1.cards)}`);
  // Its impressions go first: a beacon sent as the page unloads is not one a test can count.
  await page.waitForTimeout(QUIET_MS);
  await page.waitForLoadState('networkidle');
  // The cart page shows the cart after an add as it shows it first: the page again.
  await Promise.all([
    page.waitForEvent('load', { timeout: STEP_TIMEOUT_MS }),
    page.locator(`${page1.selector} .kindred-card[data-product-id="${next.id}"] .kindred-card__add`).click(),
  ]);
  await page.waitForFunction((n) => document.querySelectorAll('cart-items .cart-item').length === n, 3, { timeout: STEP_TIMEOUT_MS });
  const afterPage = await cartProducts(page);
  check(afterPage.includes(next.id), `the cart page's add left the cart as ${afterPage.join(', ')}`);
  const third = await checkCartShelf(page, view, 'cart', afterPage);
  await page.waitForTimeout(QUIET_MS);
  await page.waitForLoadState('networkidle');
  checkAccepted(view.forwarded);
  return {
    product,
    drawer: { first: first.cards.map((card) => card.id), added: target.id, after: second.cards.map((card) => card.id), strategy: first.strategy, cls },
    cart_page: { first: page1.cards.map((card) => card.id), added: next.id, after: third.cards.map((card) => card.id) },
    cart: afterPage,
  };
};

// Search: the results block and the suggestions embed, on the stand-in's search page.

const PERSONAL_STATES = ['given', 'absent'];
const CLIENT_ID_KEY = 'kindred_client_id';
const isSuggest = (record) => record.path === '/proxy/search/suggest/cards';
const signedParam = (record, name) => new URLSearchParams(record.query).get(name);

/** Where the page's parts stand: opening the suggestions must move none of them. */
const layoutBoxes = (page) => page.evaluate(() => [...document.querySelectorAll('header, main, main > *, .kindred-card, footer')]
  .map((element) => {
    const box = element.getBoundingClientRect();
    return [box.x, box.y + scrollY, box.width, box.height].map(Math.round).join(',');
  }));

/** The combobox's state as assistive technology reads it. */
const comboState = (input) => input.evaluate((element) => {
  const list = document.getElementById(element.getAttribute('aria-controls'));
  return {
    role: element.getAttribute('role'),
    expanded: element.getAttribute('aria-expanded'),
    autocomplete: element.getAttribute('aria-autocomplete'),
    active: element.getAttribute('aria-activedescendant'),
    focused: document.activeElement === element,
    value: element.value,
    list_role: list?.getAttribute('role'),
    list_visible: !!list && !list.hidden && list.getBoundingClientRect().height > 0,
    list_position: list && getComputedStyle(list).position,
    selected: list ? [...list.querySelectorAll('[aria-selected="true"]')].map((option) => option.id) : [],
  };
});

/**
 * Types SUGGEST_TEXT into the header's search box with Kindred's suggestions held at the
 * proxy: its first word, until that request is on its way, then the rest, which must abort
 * it. Checks the list against Kindred's answer, that opening it moved nothing, and the keys.
 */
async function exerciseSuggestions(page, config, view, problems, { personal, screenshot }) {
  const input = page.locator('#HeaderSearch');
  const text = config.suggestText;
  const [firstWord] = text.split(' ');
  check(firstWord.length >= 2 && firstWord.length < text.length, `SUGGEST_TEXT ${JSON.stringify(text)} must be a word and the start of another`);
  const closed = await comboState(input);
  check(closed.role === 'combobox' && closed.autocomplete === 'list' && closed.expanded === 'false' && closed.list_role === 'listbox',
    `the search box is not a closed list combobox: ${JSON.stringify(closed)}`);

  const before = await layoutBoxes(page);
  const release = view.holdRecommendations(['/search/suggest/cards']);
  await input.click();
  await input.fill('');
  const arrivedFor = (q) => view.arrived.some((record) => isSuggest(record) && record.asked.q === q);
  await input.pressSequentially(firstWord, { delay: 30 });
  await view.waitFor(() => arrivedFor(firstWord), STEP_TIMEOUT_MS, `the suggestions request for ${JSON.stringify(firstWord)}`);
  await input.pressSequentially(text.slice(firstWord.length), { delay: 30 });
  await view.waitFor(() => arrivedFor(text), STEP_TIMEOUT_MS, `the suggestions request for ${JSON.stringify(text)}`);
  check(problems.aborted_suggestions.includes(firstWord),
    `typing on did not abort the request for ${JSON.stringify(firstWord)} (aborted: ${JSON.stringify(problems.aborted_suggestions)})`);
  release();
  const asked = view.arrived.filter(isSuggest);
  check(asked.every((record) => record.asked.q.length >= 2), `suggestions were asked for under two characters: ${asked.map((r) => r.asked.q).join(', ')}`);
  check(asked.length < text.length - 1, `${asked.length} suggestion requests for ${text.length} keystrokes: no debounce`);

  await view.waitFor(() => view.forwarded.some((record) => isSuggest(record) && signedParam(record, 'q') === text), STEP_TIMEOUT_MS, 'the answer');
  const record = view.forwarded.filter((r) => isSuggest(r) && signedParam(r, 'q') === text).at(-1);
  check(record.status === 200, `Kindred answered suggestions with ${record.status}: ${JSON.stringify(record.response_body)}`);
  const { queries, products } = record.response_body;
  const limit = Number(signedParam(record, 'limit'));
  check(queries.length > 0 && products.length > 0, `Kindred suggested nothing for ${JSON.stringify(text)}: ${JSON.stringify(record.response_body)}`);
  const clientIds = view.arrived.filter(isSuggest).map((r) => r.asked.client_id ?? null);
  const stored = await page.evaluate((key) => localStorage.getItem(key), CLIENT_ID_KEY);
  if (personal) check(stored && clientIds.every((id) => id === stored), `suggestions asked under ${clientIds.join(', ')}, the browser is ${stored}`);
  else check(clientIds.every((id) => id === null), `suggestions asked under ${clientIds.join(', ')} without consent`);

  const list = page.locator(`[id="${await input.getAttribute('aria-controls')}"]`);
  await list.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  // The answer holds each completion; the list puts what was typed before it in front.
  const typedBefore = text.replace(/\S*$/, '');
  const expected = [
    ...queries.slice(0, 5).map((word) => typedBefore + word).map((query) => ({ query, product: null, text: query })),
    ...products.slice(0, limit).map((product) => ({ query: null, product: String(product.id), text: product.title, url: product.url })),
  ];
  await page.waitForFunction((n) => document.querySelectorAll('.kindred-suggest:not([hidden]) [role="option"]').length === n, expected.length, { timeout: STEP_TIMEOUT_MS });
  const options = await list.locator('[role="option"]').evaluateAll((elements) => elements.map((element) => ({
    id: element.id,
    query: element.dataset.query ?? null,
    product: element.dataset.productId ?? null,
    text: (element.querySelector('.kindred-suggest__title') ?? element).textContent.trim(),
    href: element.getAttribute('href'),
  })));
  check(options.length === expected.length, `${options.length} options for ${expected.length} suggestions`);
  expected.forEach((want, index) => {
    const got = options[index];
    const href = new URL(got.href, page.url());
    const linked = want.query === null
      ? got.href === want.url
      : href.pathname === '/search' && href.searchParams.get('q') === want.query && href.searchParams.get('options[prefix]') === 'last';
    check(got.query === want.query && got.product === want.product && got.text === want.text && linked,
      `option ${index} is ${JSON.stringify(got)}, Kindred suggested ${JSON.stringify(want)}`);
  });

  const open = await comboState(input);
  check(open.expanded === 'true' && open.list_visible && open.list_position === 'fixed' && open.active === null,
    `the open list: ${JSON.stringify(open)}`);
  const after = await layoutBoxes(page);
  const moved = before.filter((box, index) => box !== after[index]);
  check(before.length === after.length && moved.length === 0, `opening the suggestions moved ${moved.length} parts of the page`);
  const listBox = await list.boundingBox();
  const inputBox = await input.boundingBox();
  check(listBox.y >= inputBox.y + inputBox.height, 'the list covers its search box');
  if (screenshot) await page.screenshot({ path: screenshot });

  // The arrow keys go round the options, Escape closes, an arrow opens again.
  const keys = [];
  const press = async (key, want) => {
    await input.press(key);
    const state = await comboState(input);
    keys.push(`${key}: ${state.active ?? 'none'}`);
    const wanted = want === null ? null : options[want].id;
    check(state.active === wanted && state.focused && state.value === text
      && JSON.stringify(state.selected) === JSON.stringify(wanted ? [wanted] : []),
    `after ${key}, ${JSON.stringify(state)}; expected option ${want}`);
    return state;
  };
  const last = options.length - 1;
  await press('ArrowDown', 0);
  await press('ArrowDown', 1);
  await press('ArrowUp', 0);
  await press('ArrowUp', last);
  await press('ArrowDown', 0);
  const escaped = await press('Escape', null);
  check(escaped.expanded === 'false' && !escaped.list_visible, `Escape left the list open: ${JSON.stringify(escaped)}`);
  const reopened = await press('ArrowDown', 0);
  check(reopened.expanded === 'true' && reopened.list_visible, `ArrowDown did not open the list again: ${JSON.stringify(reopened)}`);
  return {
    options, keys, press,
    summary: {
      typed: text,
      requests: asked.map((r) => r.asked.q),
      aborted: [...problems.aborted_suggestions],
      client_id: clientIds.at(-1),
      queries: options.filter((o) => o.query).map((o) => o.query),
      products: options.filter((o) => o.product).map((o) => o.text),
      keys,
    },
  };
}

/** The arrow keys down to option `index` (the first is active), then Enter: the page it leads to. */
async function enter(page, input, options, index, press) {
  for (let at = 0; at < index; at += 1) await press('ArrowDown', at + 1);
  const from = page.url();
  await Promise.all([page.waitForURL((url) => url.href !== from, { timeout: STEP_TIMEOUT_MS }), input.press('Enter')]);
  const url = new URL(page.url());
  return { option: options[index], url: decodeURIComponent(url.pathname + url.search) };
}

/**
 * The search page for one consent state: the results block, the suggestions, then Enter. A
 * shopper who allows analytics has viewed a product first (the page `visit` opened), so the
 * search is personalised; theirs picks a completed query, searched through the theme's form,
 * and clicks a card of that search; the others pick a product.
 */
const searchJourney = (config, state, screenshots) => async (page, view, release, problems) => {
  const personal = PERSONAL_STATES.includes(state);
  if (personal) {
    await view.waitFor(() => eventsOf(view.forwarded, 'product_viewed').length > 0, STEP_TIMEOUT_MS, 'the product view before the search');
    // Leaving sooner would abort the product page's own images.
    await page.waitForLoadState('networkidle');
    await page.goto(new URL(`/search?${new URLSearchParams({ q: config.searchTerms })}`, page.url()).href, { waitUntil: 'load' });
  }
  const block = page.locator(SHELVES.search.selector);
  check(await block.count() === 1, 'the search page has no Kindred search block');
  const loaded = await loadBlock(page, block, config, view, release, SHELVES.search);
  const layout = await checkLayout(page, block, loaded);
  // The search block stands high on its page: not the least shift is allowed there.
  check(layout.cls === 0, `the search page shifted: ${JSON.stringify(layout.shifts)}`);
  const asked = loaded.answer;
  check(signedParam(asked, 'q') === config.searchTerms, `the block searched for ${signedParam(asked, 'q')}`);
  const stored = await page.evaluate((key) => localStorage.getItem(key), CLIENT_ID_KEY);
  const personalised = asked.response_body.personalised;
  if (personal) {
    check(stored && signedParam(asked, 'client_id') === stored, `the search named ${signedParam(asked, 'client_id')}, the browser is ${stored}`);
    check(personalised === true, 'the search was not personalised for a shopper who viewed a product first');
    const visible = await visibleCards(block);
    await view.waitFor(
      () => visible.every((id) => eventsOf(view.forwarded, 'recommendation_viewed').some(({ event }) => event.product_id === id)),
      STEP_TIMEOUT_MS,
      `impressions of ${visible.join(', ')}`,
    );
  } else {
    check(signedParam(asked, 'client_id') === null, `the search named the browser (${signedParam(asked, 'client_id')}) without consent`);
    check(personalised === false, 'the search was personalised without consent');
  }
  if (screenshots && config.searchScreenshot) await page.screenshot({ path: config.searchScreenshot, fullPage: true });

  const input = page.locator('#HeaderSearch');
  const suggestions = await exerciseSuggestions(page, config, view, problems, {
    personal, screenshot: screenshots && config.suggestionsScreenshot,
  });
  const { options, press } = suggestions;
  const result = {
    terms: config.searchTerms, personalised, cards: loaded.cards, cls: layout.cls, reserved_height: loaded.reservedHeight,
    loaded_height: layout.loadedHeight, suggestions: suggestions.summary,
  };

  if (!personal) {
    const index = options.findIndex((option) => option.product);
    const landed = await enter(page, input, options, index, press);
    check(landed.url === options[index].href, `Enter on ${JSON.stringify(options[index])} went to ${landed.url}`);
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(QUIET_MS);
    const { local, session } = await page.evaluate(() => ({ local: { ...localStorage }, session: { ...sessionStorage } }));
    check(Object.keys(local).length === 0 && Object.keys(session).length === 0, `storage without consent: ${JSON.stringify({ local, session })}`);
    const posts = view.arrived.filter(isEventsRecord);
    check(posts.length === 0, `${posts.length} event requests without consent`);
    const named = view.arrived.filter((r) => r.asked.client_id);
    check(named.length === 0, `${named.map((r) => r.path).join(', ')} named the browser without consent`);
    return { ...result, entered: landed };
  }

  // Enter on a completed query: the theme's form searches it, and the block with it.
  const index = options.findIndex((option) => option.query);
  const landed = await enter(page, input, options, index, press);
  const query = options[index].query;
  const url = new URL(page.url());
  check(url.pathname === '/search' && url.searchParams.get('q') === query && url.searchParams.get('options[prefix]') === 'last',
    `Enter on the query ${JSON.stringify(query)} went to ${page.url()}`);
  await page.waitForFunction((selector) => document.querySelector(selector)?.dataset.kindredState === 'loaded', SHELVES.search.selector, { timeout: STEP_TIMEOUT_MS });
  const second = view.forwarded.filter((r) => r.path === SHELVES.search.path).at(-1);
  check(signedParam(second, 'q') === query, `the search page for ${JSON.stringify(query)} asked Kindred for ${signedParam(second, 'q')}`);

  // A card of that search, clicked once the page has loaded (leaving sooner aborts its images):
  // the click is Kindred's, with the placement `search`.
  await page.waitForLoadState('networkidle');
  const card = page.locator(`${SHELVES.search.selector} .kindred-card__link`).first();
  const target = await card.evaluate((link) => ({ id: link.closest('.kindred-card').dataset.productId, url: link.getAttribute('href') }));
  await Promise.all([page.waitForURL((next) => decodeURIComponent(next.pathname) === target.url, { timeout: STEP_TIMEOUT_MS }), card.click()]);
  await view.waitFor(
    () => eventsOf(view.forwarded, 'recommendation_clicked').some(({ event }) => event.product_id === target.id),
    STEP_TIMEOUT_MS,
    `the click on ${target.id}`,
  );
  await page.waitForLoadState('networkidle');

  const searchEvents = [...eventsOf(view.forwarded, 'recommendation_viewed'), ...eventsOf(view.forwarded, 'recommendation_clicked')]
    .filter(({ event }) => event.placement === 'search');
  const results = new Set(view.forwarded.filter((r) => r.path === SHELVES.search.path)
    .flatMap((r) => r.response_body.products.map((item) => String(item.id))));
  for (const { event } of searchEvents) {
    check(event.strategy === 'search' && results.has(event.product_id), `a search event: ${JSON.stringify(event)}`);
  }
  const clicks = searchEvents.filter(({ event }) => event.type === 'recommendation_clicked');
  check(clicks.length === 1, `${clicks.length} clicks reported from the search page`);
  // The embed reports a search once the page is idle: the first page stayed long enough.
  const submitted = eventsOf(view.forwarded, 'search_submitted').map(({ event }) => event.query);
  check(submitted.includes(config.searchTerms), `search_submitted for ${JSON.stringify(submitted)}`);
  checkAccepted(view.forwarded);
  const others = eventsOf(view.forwarded).filter(({ event }) => event.client_id !== stored);
  check(others.length === 0, `events under another id than ${stored}`);
  return {
    ...result,
    client_id: stored,
    entered: landed,
    clicked: target,
    events: eventsOf(view.forwarded).reduce((counts, { event }) => ({ ...counts, [event.type]: (counts[event.type] ?? 0) + 1 }), {}),
  };
};

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
