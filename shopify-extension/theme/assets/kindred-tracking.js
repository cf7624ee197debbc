/* Kindred: shopper events (app embed). Reports what this page shows (a product, a collection,
   search results) and add-to-cart submits, under an anonymous id kept in this browser. */
(() => {
  'use strict';
  // Themes and the theme editor can render the embed twice; one page is one set of events.
  if (window.kindredTracking) return;
  window.kindredTracking = true;

  const config = document.querySelector('[data-kindred-tracking]');
  // The merchant's own previews in the theme editor are not shopper activity.
  if (!config || (window.Shopify && window.Shopify.designMode)) return;

  const CLIENT_ID_KEY = 'kindred_client_id'; // shared with kindred-recommendations.js
  const { proxyBase, productId, collectionId, searchTerms } = config.dataset;
  const eventsUrl = `${proxyBase}/events`;

  // randomUUID needs a secure context; the bytes fallback makes the same version-4 shape.
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (n, i) => (i === 6 ? (n & 15) | 64 : i === 8 ? (n & 63) | 128 : n).toString(16).padStart(2, '0')
      + ([3, 5, 7, 9].includes(i) ? '-' : ''),
  ).join(''));

  let pageClientId;
  const clientId = () => {
    try {
      let id = localStorage.getItem(CLIENT_ID_KEY);
      if (!id) localStorage.setItem(CLIENT_ID_KEY, (id = uuid()));
      return id;
    } catch (_) {
      // Storage blocked by the shopper's privacy settings: one id still ties this page together.
      return (pageClientId = pageClientId || uuid());
    }
  };

  const event = (type, fields) => ({ type, id: uuid(), client_id: clientId(), ...fields });

  // A beacon survives the navigation that usually follows (an add-to-cart form posts and
  // leaves the page); fetch with keepalive covers browsers without one or a full beacon queue.
  const send = (events) => {
    const body = JSON.stringify({ events });
    if (navigator.sendBeacon && navigator.sendBeacon(eventsUrl, new Blob([body], { type: 'application/json' }))) return;
    fetch(eventsUrl, {
      method: 'POST',
      body,
      keepalive: true,
      headers: { 'Content-Type': 'application/json' },
    }).catch(() => {});
  };

  const pageEvents = [];
  if (productId) pageEvents.push(event('product_viewed', { product_id: productId }));
  if (collectionId) pageEvents.push(event('collection_viewed', { collection_id: collectionId }));
  if (searchTerms) pageEvents.push(event('search_submitted', { query: searchTerms }));
  if (pageEvents.length) {
    // Off the critical path: the page's own work comes first.
    if (window.requestIdleCallback) requestIdleCallback(() => send(pageEvents), { timeout: 2000 });
    else setTimeout(() => send(pageEvents), 0);
  }

  // Capture phase: themes that add to the cart with fetch stop the submit from bubbling.
  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.matches('form[action*="/cart/add"]')) return;
    const field = form.querySelector('[name="product-id"]');
    const id = (field && field.value) || form.dataset.productId || productId;
    if (id) send([event('product_added_to_cart', { product_id: id })]);
  }, true);
})();
