// What the app costs a storefront's Lighthouse performance score: the stand-in product page
// with the app block and embed, and the same page without them, measured alternately in one
// Debian Chromium, RUNS times each. Prints the medians and the difference. A benchmark, not
// a test: scores move with the machine's load.
//
//   node ../with-mock.mjs node lighthouse.mjs          (from this folder, against the mock)
//   KINDRED_URL=... KINDRED_PROXY_SECRET=... node lighthouse.mjs
//
// Environment: RUNS (5), PRESET (mobile: Lighthouse's default, a throttled mid-range phone;
// or desktop), and the storefront's own (SHOP, PRODUCT_ID, PRODUCT_JSON, BLOCK_SETTINGS).

import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import desktopConfig from 'lighthouse/core/config/desktop-config.js';

import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../lib/chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.RUNS || 5);
const PRESET = process.env.PRESET || 'mobile';
const METRICS = {
  'first-contentful-paint': 'FCP ms',
  'largest-contentful-paint': 'LCP ms',
  'total-blocking-time': 'TBT ms',
  'cumulative-layout-shift': 'CLS',
  'speed-index': 'SI ms',
};

for (const name of ['KINDRED_URL', 'KINDRED_PROXY_SECRET']) {
  if (!process.env[name]) {
    console.error(`${name} is required (or run through ../with-mock.mjs)`);
    process.exit(2);
  }
}

const servers = [];
process.on('exit', () => servers.forEach((child) => child.kill('SIGTERM')));

/** A storefront in SERVE_ONLY mode; resolves with its page URL. */
const serve = (block) => new Promise((resolve, reject) => {
  const child = spawn(process.execPath, [path.join(here, '../storefront.mjs')], {
    env: { ...process.env, SERVE_ONLY: '1', BLOCK: block ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  servers.push(child);
  child.on('error', reject);
  child.on('exit', (code) => reject(new Error(`the storefront exited with ${code}`)));
  createInterface({ input: child.stdout }).once('line', (line) => resolve({ url: JSON.parse(line).url }));
});

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const format = (value, key) => (key === 'CLS' ? value.toFixed(3) : Math.round(value).toString());

const pages = { with: await serve(true), without: await serve(false) };
for (const child of servers) child.removeAllListeners('exit');
const chrome = await chromeLauncher.launch({
  chromePath: CHROMIUM_PATH,
  chromeFlags: CHROMIUM_ARGS,
  logLevel: 'silent',
});
const results = { with: [], without: [] };
let browser = 'Chromium';
let lighthouseVersion = '';
try {
  for (let run = 1; run <= RUNS; run += 1) {
    // Alternating spreads any drift of the machine's load over both pages alike.
    for (const variant of ['without', 'with']) {
      const { lhr } = await lighthouse(
        pages[variant].url,
        { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: ['performance'] },
        PRESET === 'desktop' ? desktopConfig : undefined,
      );
      lighthouseVersion = lhr.lighthouseVersion;
      const row = { score: lhr.categories.performance.score * 100 };
      for (const [id, label] of Object.entries(METRICS)) row[label] = lhr.audits[id].numericValue;
      results[variant].push(row);
      browser = /(?:HeadlessChrome|Chrome)\/[\d.]+/.exec(lhr.environment.hostUserAgent)?.[0] ?? browser;
      console.error(`run ${run}/${RUNS} ${variant} the app: score ${row.score}`);
    }
  }
} finally {
  await chrome.kill();
  servers.forEach((child) => child.kill('SIGTERM'));
}

const columns = ['score', ...Object.values(METRICS)];
const medians = Object.fromEntries(Object.entries(results).map(([variant, rows]) => [
  variant,
  Object.fromEntries(columns.map((column) => [column, median(rows.map((row) => row[column]))])),
]));
console.log(`Lighthouse ${lighthouseVersion}, ${PRESET}, median of ${RUNS} runs each, ${browser}`);
console.log(`| page | ${columns.join(' | ')} |`);
console.log(`|---|${columns.map(() => '---:').join('|')}|`);
for (const [variant, label] of [['without', 'without the app'], ['with', 'with block and embed']]) {
  console.log(`| ${label} | ${columns.map((c) => format(medians[variant][c], c)).join(' | ')} |`);
}
console.log(`| difference | ${columns.map((c) => {
  const delta = medians.with[c] - medians.without[c];
  return `${delta >= 0 ? '+' : ''}${format(delta, c)}`;
}).join(' | ')} |`);
