// A tiny stand-in for Kindred's storefront API: each request is recorded, each answer is
// whatever the test routed to its path.
import { createServer } from 'node:http';

/**
 * Starts a server on a free loopback port. `routes` maps `METHOD /path` to a handler
 * `(request) => {status, headers, body}` (body: an object sent as JSON, or a string); `*`
 * answers the paths no other route names.
 */
export async function mockKindred(routes) {
  const requests = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const url = new URL(req.url, 'http://mock');
    const text = Buffer.concat(chunks).toString('utf8');
    const request = {
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      rawQuery: url.search,
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
    };
    requests.push(request);
    const route = routes[`${req.method} ${url.pathname}`] ?? routes['*'];
    const answer = route ? await route(request) : { status: 404, body: { error: { code: 'not_found', message: `no route ${url.pathname}` } } };
    const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? null);
    res.writeHead(answer.status ?? 200, {
      'content-type': typeof answer.body === 'string' ? 'text/plain' : 'application/json',
      ...answer.headers,
    });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(resolve);
    }),
  };
}

/** A shelf item as the server sends it; ids beyond 2^53 stay exact as strings. */
export function item(id, overrides = {}) {
  return {
    id,
    handle: `product-${id}`,
    title: `Product ${id}`,
    vendor: 'Manduka',
    product_type: 'Mat',
    tags: ['yoga'],
    status: 'active',
    available: true,
    price: '129.00',
    compare_at_price: null,
    image_url: `https://cdn.shopify.com/s/files/1/0001/${id}.jpg`,
    url: `/products/product-${id}`,
    score: 0.83,
    reason: 'similar to Manduka PRO Yoga Mat 6mm',
    ...overrides,
  };
}
