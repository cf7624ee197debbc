/* Kindred: the "Recommended products" app block. Loads its cards through the app proxy when
   the block nears the viewport, then reports which cards shoppers saw and clicked. */
(() => {
  'use strict';
  if (window.kindredRecommendations) return;
  window.kindredRecommendations = true;

  const CLIENT_ID_KEY = 'kindred_client_id'; // shared with kindred-tracking.js
  const IMAGE_WIDTHS = [165, 360, 533, 720, 940];
  // Batches what one scroll reveals into one request; pagehide sends whatever is left.
  const IMPRESSION_FLUSH_MS = 1000;
  const REQUEST_TIMEOUT_MS = 10000;

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
      // Storage blocked: one id still ties this page together.
      return (pageClientId = pageClientId || uuid());
    }
  };

  // Consent as kindred-tracking.js reads it. The cards wait 3 s at most for it, then show
  // either way: only their personal part needs a yes.
  const shopify = window.Shopify;
  let consented = !(shopify && shopify.loadFeatures);
  const consentKnown = consented || new Promise((resolve) => {
    setTimeout(resolve, 3000);
    shopify.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }],
      (error) => resolve(consented = !error && shopify.customerPrivacy.analyticsProcessingAllowed()));
  });
  document.addEventListener('visitorConsentCollected', (e) => { consented = !!(e.detail && e.detail.analyticsAllowed); });

  // A beacon outlives the page, which a click usually leaves; fetch with keepalive is the
  // fallback. A block's events (13 at most) fit in one request.
  const send = (url, events, beacon) => {
    const body = JSON.stringify({ events });
    if (beacon && navigator.sendBeacon && navigator.sendBeacon(url, new Blob([body], { type: 'application/json' }))) return;
    fetch(url, { method: 'POST', body, keepalive: true, headers: { 'Content-Type': 'application/json' } }).catch(() => {});
  };

  const h = (tag, attributes, ...children) => {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) if (value != null) element.setAttribute(name, value);
    element.append(...children.filter((child) => child != null && child !== false));
    return element;
  };

  const currencyFormat = (locale, currency) => {
    try {
      const format = new Intl.NumberFormat(locale || undefined, { style: 'currency', currency });
      return (amount) => format.format(amount);
    } catch (_) {
      return (amount) => `${amount.toFixed(2)} ${currency}`;
    }
  };

  const image = (src, sizes) => {
    const url = new URL(src, location.href);
    // Only Shopify's CDN resizes on `width`; another host gets its one image as it is.
    const resizable = url.hostname === 'cdn.shopify.com' || url.pathname.startsWith('/cdn/shop/');
    const at = (width) => {
      url.searchParams.set('width', width);
      return url.href;
    };
    return h('img', {
      src: resizable ? at(533) : url.href,
      srcset: resizable ? IMAGE_WIDTHS.map((w) => `${at(w)} ${w}w`).join(', ') : null,
      sizes: resizable ? sizes : null,
      width: 533,
      height: 533,
      // The title beside it, in the same card, already names the product.
      alt: '',
      loading: 'lazy',
      decoding: 'async',
    });
  };

  const price = (item, o) => {
    const amount = Number.parseFloat(item.price);
    const compareAt = Number.parseFloat(item.compare_at_price);
    const line = h('p', { class: 'kindred-card__price' });
    const label = (text) => h('span', { class: 'kindred-visually-hidden' }, `${text} `);
    if (!Number.isFinite(amount)) return line;
    if (!(compareAt > amount)) {
      line.append(h('span', { class: 'kindred-price' }, o.money(amount)));
    } else {
      line.append(
        h('span', { class: 'kindred-badge' }, o.labels.sale), ' ',
        h('span', { class: 'kindred-price kindred-price--sale' }, label(o.labels.salePrice), o.money(amount)), ' ',
        h('s', { class: 'kindred-price kindred-price--compare' }, label(o.labels.regularPrice), o.money(compareAt)),
      );
    }
    return line;
  };

  const productUrl = (url, rootUrl) => (rootUrl && rootUrl !== '/' && url.startsWith('/') ? rootUrl + url : url);

  const card = (item, o) => h('li', { class: 'kindred-card', 'data-product-id': String(item.id) },
    h('div', { class: 'kindred-card__media' }, item.image_url ? image(item.image_url, o.sizes) : null),
    h('h3', { class: 'kindred-card__title' },
      h('a', { class: 'kindred-card__link', href: productUrl(item.url, o.rootUrl) }, item.title)),
    o.showVendor && h('p', { class: 'kindred-card__vendor' }, item.vendor || ''),
    o.showPrice && price(item, o));

  const trackInteractions = (list, eventsUrl, strategy) => {
    const pending = [];
    let timer = 0;
    // Without consent they wait: sent if the shopper agrees on this page, else never.
    const flush = (beacon) => {
      clearTimeout(timer);
      timer = 0;
      if (consented && pending.length) send(eventsUrl, pending.splice(0).map((e) => ({ ...e, client_id: clientId() })), beacon);
    };
    const event = (type, item) => ({ type, id: uuid(), product_id: item.dataset.productId, strategy });

    const seen = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        seen.unobserve(entry.target);
        pending.push(event('recommendation_viewed', entry.target));
      }
      if (pending.length && !timer) timer = setTimeout(flush, IMPRESSION_FLUSH_MS);
    }, { threshold: 0.5 });
    list.querySelectorAll('.kindred-card').forEach((item) => seen.observe(item));

    const onClick = (e) => {
      const link = e.target.closest('.kindred-card__link');
      if (!link || (e.type === 'auxclick' && e.button !== 1)) return;
      // Impressions still waiting go first, so no click arrives before its card was seen.
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
    const limit = Number.parseInt(d.limit, 10) || 4;
    const o = {
      rootUrl: d.rootUrl,
      showPrice: 'showPrice' in d,
      showVendor: 'showVendor' in d,
      money: currencyFormat(d.locale, d.currency || 'USD'),
      labels: { sale: d.labelSale, salePrice: d.labelSalePrice, regularPrice: d.labelRegularPrice },
      sizes: d.imageSizes,
    };
    const list = root.querySelector('.kindred-grid');

    // Nothing to show: the block gives its space back. It loads 200px ahead of the viewport,
    // so this mostly happens below the fold, where the shopper sees no shift.
    const collapse = () => {
      root.setAttribute('aria-busy', 'false');
      d.kindredState = 'empty';
      if (d.labelEmpty) {
        list.replaceChildren();
        root.append(h('p', { class: 'kindred-recommendations__note' }, d.labelEmpty));
      } else {
        root.hidden = true;
      }
    };

    const load = async () => {
      d.kindredState = 'loading';
      await consentKnown;
      const query = new URLSearchParams({ strategy: d.strategy, limit: String(limit) });
      if (consented) query.set('client_id', clientId());
      if (d.fallback && d.fallback !== 'none') query.set('fallback', d.fallback);
      if (d.productId) query.set('product_id', d.productId);
      try {
        const response = await fetch(`${d.proxyBase}/recommendations?${query}`, {
          headers: { Accept: 'application/json' },
          signal: AbortSignal.timeout ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined,
        });
        const body = await response.json().catch(() => null);
        if (!response.ok) throw new Error((body && body.error && body.error.message) || `HTTP ${response.status}`);
        const items = ((body && body.recommendations) || []).slice(0, limit);
        if (!items.length) return collapse();
        list.replaceChildren(...items.map((item) => card(item, o)));
        root.setAttribute('aria-busy', 'false');
        d.kindredState = 'loaded';
        const strategy = String(body.strategy || d.strategy).slice(0, 40);
        d.kindredStrategy = strategy;
        // The merchant's own previews in the theme editor are not shopper activity.
        if (!(shopify && shopify.designMode)) {
          trackInteractions(list, `${d.proxyBase}/events`, strategy);
        }
      } catch (error) {
        console.warn('Kindred recommendations unavailable:', error.message);
        collapse();
      }
    };

    const near = new IntersectionObserver((entries) => {
      if (!entries.some((entry) => entry.isIntersecting)) return;
      near.disconnect();
      load();
    }, { rootMargin: '200px 0px' });
    near.observe(root);
  };

  const initAll = (scope) => scope.querySelectorAll('[data-kindred-recommendations]').forEach(init);
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', () => initAll(document));
  } else {
    initAll(document);
  }
  // The theme editor re-renders a section in place when the merchant changes a setting.
  document.addEventListener('shopify:section:load', (e) => initAll(e.target));
})();
