/* Kindred: shopper events (app embed). Once the shopper allows analytics, reports what this
   page shows (a product, a collection, search results) and add-to-cart submits under an
   anonymous id kept in this browser, and copies that id into the cart so the order names it. */
(() => {
  'use strict';
  // Themes and the theme editor can render the embed twice; one page is one set of events.
  if (window.kindredTracking) return;
  window.kindredTracking = true;

  const config = document.querySelector('[data-kindred-tracking]');
  // The merchant's own previews in the theme editor are not shopper activity.
  if (!config || (window.Shopify && window.Shopify.designMode)) return;

  const CLIENT_ID_KEY = 'kindred_client_id'; // shared with kindred-recommendations.js and the web pixel
  // Underscored cart attributes are hidden from the shopper; the order keeps them, and the web
  // pixel reads this one in checkout, whose storage may be another origin's.
  const CART_ATTRIBUTE = '_kindred_client_id';
  const CART_DONE_KEY = 'kindred_cart_client_id';
  const { proxyBase, productId, collectionId, searchTerms } = config.dataset;
  const eventsUrl = `${proxyBase}/events`;

  // randomUUID needs a secure context; elsewhere 16 random bytes in hex are as unique.
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (n) => n.toString(16).padStart(2, '0')).join(''));

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

  // Whether the shopper allows analytics, from Shopify's Customer Privacy API: `onChange` hears
  // the answer known at load (no until the shopper answers where the shop asks), then each new
  // one from the banner. Every Online Store page defines loadFeatures; a page without it is not
  // Shopify's storefront (a test page, the theme served elsewhere), has no consent of Shopify's
  // to ask, and keeps the behaviour from before consent was asked: its owner answers for it.
  const watchConsent = (onChange) => {
    const shopify = window.Shopify;
    if (!shopify || !shopify.loadFeatures) return onChange(true);
    document.addEventListener('visitorConsentCollected', (e) => onChange(!!(e.detail && e.detail.analyticsAllowed)));
    // An API that failed to load cannot say yes.
    shopify.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }],
      (error) => onChange(!error && shopify.customerPrivacy.analyticsProcessingAllowed()));
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

  const root = () => (window.Shopify && window.Shopify.routes && window.Shopify.routes.root) || '/';
  const json = { Accept: 'application/json' };
  // Shopify drops a cart attribute set to the empty string.
  const setCartId = async (id) => {
    const headers = { ...json, 'Content-Type': 'application/json' };
    const body = JSON.stringify({ attributes: { [CART_ATTRIBUTE]: id } });
    return (await (await fetch(`${root()}cart/update.js`, { method: 'POST', headers, body })).json()).attributes;
  };

  // Once a browser session, and only when the cart does not already say so: the cart keeps its
  // attributes until checkout. Nothing breaks without it, so a failure stays silent.
  const tagCart = async (id) => {
    try {
      if (id === pageClientId || sessionStorage.getItem(CART_DONE_KEY) === id) return;
      let { attributes } = await (await fetch(`${root()}cart.js`, { headers: json })).json();
      if (attributes[CART_ATTRIBUTE] !== id) attributes = await setCartId(id);
      // The cart Shopify answers with is the proof: an error answer holds no such attribute.
      if (attributes[CART_ATTRIBUTE] === id) sessionStorage.setItem(CART_DONE_KEY, id);
    } catch (_) {
      // No cart to read (not a storefront page) or storage refused.
    }
  };

  // Off the critical path: the page's own work comes first.
  const later = (task) => (window.requestIdleCallback ? requestIdleCallback(task, { timeout: 2000 }) : setTimeout(task, 0));

  let allowed = false;
  let started = false;
  // This page's events wait for consent, however late it comes; refused, they are never made.
  const start = () => {
    if (started) return;
    started = true;
    const pageEvents = [];
    if (productId) pageEvents.push(event('product_viewed', { product_id: productId }));
    if (collectionId) pageEvents.push(event('collection_viewed', { collection_id: collectionId }));
    if (searchTerms) pageEvents.push(event('search_submitted', { query: searchTerms }));
    later(() => {
      if (!allowed) return; // withdrawn in the meantime
      if (pageEvents.length) send(pageEvents);
      tagCart(clientId());
    });
  };
  // Consent withdrawn: the id this browser was known by goes, from storage and from the cart.
  const forget = () => {
    try {
      localStorage.removeItem(CLIENT_ID_KEY);
      sessionStorage.removeItem(CART_DONE_KEY);
    } catch (_) {
      // Storage refused: nothing was kept there.
    }
    setCartId('').catch(() => {});
  };
  watchConsent((yes) => {
    const was = allowed;
    allowed = yes;
    if (yes) start();
    else if (was) forget();
  });

  // Capture phase: themes that add to the cart with fetch stop the submit from bubbling.
  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (!allowed || !(form instanceof HTMLFormElement) || !form.matches('form[action*="/cart/add"]')) return;
    const field = form.querySelector('[name="product-id"]');
    const id = (field && field.value) || form.dataset.productId || productId;
    if (id) send([event('product_added_to_cart', { product_id: id })]);
  }, true);
})();
