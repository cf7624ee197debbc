/* Kindred in the cart: the "Complete your order" shelf put in the theme's cart drawer, every
   cart shelf kept in step with the cart, and their add-to-cart buttons. The shelves' cards load
   as any Kindred shelf's (kindred-recommendations.js). */
(() => {
  'use strict';
  if (window.kindredCart) return;
  window.kindredCart = true;

  const template = document.querySelector('template[data-kindred-cart-drawer]');
  const model = template?.content.querySelector('[data-kindred-cart]');
  const first = model ?? document.querySelector('[data-kindred-cart]');
  const root = (first?.dataset.rootUrl || window.Shopify?.routes?.root || '/').replace(/\/?$/, '/');
  // The footer of Dawn's drawer (and of the many themes built on it), or a theme's own slot.
  const ANCHORS = '[data-kindred-cart-drawer-slot], cart-drawer .drawer__footer, #CartDrawer .drawer__footer, .cart-drawer__footer';
  const anchors = template?.dataset.anchor || ANCHORS;
  let cartIds = first?.dataset.cart ?? '';
  let drawerShelf = null;

  // In the drawer while the cart has products, before the anchor (inside a slot); put back
  // whenever the theme re-renders the drawer, with the cards it had.
  const place = () => {
    const anchor = template && document.querySelector(anchors);
    if (!anchor || !cartIds) return drawerShelf?.remove();
    drawerShelf ??= model.cloneNode(true);
    drawerShelf.dataset.cart = cartIds;
    const slot = anchor.matches('[data-kindred-cart-drawer-slot]');
    if (slot ? drawerShelf.parentNode === anchor : drawerShelf.nextElementSibling === anchor) return;
    if (slot) anchor.append(drawerShelf);
    else anchor.before(drawerShelf);
    window.kindredRecommendations?.initAll(drawerShelf.parentNode);
  };

  // The cart's products changed: each shelf asks again for what goes with them.
  const cartChanged = (cart) => {
    const ids = [...new Set((cart?.items ?? []).map((item) => String(item.product_id)))].join(',');
    if (ids === cartIds) return;
    cartIds = ids;
    place();
    for (const shelf of document.querySelectorAll('[data-kindred-cart]')) {
      shelf.dataset.cart = ids;
      shelf.dispatchEvent(new CustomEvent('kindred:refresh'));
    }
  };

  // One read at a time, and one more if the cart changed meanwhile.
  let reading = null;
  let again = false;
  const readCart = () => {
    if (reading) return void (again = true);
    reading = nativeFetch(`${root}cart.js`, { headers: { Accept: 'application/json' } })
      .then((response) => response.json()).then(cartChanged).catch(() => {})
      .finally(() => {
        reading = null;
        if (!again) return;
        again = false;
        readCart();
      });
  };

  // The theme's own cart requests, seen as they answer: change, update and clear answer with
  // the cart; add answers with the lines added, so the cart is read after it.
  const CART_CALL = /\/cart\/(add|change|update|clear)(\.js)?$/;
  const callOf = (url) => CART_CALL.exec(new URL(url, location.href).pathname)?.[1];
  const answered = (call, ok, body) => {
    if (!ok) return;
    if (call === 'add') return readCart();
    body().then(cartChanged, readCart);
  };
  const nativeFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const answer = nativeFetch(input, init);
    const call = callOf(typeof input === 'string' ? input : input?.url ?? String(input));
    if (call) answer.then((response) => answered(call, response.ok, () => response.clone().json()), () => {});
    return answer;
  };
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function watched(method, url, ...rest) {
    const call = callOf(String(url));
    if (call) {
      this.addEventListener('load', () => answered(call, this.status < 300, async () => JSON.parse(this.responseText)));
    }
    return open.call(this, method, url, ...rest);
  };
  // Themes that announce their cart's changes.
  for (const type of ['cart:updated', 'cart:refresh', 'cart:change']) document.addEventListener(type, readCart);

  // A card's button: the product in the cart, then the theme's cart shown as the theme would.
  document.addEventListener('click', async (e) => {
    const button = e.target.closest?.('[data-kindred-cart] .kindred-card__add');
    if (!button || button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    const inDrawer = button.closest('.kindred-recommendations--drawer');
    const drawer = document.querySelector('cart-drawer');
    const cartItems = document.querySelector('cart-items');
    const sections = inDrawer && drawer?.getSectionsToRender?.().map((section) => section.id);
    try {
      const response = await fetch(`${root}cart/add.js`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({
          items: [{ id: Number(button.dataset.variantId), quantity: 1 }],
          ...(sections && { sections, sections_url: location.pathname }),
        }),
      });
      const added = await response.json();
      if (!response.ok) throw new Error(added.description || added.message || `HTTP ${response.status}`);
      if (inDrawer && drawer?.renderContents) drawer.renderContents(added);
      else if (inDrawer) document.dispatchEvent(new CustomEvent('cart:refresh', { bubbles: true }));
      else if (cartItems?.onCartUpdate) await cartItems.onCartUpdate();
      else location.reload();
    } catch (error) {
      console.warn('Kindred could not add to the cart:', error.message);
    } finally {
      button.setAttribute('aria-busy', 'false');
    }
  });

  if (template) {
    new MutationObserver(place).observe(document.body, { childList: true, subtree: true });
    place();
  }

  // Deferred scripts have all run by DOMContentLoaded: if no block on the page brought the
  // shelves' script, the cart's shelves bring it.
  const shelvesScript = () => {
    if (!window.kindredRecommendations && first?.dataset.shelfScript) {
      document.head.append(Object.assign(document.createElement('script'), { src: first.dataset.shelfScript }));
    }
  };
  if (document.readyState === 'loading' || document.readyState === 'interactive') {
    document.addEventListener('DOMContentLoaded', shelvesScript);
  } else shelvesScript();
})();
