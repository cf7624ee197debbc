// The shopper's analytics consent seen from outside the page: what the block and the embed
// keep in the browser, and what reaches Kindred and the cart, before and after a yes.

import { check, checkAccepted, eventCounts, eventsOf, isEventsRecord, STEP_TIMEOUT_MS } from './check.mjs';

const CLIENT_ID_KEY = 'kindred_client_id';
const CART_ATTRIBUTE = '_kindred_client_id';

const storage = (page) => page.evaluate(() => ({ local: { ...localStorage }, session: { ...sessionStorage } }));

const recommendationRequest = (view) => view.forwarded.find((record) => record.path === '/proxy/recommendations/cards');
const clientIdParam = (record) => (record ? new URLSearchParams(record.query).get('client_id') : undefined);

/** The shopper says yes on the page, as Shopify's banner does through the API. */
export const giveConsent = (page) => page.evaluate(() => new Promise((resolve) => {
  window.Shopify.customerPrivacy.setTrackingConsent({ analytics: true, marketing: false, preferences: false, sale_of_data: false }, resolve);
}));

/**
 * Without consent the cards came, and nothing else: no id kept in the browser, no event sent,
 * no id on the recommendations request, the cart untouched. `quietMs` is waited first, longer
 * than the block holds impressions before sending them.
 */
export async function checkNothingPersonal(page, view, quietMs) {
  await page.waitForTimeout(quietMs);
  const { local, session } = await storage(page);
  check(Object.keys(local).length === 0, `localStorage holds ${JSON.stringify(local)} without consent`);
  check(Object.keys(session).length === 0, `sessionStorage holds ${JSON.stringify(session)} without consent`);
  const posts = view.arrived.filter(isEventsRecord);
  check(posts.length === 0, `${posts.length} event requests reached the proxy without consent`);
  const request = recommendationRequest(view);
  check(request, 'no recommendations request reached Kindred');
  check(clientIdParam(request) === null, `the recommendations request named the browser (${clientIdParam(request)}) without consent`);
  check(view.cartRequests.length === 0, `the cart was asked ${view.cartRequests.length} times without consent`);
  return {
    event_posts: posts.length,
    local_storage: Object.keys(local),
    session_storage: Object.keys(session),
    recommendation_client_id: clientIdParam(request),
    cart_requests: view.cartRequests.length,
  };
}

/**
 * With consent: one id, kept in localStorage, on every event Kindred took (and on the
 * recommendations request when `named`), and in the cart's attributes, set once a session.
 */
export async function checkPersonal(page, view, { named = true } = {}) {
  const isUpdate = (record) => record.path === '/cart/update.js';
  await view.waitFor(() => view.cartRequests.some(isUpdate), STEP_TIMEOUT_MS, 'the cart attribute update');
  const { local } = await storage(page);
  const clientId = local[CLIENT_ID_KEY];
  check(clientId, `no ${CLIENT_ID_KEY} in localStorage with consent: ${JSON.stringify(local)}`);
  const events = eventsOf(view.forwarded);
  check(events.length > 0, 'no event reached Kindred with consent');
  const others = events.filter(({ event }) => event.client_id !== clientId).map(({ event }) => `${event.type}: ${event.client_id}`);
  check(others.length === 0, `events under another id than ${clientId}: ${others.join(', ')}`);
  checkAccepted(view.forwarded);
  const requestId = clientIdParam(recommendationRequest(view));
  if (named) check(requestId === clientId, `the recommendations request named ${requestId}, the browser is ${clientId}`);
  const updates = view.cartRequests.filter(isUpdate);
  const reads = view.cartRequests.filter((record) => record.path === '/cart.js');
  // Later pages of the session (the click's) leave the cart alone.
  check(reads.length === 1 && updates.length === 1,
    `the cart was read ${reads.length} and updated ${updates.length} times: once a session is enough`);
  check(updates[0].body?.attributes?.[CART_ATTRIBUTE] === clientId,
    `the cart update sent ${JSON.stringify(updates[0].body)}, the browser is ${clientId}`);
  const cart = view.cartRequests.at(-1).attributes;
  check(cart[CART_ATTRIBUTE] === clientId, `the cart's attributes are ${JSON.stringify(cart)}`);
  return {
    client_id: clientId,
    events: eventCounts(view.forwarded),
    recommendation_client_id: requestId,
    cart_attribute: cart[CART_ATTRIBUTE],
    cart_requests: view.cartRequests.map((record) => `${record.method} ${record.path}`),
  };
}
