// App proxy queries signed the way Shopify documents, each with the verdict of Shopify's own
// Node library (`shopify.utils.validateHmac` with the `appProxy` signator). Kindred's verifier
// is checked against these verdicts, so that it accepts and refuses what Shopify's reference
// implementation does.
//
//   node proxy-signature.mjs [secret]      (else KINDRED_PROXY_SECRET, else a random secret)
//
// Prints one JSON document: {"now", "secret", "cases": [{name, query, library_valid}],
// "quirks": [...]}. `query` is the ordered list of [key, value] pairs, `signature` included.
// `quirks` are queries on which the library and Shopify's documented algorithm disagree; they
// document the library and are not verdicts to copy.

import { randomBytes } from 'node:crypto';

import '@shopify/shopify-api/adapters/node';
import { ApiVersion, LogSeverity, shopifyApi } from '@shopify/shopify-api';

import { signAppProxyQuery } from './lib/app-proxy.mjs';

const secret = process.argv[2] || process.env.KINDRED_PROXY_SECRET || randomBytes(32).toString('hex');
const shop = process.env.SHOP || 'yoga-store.myshopify.com';
const now = Math.floor(Date.now() / 1000);

const shopify = shopifyApi({
  apiSecretKey: secret,
  apiKey: 'x',
  scopes: [],
  hostName: 'localhost',
  isEmbeddedApp: false,
  apiVersion: ApiVersion.October25,
  // stdout carries the JSON document alone.
  logger: { level: LogSeverity.Warning, log: (_severity, message) => console.error(message) },
});

// How a Node server hands a query to the library: a repeated key becomes an array.
const toQueryObject = (pairs) => {
  const query = {};
  for (const [key, value] of pairs) {
    if (!(key in query)) query[key] = value;
    else query[key] = [].concat(query[key], value);
  }
  return query;
};

const libraryVerdict = async (pairs) => {
  try {
    return { library_valid: await shopify.utils.validateHmac(toQueryObject(pairs), { signator: 'appProxy' }) };
  } catch (error) {
    // The library throws, rather than answering false, for a timestamp out of its tolerance.
    return { library_valid: false, library_error: `${error.name}: ${error.message}` };
  }
};

const shopifyParams = ({ age = 0, customer = '7250493948026' } = {}) => [
  ['shop', shop],
  ['logged_in_customer_id', customer],
  ['path_prefix', '/apps/kindred'],
  ['timestamp', String(now - age)],
];
const shopperParams = [
  ['strategy', 'similar'],
  ['fallback', 'trending'],
  ['limit', '8'],
  ['product_id', '4357742755898'],
  ['client_id', '0b7c6a1e-3f2d-4c59-9a8e-5d4f3b2a1c0e'],
];
const sign = (pairs, key = secret) => signAppProxyQuery(pairs, key);
const replaceValue = (pairs, name, value) => pairs.map(([k, v]) => [k, k === name ? value : v]);

const cases = {
  valid: sign([...shopperParams, ...shopifyParams()]),
  'valid-guest': sign([...shopperParams, ...shopifyParams({ customer: '' })]),
  'tampered-after-signing': replaceValue(sign([...shopperParams, ...shopifyParams()]), 'product_id', '7553763328207'),
  'stale-600s': sign([...shopperParams, ...shopifyParams({ age: 600 })]),
  'multi-value': sign([['ids', '1'], ['ids', '2'], ...shopifyParams()]),
  'wrong-secret': sign([...shopperParams, ...shopifyParams()], `${secret}-not`),
  'aged-60s': sign([...shopperParams, ...shopifyParams({ age: 60 })]),
};

const quirks = {
  'no-timestamp': {
    query: sign([...shopperParams, ...shopifyParams()].filter(([key]) => key !== 'timestamp')),
    note: 'Number(undefined) is NaN and NaN > 90 is false: a signed query without a timestamp never expires',
  },
  'mixed-case-keys': {
    query: sign([['Zone', 'eu'], ['amount', '1'], ...shopifyParams()]),
    note: 'the library sorts keys with localeCompare (amount before Zone); Shopify sorts by code unit (Zone first)',
  },
  'key-prefix-below-equals': {
    query: sign([['a', '1'], ['a1', '2'], ...shopifyParams()]),
    note: 'Shopify sorts the joined key=value strings (a1=2 before a=1); the library sorts the keys (a before a1)',
  },
};

const document = { now, secret, cases: [], quirks: [] };
for (const [name, query] of Object.entries(cases)) {
  document.cases.push({ name, query, ...(await libraryVerdict(query)) });
}
for (const [name, { query, note }] of Object.entries(quirks)) {
  document.quirks.push({ name, query, documented_valid: true, ...(await libraryVerdict(query)), note });
}
console.log(JSON.stringify(document, null, 2));
