/* Kindred's holdout control: Shopify's own related products where Kindred's cards would be, for
   the shoppers the always-on holdout keeps from Kindred. kindred-recommendations.js loads it
   only for them. */
(() => {
  'use strict';

  // The shelves' element builder, handed over with each call.
  let h;

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

  const price = (item, d, money) => {
    const amount = item.price / 100, compareAt = item.compare_at_price / 100;
    const line = h('p', { class: 'kindred-card__price' });
    const label = (text) => h('span', { class: 'kindred-visually-hidden' }, `${text} `);
    if (!Number.isFinite(amount)) return line;
    line.append(...(compareAt > amount ? [
      h('span', { class: 'kindred-badge' }, d.labelSale), ' ',
      h('span', { class: 'kindred-price kindred-price--sale' }, label(d.labelSalePrice), money(amount)), ' ',
      h('s', { class: 'kindred-price kindred-price--compare' }, label(d.labelRegularPrice), money(compareAt)),
    ] : [h('span', { class: 'kindred-price' }, money(amount))]));
    return line;
  };

  // A root such as `/fr` prefixes the shop's paths, once.
  const productUrl = (url, root) => (root !== '/' && url.startsWith('/') && !url.startsWith(`${root}/`) ? root + url : url);

  /**
   * The block's cards from Shopify's Product Recommendations API, asked under the locale's
   * root so that it answers in the shopper's language and currency (prices in cents). `shown`
   * is the market the proxy's answer was rendered in: its currency and language; `build` the
   * shelves' element builder.
   */
  window.kindredShopifyControl = async ({ d, root, productId, limit, shown, build }) => {
    h = build;
    const response = await fetch(`${root.replace(/\/?$/, '/')}recommendations/products.json?product_id=${productId}&limit=${limit}&intent=related`);
    if (!response.ok) throw new Error(`Shopify HTTP ${response.status}`);
    const money = currencyFormat(shown.locale || d.locale, shown.currency || d.currency || 'USD');
    return (await response.json()).products.slice(0, limit).map((item) => h('li', { class: 'kindred-card', 'data-product-id': String(item.id) },
      h('div', { class: 'kindred-card__media' }, item.featured_image && image(item.featured_image, d.imageSizes)),
      h('h3', { class: 'kindred-card__title' },
        h('a', { class: 'kindred-card__link', href: productUrl(item.url, root) }, item.title)),
      'showVendor' in d && h('p', { class: 'kindred-card__vendor' }, item.vendor || ''),
      'showPrice' in d && price(item, d, money)));
  };
})();
