// The app proxy signature as Shopify documents it: HMAC-SHA256 (hex) of the query's
// `key=value` strings, `signature` left out, the values of a repeated key joined by `,`,
// sorted and concatenated with no separator.

import { createHmac, timingSafeEqual } from 'node:crypto';

/** The signed message of a query given as ordered `[key, value]` pairs. */
export function appProxyMessage(pairs) {
  const grouped = new Map();
  for (const [key, value] of pairs) {
    if (key === 'signature') continue;
    grouped.set(key, [...(grouped.get(key) ?? []), value]);
  }
  // Shopify's reference sorts the joined `key=value` strings by code unit. That is the order
  // of the keys except where one key begins another and the longer one goes on with a
  // character below `=` (`a1=` sorts before `a=`); no parameter Kindred uses is such a pair.
  return [...grouped]
    .map(([key, values]) => `${key}=${values.join(',')}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .join('');
}

export function appProxySignature(pairs, secret) {
  return createHmac('sha256', secret).update(appProxyMessage(pairs), 'utf8').digest('hex');
}

/** The pairs followed by their `signature`. */
export function signAppProxyQuery(pairs, secret) {
  return [...pairs, ['signature', appProxySignature(pairs, secret)]];
}

/**
 * What Shopify adds to a storefront request before it forwards it to the app: the shop, the
 * logged-in customer (empty for a guest), the proxy's path prefix, the time, and the signature
 * over all of it and the shopper's own parameters.
 */
export function proxiedQuery(searchParams, { shop, customerId = '', pathPrefix, secret, now = Date.now() }) {
  const pairs = [...searchParams].filter(([key]) => key !== 'signature');
  pairs.push(
    ['shop', shop],
    ['logged_in_customer_id', customerId],
    ['path_prefix', pathPrefix],
    ['timestamp', String(Math.floor(now / 1000))],
  );
  return new URLSearchParams(signAppProxyQuery(pairs, secret));
}

/**
 * Checks a forwarded query: exactly one hex `signature` that matches, and a `timestamp`
 * within `toleranceSeconds` of `now` (a captured URL cannot be replayed for long).
 */
export function verifyAppProxyQuery(pairs, secret, { now = Date.now(), toleranceSeconds = 90 } = {}) {
  const signatures = pairs.filter(([key]) => key === 'signature').map(([, value]) => value);
  if (signatures.length !== 1 || !/^[0-9a-f]{64}$/i.test(signatures[0])) {
    return { valid: false, reason: 'missing or repeated signature' };
  }
  const timestamps = pairs.filter(([key]) => key === 'timestamp').map(([, value]) => value);
  const timestamp = Number(timestamps[0]);
  if (timestamps.length !== 1 || !Number.isInteger(timestamp)) {
    return { valid: false, reason: 'missing or malformed timestamp' };
  }
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) {
    return { valid: false, reason: 'timestamp outside the tolerance' };
  }
  const expected = Buffer.from(appProxySignature(pairs, secret), 'hex');
  const given = Buffer.from(signatures[0], 'hex');
  if (!timingSafeEqual(expected, given)) return { valid: false, reason: 'signature mismatch' };
  return { valid: true };
}
