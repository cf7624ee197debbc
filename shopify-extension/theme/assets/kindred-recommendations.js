/* Kindred's shelves (recommended products, search results, the cart's): cards that Shopify rendered
   in the shopper's market, asked near the viewport, then their views and clicks. */
(() => {
  'use strict';
  if (window.kindredRecommendations) return;

  const CLIENT_ID_KEY = 'kindred_client_id'; // shared with kindred-tracking.js

  // randomUUID needs a secure context.
  const uuid = () => crypto.randomUUID?.()
    ?? Array.from(crypto.getRandomValues(new Uint8Array(16)), (n) => n.toString(16).padStart(2, '0')).join('');

  let pageClientId;
  const clientId = () => {
    try {
      let id = localStorage.getItem(CLIENT_ID_KEY);
      if (!id) localStorage.setItem(CLIENT_ID_KEY, (id = uuid()));
      return id;
    } catch {
      return (pageClientId ||= uuid()); // storage blocked: one id per page
    }
  };

  // Consent as kindred-tracking.js reads it, awaited 3 s at most: only the personal part needs a yes.
  const shopify = window.Shopify;
  let consented = !shopify?.loadFeatures;
  const consentKnown = consented || new Promise((resolve) => {
    setTimeout(resolve, 3000);
    shopify.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }],
      (error) => resolve(consented = !error && shopify.customerPrivacy.analyticsProcessingAllowed()));
  });
  document.addEventListener('visitorConsentCollected', (e) => { consented = !!e.detail?.analyticsAllowed; });

  // A beacon outlives the page a click leaves, else fetch keepalive; a block's events fit.
  const send = (url, events, beacon) => {
    const body = JSON.stringify({ events });
    if (beacon && navigator.sendBeacon?.(url, new Blob([body], { type: 'application/json' }))) return;
    fetch(url, { method: 'POST', body, keepalive: true, headers: { 'Content-Type': 'application/json' } }).catch(() => {});
  };

  const h = (tag, attributes, ...children) => {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) if (value != null) element.setAttribute(name, value);
    element.append(...children.filter((c) => c != null && c !== false));
    return element;
  };

  /**
   * A card as the proxy's Liquid answer has it (title, price and link in the shopper's market
   * and language), fitted to this block: its labels (in the storefront's language), image
   * sizes, vendor and price lines. (kindred-cart.js gives a cart shelf's cards their buttons.)
   */
  const fit = (rendered, o) => {
    const item = document.importNode(rendered, true);
    item.querySelectorAll('[data-kindred-label]').forEach((label) => { label.textContent = o.d[label.dataset.kindredLabel] || ''; });
    item.querySelector('img')?.setAttribute('sizes', o.d.imageSizes);
    if (!('showVendor' in o.d)) item.querySelector('.kindred-card__vendor')?.remove();
    if (!('showPrice' in o.d)) item.querySelector('.kindred-card__price')?.remove();
    return item;
  };

  // The proxy's answer is Liquid that Shopify rendered: its cards, or what went wrong.
  const cardsOf = async (response) => {
    const text = await response.text();
    if (!response.ok) throw new Error(/"message":"([^"]*)"/.exec(text)?.[1] || `HTTP ${response.status}`);
    const cards = new DOMParser().parseFromString(text, 'text/html').querySelector('[data-kindred-cards]');
    if (!cards) throw new Error('the app proxy answered without cards');
    return cards;
  };

  const loadScript = (src) => new Promise((resolve, reject) => {
    document.head.append(Object.assign(document.createElement('script'), { src, onload: resolve, onerror: reject }));
  });

  // One per block: each load's cards are watched for views, clicks (and adds) reported.
  const tracker = (list, eventsUrl, placement) => {
    const pending = [];
    let timer = 0;
    const t = { strategy: '' };
    // Without consent they wait, sent only if the shopper agrees on this page.
    const flush = (beacon) => {
      clearTimeout(timer);
      timer = 0;
      if (consented && pending.length) send(eventsUrl, pending.splice(0).map((e) => ({ ...e, client_id: clientId() })), beacon);
    };
    const event = (type, item) => ({ type, id: uuid(), product_id: item.dataset.productId, strategy: t.strategy, placement });

    const seen = new IntersectionObserver((entries) => {
      // Half on screen; an element just touching the viewport (a closed drawer's) is not.
      for (const { intersectionRatio, target } of entries) {
        if (intersectionRatio < 0.5) continue;
        seen.unobserve(target);
        pending.push(event('recommendation_viewed', target));
      }
      if (pending.length && !timer) timer = setTimeout(flush, 1000); // one request a scroll
    }, { threshold: 0.5 });
    t.watch = (strategy) => {
      t.strategy = strategy;
      seen.disconnect(); // the cards before these are gone
      list.querySelectorAll('.kindred-card').forEach((item) => seen.observe(item));
    };

    const onClick = (e) => {
      const link = e.target.closest('.kindred-card__link, .kindred-card__add');
      if (!link || !t.strategy || (e.type === 'auxclick' && e.button !== 1)) return;
      // Waiting impressions go first: no click before its card's view.
      pending.push(event('recommendation_clicked', link.closest('.kindred-card')));
      flush(true);
    };
    list.addEventListener('click', onClick);
    list.addEventListener('auxclick', onClick);
    addEventListener('pagehide', () => flush(true));
    document.addEventListener('visitorConsentCollected', () => flush());
    document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && flush(true));
    return t;
  };

  const init = (root) => {
    const d = root.dataset;
    if (d.kindredState) return;
    d.kindredState = 'waiting';
    const limit = parseInt(d.limit, 10) || 4;
    // As the server names placements: a-z, 0-9 and _, 40 at most.
    const placement = (d.placement || '').toLowerCase().replace(/\W+/g, '_').slice(0, 40) || undefined;
    const o = { d, root: d.rootUrl || '/' };
    const list = root.querySelector('.kindred-grid');
    // The merchant's previews in the theme editor are not shopper activity.
    const tracked = !shopify?.designMode && tracker(list, `${d.proxyBase}/events`, placement);
    let asked = 0;

    // Nothing to show: the block gives its space back, mostly below the fold as it loads early.
    const collapse = () => {
      d.kindredState = 'empty';
      list.replaceChildren();
      if (!d.labelEmpty) return (root.hidden = true);
      root.querySelector('.kindred-recommendations__note') || root.append(h('p', { class: 'kindred-recommendations__note' }, d.labelEmpty));
    };

    // Asked again (`kindred:refresh`, as a cart changes) the cards stay until the new ones come.
    const load = async () => {
      const mine = (asked += 1);
      if (d.kindredState === 'waiting') d.kindredState = 'loading';
      await consentKnown;
      const q = d.terms; // a search block's terms, sent alone
      const query = new URLSearchParams(q ? { q, limit } : { strategy: d.strategy, limit });
      if (consented) query.set('client_id', clientId());
      if (d.fallback && d.fallback !== 'none') query.set('fallback', d.fallback);
      if (d.productId) query.set('product_id', d.productId);
      if (d.cart) query.set('cart', d.cart);
      if (placement && !q) query.set('placement', placement);
      try {
        // Under the locale's root (`/fr/apps/...`), so that Shopify renders the cards in it.
        const response = await fetch(`${o.root.replace(/\/$/, '')}${d.proxyBase}/${q ? 'search' : 'recommendations'}/cards?${query}`, {
          headers: { Accept: 'text/html' },
          signal: AbortSignal.timeout?.(10000),
        });
        const cards = await cardsOf(response);
        const x = cards.dataset;
        if (x.arm) d.kindredArm = x.arm;
        // A holdout is measured by its orders: its cards send no events.
        const held = x.holdout === 'true';
        let items = [];
        if (!held) items = [...cards.querySelectorAll('.kindred-card')].slice(0, limit).map((item) => fit(item, o));
        else if (x.control === 'shopify' && d.productId) {
          if (!window.kindredShopifyControl) await loadScript(d.controlScript);
          items = await window.kindredShopifyControl({ d, root: o.root, productId: d.productId, limit, shown: x, build: h });
        }
        if (mine !== asked) return; // a newer request answers
        if (!items.length) return collapse();
        root.hidden = false;
        root.querySelector('.kindred-recommendations__note')?.remove();
        list.replaceChildren(...items);
        d.kindredState = 'loaded';
        const strategy = (d.kindredStrategy = String(x.strategy || d.strategy).slice(0, 40));
        if (!held && tracked) tracked.watch(strategy);
        root.dispatchEvent(new CustomEvent('kindred:loaded', { bubbles: true }));
      } catch (error) {
        console.warn('Kindred unavailable:', error.message);
        if (mine === asked) collapse();
      } finally {
        root.setAttribute('aria-busy', 'false');
      }
    };
    root.addEventListener('kindred:refresh', () => d.kindredState !== 'waiting' && load());

    const near = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting && e.intersectionRect.width)) return;
      near.disconnect();
      load();
    }, { rootMargin: '200px 0px' });
    near.observe(root);
  };

  const initAll = (scope) => scope.querySelectorAll('[data-kindred-recommendations]').forEach(init);
  // For the cart's shelves (kindred-cart.js), which it builds where the theme's cart is.
  window.kindredRecommendations = { initAll };
  if (document.readyState !== 'loading') initAll(document);
  else document.addEventListener('DOMContentLoaded', () => initAll(document));
  // The theme editor re-renders a section when its settings change.
  document.addEventListener('shopify:section:load', (e) => initAll(e.target));
})();
