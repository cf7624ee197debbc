// Runs a command against the mock Kindred: starts it on a free port with a fresh secret,
// passes KINDRED_URL, KINDRED_PROXY_SECRET, SHOP and PRODUCT_ID on (unless already set), and
// exits with the command's status.
//
//   node with-mock.mjs node storefront.mjs
//   node with-mock.mjs node bench/lighthouse.mjs

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { createMockKindred } from './mock-kindred.mjs';
import { DEFAULT_CATALOG } from './lib/catalog.mjs';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node with-mock.mjs COMMAND [ARGS...]');
  process.exit(2);
}

const env = {
  ...process.env,
  KINDRED_PROXY_SECRET: process.env.KINDRED_PROXY_SECRET || randomBytes(32).toString('hex'),
  SHOP: process.env.SHOP || 'yoga-store.myshopify.com',
  PRODUCT_ID: process.env.PRODUCT_ID || '4357742755898',
};
const mock = createMockKindred({
  secret: env.KINDRED_PROXY_SECRET,
  shop: env.SHOP,
  catalog: process.env.KINDRED_CATALOG || DEFAULT_CATALOG,
});
env.KINDRED_URL = await mock.listen();

const child = spawn(command, args, { env, stdio: 'inherit' });
const forward = (signal) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', async (code, signal) => {
  await mock.close();
  process.exit(code ?? (signal ? 1 : 0));
});
