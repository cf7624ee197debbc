// The embedded admin's browser test: Kindred's admin page (`/app`) in Debian's Chromium, with
// a stand-in for Shopify's App Bridge that signs session tokens with the app's secret, as the
// merchant would see it inside Shopify's admin.
//
// For each language it loads the dashboard and measures its Web Vitals. Then, in the first
// language, each page in turn from a fresh load (its hash route): it checks that the page
// shows the shop's real data, logs no error and loses no request, measures LCP, CLS and an
// INP proxy (one click on the page), takes a screenshot, and does what the merchant does
// there: the rules editor saves an exclusion of EXCLUDE_PRODUCT (after previewing it), the
// preview shows every shelf of PICK_PRODUCT (its product ids go in the summary, for the
// caller to compare with the API), an A/B experiment is created, started and its results
// opened, the settings are saved unchanged and a storefront key is created and revoked.
// Last, the admin of OTHER_SHOP is opened: its totals, and whether any of SHOP's products
// show there. Prints a JSON summary as the last line of stdout; a failed check exits 1 with
// the reason on stderr.
//
// Environment:
//   KINDRED_URL       Kindred's base URL (serves /app, /app/assets/*, /app/api/*)
//   API_KEY           the Shopify app's client id
//   API_SECRET        its secret, which signs the session tokens
//   SHOP              the shop (yoga-store.myshopify.com)
//   OTHER_SHOP        a second installed shop holding nothing of SHOP's (skipped if unset)
//   PICK_PRODUCT      the product id the stand-in resource picker returns for products
//   PICK_COLLECTION   the collection id it returns for collections (none: the picker is closed)
//   EXCLUDE_PRODUCT   the product id the rules editor excludes (saved: the caller then checks
//                     the storefront's next answer leaves it out)
//   BILLING_PLAN      a plan to choose on the Billing page (none if unset): its subscription is
//                     asked for and Shopify's confirmation page opened in the top frame
//   ARTIFACT_DIR      a folder for one PNG per page (dashboard.png, rules.png, ...); none if unset
//   LOCALES           languages to load the dashboard in, comma separated (en,fr,de)
//   VIEWPORT          WIDTHxHEIGHT (1280x900)
//   CHROMIUM          the browser (/usr/bin/chromium)

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { CheckFailed, check, STEP_TIMEOUT_MS } from './lib/check.mjs';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './lib/chromium.mjs';
import { placeholderImage } from './lib/placeholder.mjs';
import { sessionToken } from './lib/session-token.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const STAND_IN = fs.readFileSync(path.join(here, 'lib/app-bridge-stand-in.js'), 'utf8');
const APP_BRIDGE_URL = 'https://cdn.shopify.com/shopifycloud/app-bridge.js';
const PAGES = ['dashboard', 'rules', 'preview', 'experiments', 'settings', 'billing'];
const LIMITS = { lcp_ms: 2500, cls: 0.1, inp_ms: 200 };
// The words each language's dashboard heading must read (the admin's own strings).
const DASHBOARD_HEADING = { en: 'Dashboard', fr: 'Tableau de bord', de: 'Übersicht' };

const env = (name, fallback) => {
  const value = process.env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback === undefined) throw new CheckFailed(`${name} is required`);
  return fallback;
};

const settings = () => ({
  kindredUrl: env('KINDRED_URL').replace(/\/$/, ''),
  apiKey: env('API_KEY'),
  secret: env('API_SECRET'),
  shop: env('SHOP', 'yoga-store.myshopify.com'),
  otherShop: env('OTHER_SHOP', ''),
  pickProduct: env('PICK_PRODUCT'),
  pickCollection: env('PICK_COLLECTION', ''),
  excludeProduct: env('EXCLUDE_PRODUCT'),
  artifactDir: env('ARTIFACT_DIR', ''),
  billingPlan: env('BILLING_PLAN', ''),
  locales: env('LOCALES', 'en,fr,de').split(',').map((l) => l.trim()).filter(Boolean),
  viewport: env('VIEWPORT', '1280x900').split('x').map(Number),
  chromium: CHROMIUM_PATH,
});

// Runs in the page before its scripts: LCP, layout shifts without recent input, and the
// event timing entries of interactions (only those of 16 ms or more are reported).
const observeVitals = () => {
  const vitals = { lcp: 0, cls: 0, shifts: [], events: [] };
  window.kindredVitals = vitals;
  const observe = (type, options, take) => {
    try {
      new PerformanceObserver((list) => list.getEntries().forEach(take)).observe({ type, buffered: true, ...options });
    } catch { /* an entry type this browser lacks */ }
  };
  observe('largest-contentful-paint', {}, (entry) => { vitals.lcp = entry.startTime; });
  observe('layout-shift', {}, (entry) => {
    if (entry.hadRecentInput) return;
    vitals.cls += entry.value;
    vitals.shifts.push({ value: entry.value, at: Math.round(entry.startTime), sources: (entry.sources ?? []).map((s) => s.node?.className || s.node?.nodeName || '?') });
  });
  observe('event', { durationThreshold: 16 }, (entry) => {
    if (entry.interactionId) vitals.events.push({ name: entry.name, start: entry.startTime, duration: entry.duration });
  });
};

/** What the merchant would never see but a test must: console errors, lost requests. */
function watchProblems(page, origin) {
  const problems = { console_errors: [], failed_requests: [], expected: [] };
  const isExpected = (href) => {
    const url = new URL(href, origin);
    return url.origin === origin && problems.expected.some((pattern) => pattern.test(url.pathname));
  };
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // Chromium logs every 4xx answer; the one a step expects is no error of the page.
    const resource = message.location()?.url;
    if (resource && message.text().startsWith('Failed to load resource') && isExpected(resource)) return;
    problems.console_errors.push(message.text());
  });
  page.on('pageerror', (error) => problems.console_errors.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => problems.failed_requests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (response.status() < 400) return;
    const url = new URL(response.url());
    const line = `${response.request().method()} ${url.pathname}${url.search}: HTTP ${response.status()}`;
    if (!isExpected(url.href)) problems.failed_requests.push(line);
  });
  return problems;
}

/** A browser context signed in to `shop`'s admin: App Bridge's stand-in, tokens, images. */
async function openContext(browser, config, shop) {
  const context = await browser.newContext({ viewport: { width: config.viewport[0], height: config.viewport[1] } });
  await context.exposeFunction('kindredSessionToken', () => sessionToken({ shop, apiKey: config.apiKey, secret: config.secret }));
  await context.addInitScript(observeVitals);
  const origin = new URL(config.kindredUrl).origin;
  // This machine reaches nothing but Kindred: App Bridge is the stand-in, product images
  // placeholders of the size asked for, anything else a lost request.
  await context.route((url) => url.origin !== origin, (route) => {
    const request = route.request();
    if (request.url() === APP_BRIDGE_URL) {
      const locale = new URL(request.frame().url()).searchParams.get('locale');
      const picks = { product: [config.pickProduct], collection: config.pickCollection ? [config.pickCollection] : [] };
      const preamble = `window.kindredAppBridge = ${JSON.stringify({ shop, locale, host: hostParam(shop), picks })};\n`;
      return route.fulfill({ status: 200, contentType: 'text/javascript', body: preamble + STAND_IN });
    }
    if (request.resourceType() === 'image') {
      const image = placeholderImage(request.url());
      return route.fulfill({ status: 200, contentType: image.contentType, body: image.body });
    }
    return route.abort('blockedbyclient');
  });
  return { context, origin, shop };
}

// Shopify's `host`: the admin's address, base64url.
const hostParam = (shop) => Buffer.from(`admin.shopify.com/store/${shop.replace('.myshopify.com', '')}`).toString('base64url');

const adminUrl = (config, shop, lang, route) =>
  `${config.kindredUrl}/app?${new URLSearchParams({ shop, host: hostParam(shop), embedded: '1', locale: lang })}#${route}`;

/** A fresh load of one page of the admin, waited for until its data is drawn. */
async function openPage(session, config, lang, route, { expected = [] } = {}) {
  const page = await session.context.newPage();
  const problems = watchProblems(page, session.origin);
  problems.expected.push(...expected);
  const answers = collectAnswers(page);
  await page.goto(adminUrl(config, session.shop, lang, route), { waitUntil: 'load' });
  await waitReady(page, route.split('/')[0]);
  return { page, problems, answers };
}

/** Every /app/api answer the page got, with its JSON body, in the order they were read. */
function collectAnswers(page) {
  const answers = [];
  page.on('response', async (response) => {
    const url = new URL(response.url());
    if (!url.pathname.startsWith('/app/api/')) return;
    const body = await response.json().catch(() => null);
    answers.push({ method: response.request().method(), path: url.pathname, query: url.search, status: response.status(), body });
  });
  return answers;
}

async function waitReady(page, name) {
  const root = page.locator(`.page[data-page="${name}"]`);
  await page.waitForFunction((n) => ['ready', 'error'].includes(document.querySelector(`.page[data-page="${n}"]`)?.dataset.state), name, { timeout: STEP_TIMEOUT_MS })
    .catch(() => check(false, `${name}: the page did not finish loading within ${STEP_TIMEOUT_MS} ms`));
  if (await root.getAttribute('data-state') === 'error') {
    check(false, `${name}: the page failed: ${(await root.innerText()).slice(0, 300)}`);
  }
  await page.waitForLoadState('networkidle');
  await checkNoInlineErrors(page, name);
}

async function checkNoInlineErrors(page, name) {
  const errors = await page.locator('.banner--critical').allInnerTexts();
  check(errors.length === 0, `${name}: the page shows errors: ${errors.join(' | ')}`);
}

/** LCP and CLS so far; read before any click (input ends LCP and excuses shifts). */
const readVitals = (page) => page.evaluate(() => ({
  lcp_ms: Math.round(window.kindredVitals.lcp),
  cls: Number(window.kindredVitals.cls.toFixed(4)),
  shifts: window.kindredVitals.shifts,
}));

/**
 * The INP proxy of one click: the longest event timing entry the click produced, or, where
 * it was too quick for one (under 16 ms), the time from the click to the frame after the DOM
 * next changed.
 */
async function measureClick(page, locator, waitAfter = async () => {}) {
  await page.evaluate(() => {
    window.kindredProbe = new Promise((resolve) => {
      let start = null;
      const observer = new MutationObserver(() => {
        if (start === null) return;
        observer.disconnect();
        requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - start)));
      });
      observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      addEventListener('pointerdown', (event) => { start = event.timeStamp; }, { capture: true, once: true });
      setTimeout(() => { observer.disconnect(); resolve(null); }, 5000);
    });
    window.kindredEventsBefore = window.kindredVitals.events.length;
  });
  await locator.click();
  await waitAfter();
  const probe = await page.evaluate(() => window.kindredProbe);
  // Event timing entries arrive after the frame; give them one more.
  await page.waitForTimeout(100);
  const events = await page.evaluate(() => window.kindredVitals.events.slice(window.kindredEventsBefore));
  const timed = Math.max(0, ...events.map((e) => e.duration));
  check(probe !== null || timed > 0, 'a click changed nothing on the page within 5 s');
  return { inp_ms: Math.round(timed || probe), inp_source: timed ? 'event-timing' : 'frame-after-change' };
}

function checkVitals(where, vitals) {
  check(vitals.lcp_ms > 0, `${where}: no largest-contentful-paint was reported`);
  check(vitals.lcp_ms < LIMITS.lcp_ms, `${where}: LCP ${vitals.lcp_ms} ms (limit ${LIMITS.lcp_ms})`);
  check(vitals.cls < LIMITS.cls, `${where}: CLS ${vitals.cls} (limit ${LIMITS.cls}): ${JSON.stringify(vitals.shifts)}`);
  check(vitals.inp_ms < LIMITS.inp_ms, `${where}: a click took ${vitals.inp_ms} ms to show (limit ${LIMITS.inp_ms})`);
}

function checkProblems(where, problems) {
  check(problems.console_errors.length === 0, `${where}: console errors: ${problems.console_errors.join(' | ')}`);
  check(problems.failed_requests.length === 0, `${where}: failed requests: ${problems.failed_requests.join(' | ')}`);
}

const answerOf = (answers, method, pathname) => answers.filter((a) => a.method === method && a.path === pathname).at(-1);

/** Does `act`, then waits for Kindred's answer to the request it makes. */
async function answerTo(page, answers, method, pathname, act) {
  const since = answers.length;
  await act();
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const answer = answers.slice(since).find((a) => a.method === method && a.path === pathname);
    if (answer) return answer;
    check(Date.now() < deadline, `no answer to ${method} ${pathname} within ${STEP_TIMEOUT_MS} ms`);
    await page.waitForTimeout(25);
  }
}

const shelvesIn = (root) => root.locator('[data-strategy]').evaluateAll((shelves) => Object.fromEntries(shelves.map((shelf) => [
  shelf.dataset.strategy, [...shelf.querySelectorAll('[data-product-id]')].map((item) => item.dataset.productId),
])));

// ---------------------------------------------------------------------------------------------
// The pages: the click each measures, and what the merchant does there

const PAGE_TESTS = {
  async dashboard({ page, answers, config }) {
    const report = answerOf(answers, 'GET', '/app/api/report')?.body;
    check(report && Array.isArray(report.daily), 'dashboard: no report came');
    const shown = report.daily.reduce((sum, day) => sum + day.shown, 0);
    check(shown > 0 && report.rows.length > 0, `dashboard: the report of ${config.shop} is empty (${shown} shown): seed it first`);
    const points = Number(await page.locator('.chart-slot--shown svg').getAttribute('data-points'));
    check(points === report.daily.length && points > 0, `dashboard: the impressions chart draws ${points} points for ${report.daily.length} days`);
    const drawn = await page.locator('.chart-slot--shown .point').count();
    check(drawn === points, `dashboard: ${drawn} points drawn of ${points}`);
    const rows = await page.locator('.after-charts table').last().locator('tbody tr').count();
    check(rows === report.rows.length, `dashboard: the table has ${rows} rows for ${report.rows.length} in the report`);
    const totalShown = Number(await page.locator('.page').getAttribute('data-total-shown'));
    check(totalShown === shown, `dashboard: shows ${totalShown} impressions, the report ${shown}`);
    let click;
    const week = await answerTo(page, answers, 'GET', '/app/api/report', async () => {
      click = await measureClick(page, page.locator('[data-days="7"]'), () => waitReady(page, 'dashboard'));
    });
    check(week.query.includes('days=7') && week.body.daily.length === 7, `dashboard: 7 days asked ${week.query}, ${week.body?.daily?.length} days drawn`);
    return { click, result: { days: report.days, shown, rows } };
  },

  async rules({ page, answers, config }) {
    const exclude = page.locator('[data-list="exclude"]');
    const before = await exclude.locator('> li').count();
    const click = await measureClick(page, page.locator('.card:has([data-list="exclude"]) [data-action="add-rule"]'));
    check(await exclude.locator('> li').count() === before + 1, 'rules: "add a rule" added no exclusion');
    const row = exclude.locator('> li').last();
    check(await row.locator('select[name="field"]').inputValue() === 'product_id', 'rules: a new exclusion is not about a product');
    await row.locator('input[name="value"]').fill(config.excludeProduct);

    // The preview first: the product must be gone from the shelf the rules give.
    await page.locator('input[name="preview-product"]').fill(config.pickProduct);
    const previewed = await answerTo(page, answers, 'POST', '/app/api/rules/preview', () => page.locator('[data-action="preview-rules"]').click());
    check(previewed.status === 200, `rules: the preview answered ${previewed.status}: ${JSON.stringify(previewed.body)}`);
    await page.waitForSelector('.rules-preview[data-state="ready"]', { timeout: STEP_TIMEOUT_MS });
    const [beforeIds, afterIds] = await page.locator('.rules-preview .shelf').evaluateAll((shelves) => shelves.map((shelf) =>
      [...shelf.querySelectorAll('[data-product-id]')].map((item) => item.dataset.productId)));
    check(!afterIds.includes(config.excludeProduct), `rules: the preview still shows ${config.excludeProduct} after excluding it`);

    const saved = await answerTo(page, answers, 'PUT', '/app/api/rules', () => page.locator('[data-action="save-rules"]').click());
    check(saved.status === 200, `rules: saving answered ${saved.status}: ${JSON.stringify(saved.body)}`);
    check((saved.body?.exclude ?? []).some((match) => match.product_id === config.excludeProduct),
      `rules: the saved rules do not exclude ${config.excludeProduct}: ${JSON.stringify(saved.body)}`);
    await page.waitForSelector('form[data-form="rules"][data-saved]', { timeout: STEP_TIMEOUT_MS });
    return { click, result: { rule_saved: true, rule_preview: { before: beforeIds, after: afterIds } } };
  },

  async preview({ page, answers, config }) {
    let click;
    const answer = await answerTo(page, answers, 'GET', '/app/api/preview', async () => {
      click = await measureClick(page, page.locator('[data-action="pick-product"]'),
        () => page.waitForSelector('.shelves[data-state="ready"], .shelves[data-state="error"]', { timeout: STEP_TIMEOUT_MS }));
    });
    await checkNoInlineErrors(page, 'preview');
    check(new URLSearchParams(answer.query).get('product_id') === config.pickProduct, `preview: asked ${answer.query}, picked ${config.pickProduct}`);
    const shelves = await shelvesIn(page.locator('.shelves'));
    const served = Object.fromEntries(answer.body.shelves.map((s) => [s.strategy, s.recommendations.map((r) => String(r.id))]));
    check(JSON.stringify(shelves) === JSON.stringify(served), `preview: the page shows ${JSON.stringify(shelves)}, Kindred answered ${JSON.stringify(served)}`);
    check(Object.values(shelves).some((ids) => ids.length > 0), `preview: no shelf of ${config.pickProduct} has anything`);
    // The images on screen have loaded (lazy ones below the fold wait for a scroll).
    await page.waitForFunction(() => [...document.querySelectorAll('.product img')]
      .filter((img) => img.getBoundingClientRect().top < innerHeight)
      .every((img) => img.complete), null, { timeout: STEP_TIMEOUT_MS });
    return { click, result: { preview: shelves } };
  },

  async experiments({ page, answers }) {
    check(await page.locator('[data-experiment-id="holdout"]').count() === 1, 'experiments: the holdout is not listed');
    const click = await measureClick(page, page.locator('[data-action="add-arm"]'));
    check(await page.locator('.arm').count() === 3, 'experiments: "add arm" added no arm');
    await page.locator('.arm').last().locator('[data-action="remove-arm"]').click();
    const name = `Admin test ${new Date().toISOString()}`;
    await page.locator('form[data-form="experiment"] input[name="name"]').fill(name);
    await page.locator('form[data-form="experiment"] select[name="placement"]').selectOption('product');
    const created = await answerTo(page, answers, 'POST', '/app/api/experiments', () => page.locator('form[data-form="experiment"] [type="submit"]').click());
    check(created.status === 201, `experiments: creating answered ${created.status}: ${JSON.stringify(created.body)}`);
    const { id } = created.body;
    check(created.body.arms.length === 2 && created.body.status === 'draft', `experiments: created ${JSON.stringify(created.body)}`);
    const row = page.locator('tr', { has: page.locator(`[data-experiment-id="${id}"]`) });
    const started = await answerTo(page, answers, 'POST', `/app/api/experiments/${id}/start`, () => row.locator('[data-action="start"]').click());
    check(started.status === 200 && started.body.status === 'running', `experiments: starting answered ${started.status}: ${JSON.stringify(started.body)}`);
    await row.locator('[data-action="stop"]').waitFor({ timeout: STEP_TIMEOUT_MS });
    const answer = await answerTo(page, answers, 'GET', `/app/api/experiments/${id}/results`, () => row.locator('[data-action="results"]').click());
    const results = page.locator(`section[data-experiment-id="${id}"]`);
    await results.waitFor({ timeout: STEP_TIMEOUT_MS });
    await waitReady(page, 'experiments');
    check(answer?.status === 200, `experiments: results answered ${answer?.status}`);
    const arms = await results.locator('.table-wrap table tbody tr').count();
    check(arms === answer.body.arms.length, `experiments: ${arms} arms shown, ${answer.body.arms.length} in the results`);
    check((await results.locator('[data-verdict]').innerText()).trim() === answer.body.verdict.trim(), 'experiments: the verdict is not the server\'s');
    check((await results.locator('[data-method]').innerText()).trim().length > 0, 'experiments: the method is not shown');
    return { click, result: { experiment_id: id, experiment: { name, status: started.body.status, arms, verdict: answer.body.verdict } } };
  },

  async settings({ page, answers }) {
    const holdout = page.locator('input[name="holdout_enabled"]');
    const click = await measureClick(page, holdout);
    await holdout.click(); // back as it was: the form is saved unchanged
    const saved = await answerTo(page, answers, 'PUT', '/app/api/settings', () => page.locator('[data-action="save-settings"]').click());
    check(saved.status === 200, `settings: saving answered ${saved.status}: ${JSON.stringify(saved.body)}`);
    const loaded = answerOf(answers, 'GET', '/app/api/settings').body;
    check(JSON.stringify(saved.body) === JSON.stringify(loaded), `settings: saving unchanged changed ${JSON.stringify(loaded)} to ${JSON.stringify(saved.body)}`);

    const created = await answerTo(page, answers, 'POST', '/app/api/keys', () => page.locator('[data-action="create-key"]').click());
    check(created.status === 201, `settings: creating a key answered ${created.status}: ${JSON.stringify(created.body)}`);
    const shown = page.locator('input[data-new-key]');
    await shown.waitFor({ timeout: STEP_TIMEOUT_MS });
    check(await shown.inputValue() === created.body.key, 'settings: the new key shown is not the one created');
    const keyId = await shown.getAttribute('data-new-key');
    const revoke = page.locator(`[data-action="revoke"][data-key-id="${keyId}"]`);
    await revoke.click();
    // The second press confirms.
    const revoked = await answerTo(page, answers, 'DELETE', `/app/api/keys/${keyId}`, () => revoke.click());
    check(revoked.status < 300, `settings: revoking answered ${revoked.status}`);
    await revoke.waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS });
    return { click, result: { settings_saved: true, key_created_and_revoked: keyId } };
  },

  async billing({ page, answers, config }) {
    const billing = answerOf(answers, 'GET', '/app/api/billing').body;
    const plans = await page.locator('section[data-plan]').count();
    check(plans === billing.plans.length && plans > 0, `billing: ${plans} plans shown, ${billing.plans.length} offered`);
    check(await page.locator(`[data-current-plan="${billing.plan}"]`).count() === 1, `billing: the current plan ${billing.plan} is not shown`);
    const chosen = config.billingPlan ? await choosePlan(page, answers, config.billingPlan) : null;
    // Leaving and coming back: the click measured is the tab that opens Billing.
    await page.locator('.tabs a[data-route="settings"]').click();
    await waitReady(page, 'settings');
    const click = await measureClick(page, page.locator('.tabs a[data-route="billing"]'), () => waitReady(page, 'billing'));
    return { click, result: { plan: billing.plan, plans, chosen } };
  },
};

/** Chooses `plan`: the subscription is asked for, and its confirmation opens in the top frame. */
async function choosePlan(page, answers, plan) {
  const answer = await answerTo(page, answers, 'POST', '/app/api/billing/subscribe',
    () => page.locator(`[data-action="choose-plan"][data-plan="${plan}"]`).click());
  check(answer.status === 200 && answer.body?.confirmation_url, `billing: subscribing to ${plan} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  await page.waitForFunction(() => window.kindredAppBridgeCalls.opened.length > 0, null, { timeout: STEP_TIMEOUT_MS });
  const [opened] = await page.evaluate(() => window.kindredAppBridgeCalls.opened);
  check(opened.url === answer.body.confirmation_url && opened.target === '_top', `billing: opened ${JSON.stringify(opened)} for ${answer.body.confirmation_url}`);
  return { plan, confirmation_url: opened.url };
}

async function screenshot(page, config, name, taken) {
  if (!config.artifactDir) return;
  fs.mkdirSync(config.artifactDir, { recursive: true });
  const file = path.join(config.artifactDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  taken.push(file);
}

async function testLocales(session, config) {
  const locales = {};
  for (const lang of config.locales) {
    const { page, problems } = await openPage(session, config, lang, 'dashboard');
    const vitals = await readVitals(page);
    const click = await measureClick(page, page.locator('[data-days="7"]'), () => waitReady(page, 'dashboard'));
    const heading = (await page.locator('h1').innerText()).trim();
    const htmlLang = await page.evaluate(() => document.documentElement.lang);
    check(htmlLang === lang.split('-')[0], `${lang}: <html lang="${htmlLang}">`);
    if (DASHBOARD_HEADING[htmlLang]) check(heading === DASHBOARD_HEADING[htmlLang], `${lang}: the dashboard is headed "${heading}"`);
    const { shifts, ...measured } = { ...vitals, ...click };
    checkVitals(`dashboard (${lang})`, measured);
    checkProblems(`dashboard (${lang})`, problems);
    locales[lang] = { ...measured, heading, console_errors: problems.console_errors.length };
    await page.close();
  }
  return locales;
}

async function testPages(session, config, taken) {
  const lang = config.locales[0] ?? 'en';
  const pages = {};
  let results = {};
  for (const name of PAGES) {
    const { page, problems, answers } = await openPage(session, config, lang, name);
    const vitals = await readVitals(page);
    const { click, result } = await PAGE_TESTS[name]({ page, answers, config });
    await page.waitForLoadState('networkidle');
    await screenshot(page, config, name, taken);
    const { shifts, ...measured } = { ...vitals, ...click };
    checkVitals(name, measured);
    checkProblems(name, problems);
    pages[name] = { ...measured, console_errors: problems.console_errors.length };
    results = { ...results, ...result };
    await page.close();
  }
  return { pages, results };
}

/** The other shop's admin: its own totals, and none of the first shop's products or rules. */
async function testOtherShop(browser, config, shopPreview) {
  const session = await openContext(browser, config, config.otherShop);
  try {
    const lang = config.locales[0] ?? 'en';
    const dashboard = await openPage(session, config, lang, 'dashboard');
    const root = dashboard.page.locator('.page');
    const shown = Number(await root.getAttribute('data-total-shown'));
    const revenue = Number(await root.getAttribute('data-total-revenue'));
    checkProblems(`${config.otherShop} dashboard`, dashboard.problems);
    await dashboard.page.close();

    // The first shop's product is not the other's: an answer of 404 for it is right.
    const preview = await openPage(session, config, lang, 'preview', { expected: [/^\/app\/api\/preview$/] });
    await preview.page.locator('[data-action="pick-product"]').click();
    await preview.page.waitForSelector('.shelves[data-state="ready"], .shelves[data-state="error"]', { timeout: STEP_TIMEOUT_MS });
    const rules = await openPage(session, config, lang, 'rules');
    const ruleValues = await rules.page.locator('input[name="value"], input[name="pin"]').evaluateAll((inputs) => inputs.map((i) => i.value));
    const seen = new Set([
      ...Object.values(await shelvesIn(preview.page.locator('.shelves'))).flat(),
      ...ruleValues,
    ]);
    const theirs = new Set([...Object.values(shopPreview).flat(), config.excludeProduct]);
    const productsSeen = [...seen].filter((id) => theirs.has(id));
    checkProblems(`${config.otherShop} preview`, preview.problems);
    checkProblems(`${config.otherShop} rules`, rules.problems);
    check(productsSeen.length === 0, `${config.otherShop} sees ${config.shop}'s products: ${productsSeen.join(', ')}`);
    return { shop: config.otherShop, shown, revenue, products_seen: productsSeen };
  } finally {
    await session.context.close();
  }
}

async function main() {
  const config = settings();
  const browser = await chromium.launch({ executablePath: config.chromium, args: CHROMIUM_ARGS, headless: true });
  try {
    const session = await openContext(browser, config, config.shop);
    const taken = [];
    const locales = await testLocales(session, config);
    const { pages, results } = await testPages(session, config, taken);
    await session.context.close();
    const otherShop = config.otherShop ? await testOtherShop(browser, config, results.preview) : null;
    const summary = {
      shop: config.shop,
      locales,
      pages,
      rule_saved: results.rule_saved === true,
      rule_preview: results.rule_preview,
      preview: results.preview,
      experiment_id: results.experiment_id,
      experiment: results.experiment,
      settings_saved: results.settings_saved === true,
      key_created_and_revoked: results.key_created_and_revoked,
      billing: { plan: results.plan, plans: results.plans, chosen: results.chosen },
      other_shop: otherShop,
      screenshots: taken,
    };
    console.log(JSON.stringify(summary));
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(error instanceof CheckFailed ? `check failed: ${error.message}` : error.stack);
  process.exit(1);
});
