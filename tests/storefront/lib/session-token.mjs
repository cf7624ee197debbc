// Shopify session tokens as App Bridge hands them to an embedded app: an HS256 JWT signed
// with the app's secret, naming the shop in `iss` and `dest` and the app in `aud`, good for
// a minute. Minted fresh for every request, as App Bridge does.

import { createHmac, randomUUID } from 'node:crypto';

const base64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export function sessionToken({ shop, apiKey, secret, now = Date.now() }) {
  const seconds = Math.floor(now / 1000);
  const header = base64url({ alg: 'HS256', typ: 'JWT' });
  const claims = base64url({
    iss: `https://${shop}/admin`,
    dest: `https://${shop}`,
    aud: apiKey,
    sub: '1',
    exp: seconds + 60,
    nbf: seconds - 5,
    iat: seconds,
    jti: randomUUID(),
    sid: randomUUID(),
  });
  const signature = createHmac('sha256', secret).update(`${header}.${claims}`).digest('base64url');
  return `${header}.${claims}.${signature}`;
}
