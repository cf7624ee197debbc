/* Kindred's "Recommended products" and search results: cards near the viewport, then their views and clicks. */
(() => {
  'use strict';
  if (window.kindredRecommendations) return;
  window.kindredRecommendations = true;

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

  const currencyFormat = (locale, currency) => {
    try {
      const format = new Intl.NumberFormat(locale || undefined, { style: 'currency', currency });
      return (amount) => format.format(amount);
    } catch {
      return (amount) => `${amount.toFixed(2)} ${currency}`;
    }
  };

  const image = (src, sizes) => {
    const url = new URL(src, location.href);
    // Only Shopify's CDN resizes on `width`.
    const resizable = url.hostname === 'cdn.shopify.com' || url.pathname.startsWith('/cdn/shop/');
    const at = (width) => (url.searchParams.set('width', width), url.href);
    return h('img', {
      src: resizable ? at(533) : url.href,
      srcset: resizable ? [165, 360, 533, 720, 940].map((w) => `${at(w)} ${w}w`).join(', ') : null,
      sizes: resizable ? sizes : null,
      width: 533, height: 533, alt: '', loading: 'lazy', decoding: 'async', // its title names it
    });
  };

  const price = (item, o) => {
    const amount = parseFloat(item.price), compareAt = parseFloat(item.compare_at_price);
    const line = h('p', { class: 'kindred-card__price' });
    const label = (text) => h('span', { class: 'kindred-visually-hidden' }, `${text} `);
    if (!Number.isFinite(amount)) return line;
    line.append(...(compareAt > amount ? [
      h('span', { class: 'kindred-badge' }, o.d.labelSale), ' ',
      h('span', { class: 'kindred-price kindred-price--sale' }, label(o.d.labelSalePrice), o.money(amount)), ' ',
      h('s', { class: 'kindred-price kindred-price--compare' }, label(o.d.labelRegularPrice), o.money(compareAt)),
    ] : [h('span', { class: 'kindred-price' }, o.money(amount))]));
    return line;
  };

  // A root such as `/fr` prefixes the shop's paths, once.
  const productUrl = (url, root) => (root !== '/' && url.startsWith('/') && !url.startsWith(`${root}/`) ? root + url : url);

  const card = (item, o) => h('li', { class: 'kindred-card', 'data-product-id': String(item.id) },
    h('div', { class: 'kindred-card__media' }, item.image_url && image(item.image_url, o.d.imageSizes)),
    h('h3', { class: 'kindred-card__title' },
      h('a', { class: 'kindred-card__link', href: productUrl(item.url, o.root) }, item.title)),
    'showVendor' in o.d && h('p', { class: 'kindred-card__vendor' }, item.vendor || ''),
    'showPrice' in o.d && price(item, o));

  // Shopify's related products, a holdout's control; prices in cents.
  const shopifyProducts = async (o, productId, limit) => {
    const response = await fetch(`${o.root.replace(/\/?$/, '/')}recommendations/products.json?product_id=${productId}&limit=${limit}&intent=related`);
    if (!response.ok) throw new Error(`Shopify HTTP ${response.status}`);
    return (await response.json()).products.map((p) => ({
      ...p, price: p.price / 100, compare_at_price: p.compare_at_price / 100, image_url: p.featured_image,
    }));
  };

  const trackInteractions = (list, eventsUrl, strategy, placement) => {
    const pending = [];
    let timer = 0;
    // Without consent they wait, sent only if the shopper agrees on this page.
    const flush = (beacon) => {
      clearTimeout(timer);
      timer = 0;
      if (consented && pending.length) send(eventsUrl, pending.splice(0).map((e) => ({ ...e, client_id: clientId() })), beacon);
    };
    const event = (type, item) => ({ type, id: uuid(), product_id: item.dataset.productId, strategy, placement });

    const seen = new IntersectionObserver((entries) => {
      for (const { isIntersecting, target } of entries) {
        if (!isIntersecting) continue;
        seen.unobserve(target);
        pending.push(event('recommendation_viewed', target));
      }
      if (pending.length && !timer) timer = setTimeout(flush, 1000); // one request a scroll
    }, { threshold: 0.5 });
    list.querySelectorAll('.kindred-card').forEach((item) => seen.observe(item));

    const onClick = (e) => {
      const link = e.target.closest('.kindred-card__link');
      if (!link || (e.type === 'auxclick' && e.button !== 1)) return;
      // Waiting impressions go first: no click before its card's view.
      pending.push(event('recommendation_clicked', link.closest('.kindred-card')));
      flush(true);
    };
    list.addEventListener('click', onClick);
    list.addEventListener('auxclick', onClick);
    addEventListener('pagehide', () => flush(true));
    document.addEventListener('visitorConsentCollected', () => flush());
    document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && flush(true));
  };

  const init = (root) => {
    const d = root.dataset;
    if (d.kindredState) return;
    d.kindredState = 'waiting';
    const limit = parseInt(d.limit, 10) || 4;
    // As the server names placements: a-z, 0-9 and _, 40 at most.
    const placement = (d.placement || '').toLowerCase().replace(/\W+/g, '_').slice(0, 40) || undefined;
    const o = { d, root: d.rootUrl || '/', money: currencyFormat(d.locale, d.currency || 'USD') };
    const list = root.querySelector('.kindred-grid');

    // Nothing to show: the block gives its space back, mostly below the fold as it loads early.
    const collapse = () => {
      d.kindredState = 'empty';
      if (!d.labelEmpty) return (root.hidden = true);
      list.replaceChildren();
      root.append(h('p', { class: 'kindred-recommendations__note' }, d.labelEmpty));
    };

    const load = async () => {
      d.kindredState = 'loading';
      await consentKnown;
      const q = d.terms; // a search block's terms, sent alone
      const query = new URLSearchParams(q ? { q, limit } : { strategy: d.strategy, limit });
      if (consented) query.set('client_id', clientId());
      if (d.fallback && d.fallback !== 'none') query.set('fallback', d.fallback);
      if (d.productId) query.set('product_id', d.productId);
      if (placement && !q) query.set('placement', placement);
      try {
        const response = await fetch(`${d.proxyBase}/${q ? 'search' : 'recommendations'}?${query}`, {
          headers: { Accept: 'application/json' },
          signal: AbortSignal.timeout?.(10000),
        });
        const body = await response.json().catch(() => null);
        if (!response.ok) throw new Error(body?.error?.message || `HTTP ${response.status}`);
        const x = body?.experiment;
        if (x?.arm) d.kindredArm = x.arm;
        // A holdout is measured by its orders: its cards send no events.
        const held = x?.holdout;
        let items = body?.[q ? 'results' : 'recommendations'];
        if (held) items = x.control === 'shopify' && d.productId ? await shopifyProducts(o, d.productId, limit) : [];
        items = (items || []).slice(0, limit);
        if (!items.length) return collapse();
        list.replaceChildren(...items.map((item) => card(item, o)));
        d.kindredState = 'loaded';
        const strategy = (d.kindredStrategy = String(body.strategy || d.strategy).slice(0, 40));
        // The merchant's previews in the theme editor are not shopper activity.
        if (!held && !shopify?.designMode) trackInteractions(list, `${d.proxyBase}/events`, strategy, placement);
      } catch (error) {
        console.warn('Kindred unavailable:', error.message);
        collapse();
      } finally {
        root.setAttribute('aria-busy', 'false');
      }
    };

    const near = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      near.disconnect();
      load();
    }, { rootMargin: '200px 0px' });
    near.observe(root);
  };

  const initAll = (scope) => scope.querySelectorAll('[data-kindred-recommendations]').forEach(init);
  if (document.readyState !== 'loading') initAll(document);
  else document.addEventListener('DOMContentLoaded', () => initAll(document));
  // The theme editor re-renders a section when its settings change.
  document.addEventListener('shopify:section:load', (e) => initAll(e.target));
})();
