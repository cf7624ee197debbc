/* Kindred in the cart: the "Complete your order" shelf put in the theme's cart drawer, every
   cart shelf kept in step with the cart, and their cards' buttons. The shelves' cards load
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
  // A merchant's selector that is not one (a typo) falls back to the defaults.
  const valid = (selector) => {
    if (!selector) return null;
    try {
      document.querySelector(selector);
      return selector;
    } catch {
      console.warn('Kindred: the cart drawer setting is not a CSS selector:', selector);
      return null;
    }
  };
  const anchors = valid(template?.dataset.anchor) || ANCHORS;
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

  // The cart's products changed: each shelf asks again for what goes with them. Every answer
  // is numbered when its request starts, so a slow older one never undoes a newer one.
  let asked = 0;
  let applied = 0;
  const cartChanged = (number, cart) => {
    if (number < applied) return;
    applied = number;
    const ids = [...new Set((cart?.items ?? []).map((item) => String(item.product_id)))].join(',');
    if (ids === cartIds) return;
    cartIds = ids;
    place();
    for (const shelf of document.querySelectorAll('[data-kindred-cart]')) {
      shelf.dataset.cart = ids;
      shelf.dispatchEvent(new CustomEvent('kindred:refresh'));
    }
  };

  const nativeFetch = window.fetch.bind(window);
  const readCart = () => {
    const number = (asked += 1);
    nativeFetch(`${root}cart.js`, { headers: { Accept: 'application/json' } })
      .then((response) => response.json()).then((cart) => cartChanged(number, cart), () => {});
  };

  // The theme's own cart requests, seen as they answer: change, update and clear answer with
  // the cart; add answers with the lines added, so the cart is read after it.
  const CART_CALL = /\/cart\/(add|change|update|clear)(\.js)?$/;
  const callOf = (url) => {
    try {
      return CART_CALL.exec(new URL(url, location.href).pathname)?.[1];
    } catch {
      return undefined; // not a URL: the theme's fetch fails as it would have
    }
  };
  const answered = (call, number, ok, body) => {
    if (!ok) return;
    if (call === 'add') return readCart();
    body().then((cart) => cartChanged(number, cart), readCart);
  };
  window.fetch = (input, init) => {
    const answer = nativeFetch(input, init);
    const call = callOf(typeof input === 'string' ? input : input?.url ?? String(input));
    if (call) {
      const number = (asked += 1);
      answer.then((response) => answered(call, number, response.ok, () => response.clone().json()), () => {});
    }
    return answer;
  };
  const calls = new WeakMap();
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function watched(method, url, ...rest) {
    const call = callOf(String(url));
    if (call && !calls.has(this)) {
      this.addEventListener('load', () => {
        const { name, number } = calls.get(this) ?? {};
        if (name) answered(name, number, this.status < 300, async () => JSON.parse(this.responseText));
      });
    }
    if (call || calls.has(this)) calls.set(this, call && { name: call, number: (asked += 1) });
    return open.call(this, method, url, ...rest);
  };
  // Themes that announce their cart's changes.
  for (const type of ['cart:updated', 'cart:refresh', 'cart:change']) document.addEventListener(type, readCart);

  // Each card of a cart shelf gets its button as it arrives: "Add to cart" for a product with
  // nothing to choose, else a link to choose its options; either named with the product.
  const h = (tag, attributes, ...children) => {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    element.append(...children);
    return element;
  };
  document.addEventListener('kindred:loaded', (e) => {
    const shelf = e.target.closest?.('[data-kindred-cart]');
    if (!shelf) return;
    const d = shelf.dataset;
    for (const card of shelf.querySelectorAll('.kindred-card')) {
      const title = card.querySelector('.kindred-card__link');
      if (!title || card.querySelector('.kindred-card__add')) continue;
      const named = h('span', { class: 'kindred-visually-hidden' }, `: ${title.textContent.trim()}`);
      card.append(card.dataset.variantId
        ? h('button', { type: 'button', class: 'kindred-card__add', 'data-variant-id': card.dataset.variantId }, d.labelAdd, named)
        : h('a', { class: 'kindred-card__add kindred-card__options', href: title.getAttribute('href') }, d.labelOptions, named));
    }
  });

  // Said to assistive technology: added, or why not.
  const say = (shelf, text) => {
    const status = shelf?.querySelector('[data-kindred-cart-status]');
    if (status) status.textContent = text;
  };

  // A card's button: the product in the cart, then the theme's cart shown as the theme would.
  document.addEventListener('click', async (e) => {
    const button = e.target.closest?.('[data-kindred-cart] button.kindred-card__add');
    if (!button || button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    const shelf = button.closest('[data-kindred-cart]');
    const inDrawer = shelf.classList.contains('kindred-recommendations--drawer');
    const drawer = document.querySelector('cart-drawer');
    const sections = inDrawer && drawer?.getSectionsToRender?.().map((section) => section.id);
    try {
      // Not through the watch: the cart page reloads, the drawer reads the cart below.
      const response = await nativeFetch(`${root}cart/add.js`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({
          items: [{ id: Number(button.dataset.variantId), quantity: 1 }],
          ...(sections && { sections, sections_url: location.pathname }),
        }),
      });
      const added = await response.json();
      if (!response.ok) throw new Error(added.description || added.message || `HTTP ${response.status}`);
      if (!inDrawer) return location.reload(); // the cart page: its lines, totals and count
      readCart();
      if (drawer?.renderContents) drawer.renderContents(added);
      else document.documentElement.dispatchEvent(new CustomEvent('cart:refresh', { bubbles: true }));
      await null; // the shelf is put back in the re-rendered drawer first
      say(shelf, shelf.dataset.labelAdded);
      const heading = shelf.querySelector('.kindred-recommendations__heading');
      heading?.setAttribute('tabindex', '-1');
      heading?.focus({ preventScroll: true }); // the button pressed is gone with the old drawer
    } catch (error) {
      say(shelf, error.message);
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
