// The app proxy signature: ours (the stand-in proxy signs with it, the mock verifies with it)
// against Shopify's documented example and Shopify's own Node library.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

import { appProxySignature, verifyAppProxyQuery } from './lib/app-proxy.mjs';

const run = (secret) => JSON.parse(execFileSync(process.execPath, ['proxy-signature.mjs', secret], {
  cwd: new URL('.', import.meta.url),
  encoding: 'utf8',
}));

test("signing reproduces the example in Shopify's app proxy documentation", () => {
  const query = [
    ['extra', '1'],
    ['extra', '2'],
    ['shop', 'shop-name.myshopify.com'],
    ['path_prefix', '/apps/awesome_reviews'],
    ['timestamp', '1317327555'],
  ];
  assert.equal(appProxySignature(query, 'hush'), 'a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3');
});

test("Shopify's library accepts what is signed and fresh, and refuses the rest", () => {
  const { cases } = run('a-test-secret');
  const verdicts = Object.fromEntries(cases.map((c) => [c.name, c.library_valid]));
  assert.deepEqual(verdicts, {
    valid: true,
    'valid-guest': true,
    'tampered-after-signing': false,
    'stale-600s': false,
    'multi-value': true,
    'wrong-secret': false,
    'aged-60s': true,
  });
});

test("the mock's verifier gives the library's verdict on every case", () => {
  const { now, secret, cases } = run('another-secret');
  for (const { name, query, library_valid: expected } of cases) {
    const { valid } = verifyAppProxyQuery(query, secret, { now: now * 1000 });
    assert.equal(valid, expected, name);
  }
});

test('the library quirks are still there (an upgrade that changes them shows here)', () => {
  const { quirks } = run('a-third-secret');
  const verdicts = Object.fromEntries(quirks.map((q) => [q.name, q.library_valid]));
  assert.deepEqual(verdicts, { 'no-timestamp': true, 'mixed-case-keys': false, 'key-prefix-below-equals': false });
});
