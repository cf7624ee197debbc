// Kindred's web pixel: Shopify's standard shopper events, mapped to Kindred's event shape and
// sent in batches to the pixel endpoint named in the pixel's settings. Shopify runs it only
// with the visitor's analytics consent (shopify.extension.toml), on the storefront and in
// checkout, in a sandbox that reaches the page only through `browser`.

export const EVENT_TYPES = [
  'product_viewed',
  'collection_viewed',
  'search_submitted',
  'product_added_to_cart',
  'product_removed_from_cart',
  'checkout_completed',
];
export const MAX_EVENTS_PER_REQUEST = 100; // the endpoint's limit
// Long enough to gather what one page reports, short enough to go before the shopper leaves.
export const FLUSH_DELAY_MS = 500;
// The browser id the theme embed keeps (kindred-tracking.js), and the cart attribute it
// copies that id into so that checkout, maybe on another origin, still knows the browser.
export const CLIENT_ID_KEY = 'kindred_client_id';
export const CLIENT_ID_ATTRIBUTE = '_kindred_client_id';
const KEY_PREFIX = 'kdr_sf_';

/**
 * A Shopify id as its digits: from digits, `gid://shopify/Product/123`, or a number small
 * enough to be exact. Anything else is null: an id that lost digits would name another product.
 */
export function shopifyId(value) {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? String(value) : null;
  if (typeof value !== 'string') return null;
  const match = /^(?:gid:\/\/shopify\/\w+\/)?(\d{1,20})$/.exec(value.trim());
  return match ? match[1] : null;
}

const quantity = (value) => (Number.isInteger(value) && value > 0 ? value : null);

const text = (value) => (typeof value === 'string' && value.trim() ? value.trim() : null);

// Each type's own fields, or null when the event lacks one: half an event is never sent.
const complete = (fields) => (Object.values(fields).every((value) => value != null) ? fields : null);

const cartLine = (data) => complete({
  product_id: shopifyId(data.cartLine?.merchandise?.product?.id),
  quantity: quantity(data.cartLine?.quantity),
});

const FIELDS = {
  product_viewed: (data) => complete({ product_id: shopifyId(data.productVariant?.product?.id) }),
  collection_viewed: (data) => complete({ collection_id: shopifyId(data.collection?.id) }),
  search_submitted: (data) => complete({ query: text(data.searchResult?.query) }),
  product_added_to_cart: cartLine,
  product_removed_from_cart: cartLine,
  checkout_completed: ({ checkout }) => {
    // Gift cards and custom items have no product: the rest of the order still counts.
    const lines = (checkout?.lineItems ?? [])
      .map((line) => complete({ product_id: shopifyId(line?.variant?.product?.id), quantity: quantity(line?.quantity) }))
      .filter(Boolean);
    return complete({
      line_items: lines.length ? lines : null,
      order_id: shopifyId(checkout?.order?.id),
      checkout_token: text(checkout?.token),
    });
  },
};

/** Kindred's event for one of Shopify's, or null when it lacks something its type needs. */
export function toKindredEvent(event, clientId) {
  const fields = FIELDS[event?.name]?.(event.data ?? {});
  const id = text(event?.id);
  const occurredAt = text(event?.timestamp);
  if (!fields || !id || !occurredAt || !text(clientId)) return null;
  return { type: event.name, id, client_id: clientId, occurred_at: occurredAt, ...fields };
}

const checkoutAttribute = (event, key) => {
  if (event.name !== 'checkout_completed') return null;
  const attributes = event.data?.checkout?.attributes;
  return Array.isArray(attributes) ? text(attributes.find((attribute) => attribute?.key === key)?.value) : null;
};

/**
 * The id this browser is known by. The cart attribute the embed set wins in checkout, whose
 * storage may be another origin's; then the embed's stored id; then Shopify's own, stored for
 * the embed to adopt. Storage the browser refuses leaves Shopify's id.
 */
async function clientIdOf(event, storage) {
  const attributed = checkoutAttribute(event, CLIENT_ID_ATTRIBUTE);
  if (attributed) return attributed;
  try {
    const stored = text(await storage.getItem(CLIENT_ID_KEY));
    if (stored) return stored;
    if (text(event.clientId)) await storage.setItem(CLIENT_ID_KEY, event.clientId);
  } catch (_) {
    // Blocked or unavailable storage: Shopify's id still ties the shopper's events together.
  }
  return text(event.clientId);
}

/**
 * The pixel, given what Shopify's `register` passes. Returns what a test needs to drive it:
 * `flush` sends what is queued, `idle` settles once every event received so far is queued.
 */
export function kindredPixel({ analytics, browser, settings }) {
  const endpoint = text(settings?.endpoint);
  const key = text(settings?.key);
  // Without both there is nowhere to send; a key of another kind must never leave a browser.
  if (!endpoint || !key || !key.startsWith(KEY_PREFIX)) return { flush() {}, idle: () => Promise.resolve() };

  const queue = [];
  let timer = null;
  let pending = Promise.resolve();

  const post = (events) => fetch(endpoint, {
    method: 'POST',
    keepalive: true,
    // A simple request: no CORS preflight, which the sandbox's origin would otherwise need.
    headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
    body: JSON.stringify({ key, events }),
  }).catch(() => {
    // Best effort: a refused or failed batch (429, 4xx, offline) is dropped, never retried in
    // a loop; orders themselves reach Kindred through Shopify's webhooks.
  });

  const flush = () => {
    clearTimeout(timer);
    timer = null;
    while (queue.length) post(queue.splice(0, MAX_EVENTS_PER_REQUEST));
  };

  const receive = async (event) => {
    const kindred = toKindredEvent(event, await clientIdOf(event, browser.localStorage));
    if (!kindred) return;
    queue.push(kindred);
    // A purchase is often the page's last moment: it goes at once.
    if (kindred.type === 'checkout_completed' || queue.length >= MAX_EVENTS_PER_REQUEST) flush();
    else if (!timer) timer = setTimeout(flush, FLUSH_DELAY_MS);
  };

  for (const type of EVENT_TYPES) {
    analytics.subscribe(type, (event) => {
      pending = pending.then(() => receive(event)).catch(() => {});
      return pending;
    });
  }
  return { flush, idle: () => pending };
}
