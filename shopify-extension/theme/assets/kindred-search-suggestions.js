/* Kindred's search suggestions (app embed): what they are and do in blocks/search-suggestions.liquid. */
(() => {
  'use strict';
  const config = document.querySelector('[data-kindred-suggestions]');
  if (window.kindredSuggestions || !config) return;
  window.kindredSuggestions = true;

  const d = config.dataset;
  const INPUTS = 'form[action$="/search"] input[name="q"]';
  const shown = parseInt(d.limit, 10) || 0;

  // Consent as kindred-tracking.js decides it.
  const shopify = window.Shopify;
  let allowed = !shopify?.loadFeatures;
  if (!allowed) {
    shopify.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }],
      (error) => { allowed = !error && shopify.customerPrivacy.analyticsProcessingAllowed(); });
    document.addEventListener('visitorConsentCollected', (e) => { allowed = !!e.detail?.analyticsAllowed; });
  }
  // The id the other scripts keep, once allowed; none is made here.
  const clientId = () => { try { return allowed && localStorage.getItem('kindred_client_id'); } catch { return null; } };

  const set = (element, attributes) => {
    for (const [name, value] of Object.entries(attributes)) if (value != null) element.setAttribute(name, value);
    return element;
  };
  const h = (tag, attributes, ...children) => {
    const element = set(document.createElement(tag), attributes);
    element.append(...children.filter((c) => c != null && c !== false));
    return element;
  };

  // Under the locale's root: Shopify renders the answer in the shopper's market.
  const base = `${(d.rootUrl || '/').replace(/\/$/, '')}${d.proxyBase}`;

  // Shopify's CDN resizes to twice the 3rem box.
  const thumbnail = (img) => {
    const url = img && new URL(img.getAttribute('src'), location.href);
    url?.searchParams.set('width', 96);
    return url && h('img', { src: url.href, width: 48, height: 48, alt: '', loading: 'lazy' });
  };

  // Completed queries (the typed words, then each completion) and cards.
  const read = (cards, text) => ({
    queries: [...cards.querySelectorAll('[data-kindred-query]')].map((q) => text.replace(/\S*$/, '') + q.dataset.kindredQuery),
    products: [...cards.querySelectorAll('.kindred-card')],
  });

  // What was typed stays plain, the rest is bold.
  const completion = (text, typed) => (text.toLowerCase().startsWith(typed.toLowerCase())
    ? [text.slice(0, typed.length), h('strong', {}, text.slice(typed.length))] : [text]);

  // Fixed under the box, on screen.
  const place = (input, list) => {
    const box = input.getBoundingClientRect();
    const width = Math.min(Math.max(box.width, 320), innerWidth - 16);
    Object.assign(list.style, {
      top: `${box.bottom + 4}px`,
      left: `${Math.max(8, Math.min(box.left, innerWidth - width - 8))}px`,
      width: `${width}px`,
      maxHeight: `${Math.max(160, innerHeight - box.bottom - 16)}px`,
    });
  };

  let count = 0;
  const attach = (input) => {
    // A box with the theme's own predictive search is left to it.
    if ('kindredSuggest' in input.dataset || input.getAttribute('role') === 'combobox') return;
    input.dataset.kindredSuggest = '';
    const { form } = input;
    const id = `kindred-suggest-${(count += 1)}`;
    const list = h('div', { id, class: 'kindred-suggest', role: 'listbox', 'aria-label': d.labelList, hidden: '' });
    // A modal <dialog> is the top layer: the list must be in it.
    (input.closest('dialog') || document.body).append(list);
    set(input, { role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': id, autocomplete: 'off' });

    let options = [];
    let active = -1;
    let timer = 0;
    let request = null;
    const typed = () => input.value.trim().slice(0, 200); // Kindred reads no more
    const follow = () => requestAnimationFrame(() => place(input, list));

    const activate = (index) => {
      options[active]?.setAttribute('aria-selected', 'false');
      const option = options[(active = index)];
      if (!option) return input.removeAttribute('aria-activedescendant');
      option.setAttribute('aria-selected', 'true');
      input.setAttribute('aria-activedescendant', option.id);
      option.scrollIntoView({ block: 'nearest' });
    };

    const close = () => {
      clearTimeout(timer);
      request?.abort();
      if (list.hidden) return;
      activate(-1);
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      removeEventListener('resize', follow);
      removeEventListener('scroll', follow, true);
    };

    // In the theme's colours where the box stands.
    const open = () => {
      if (!list.hidden) return;
      let element = input;
      while (element && /^(transparent|rgba\(.*, 0\))$/.test(getComputedStyle(element).backgroundColor)) element = element.parentElement;
      if (element) list.style.setProperty('--kindred-surface', getComputedStyle(element).backgroundColor);
      list.style.setProperty('--kindred-ink', getComputedStyle(input).color);
      place(input, list);
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
      addEventListener('resize', follow);
      addEventListener('scroll', follow, { capture: true, passive: true });
    };

    // The theme's search page for a query, with the form's other fields.
    const searchUrl = (text) => {
      const params = new URLSearchParams();
      for (const [name, value] of new FormData(form)) params.append(name, name === 'q' ? text : value);
      return `${new URL(form.action).pathname}?${params}`;
    };

    const option = (href, attributes, ...content) => options[options.push(h('a', {
      id: `${id}-${options.length}`, class: 'kindred-suggest__option', role: 'option', tabindex: '-1', href, ...attributes,
    }, ...content)) - 1];

    // Named for assistive technology, which skips the visible heading.
    const group = (label, items) => items.length > 0 && h('div', { role: 'group', 'aria-label': label },
      h('div', { class: 'kindred-suggest__heading', 'aria-hidden': 'true' }, label), ...items);

    // As the shopper's market shows it.
    const productOption = (card) => {
      const link = card.querySelector('a');
      return option(link.getAttribute('href'), { class: 'kindred-suggest__option kindred-suggest__product', 'data-product-id': card.dataset.productId },
        h('span', { class: 'kindred-suggest__media' }, thumbnail(card.querySelector('img'))),
        h('span', { class: 'kindred-suggest__title' }, link.textContent.trim()),
        'showPrice' in d && h('span', { class: 'kindred-suggest__price' }, card.querySelector('.kindred-price')?.lastChild?.textContent.trim()),
      );
    };

    const render = (text, answer) => {
      activate(-1);
      options = [];
      list.replaceChildren(...[
        group(d.labelQueries, (answer.queries || []).slice(0, 5)
          .map((query) => option(searchUrl(query), { 'data-query': query }, ...completion(query, text)))),
        group(d.labelProducts, (answer.products || []).slice(0, shown).map(productOption)),
      ].filter(Boolean));
      if (options.length) open();
      else close();
    };

    // The newest keystroke wins: it aborts the one before.
    const suggest = async (text) => {
      const { signal } = (request = new AbortController());
      const query = new URLSearchParams({ q: text, limit: Math.max(shown, 1) });
      if (clientId()) query.set('client_id', clientId());
      try {
        const response = await fetch(`${base}/search/suggest/cards?${query}`, { headers: { Accept: 'text/html' }, signal });
        const body = await response.text();
        if (!response.ok) throw new Error(/"message":"([^"]*)"/.exec(body)?.[1] || `HTTP ${response.status}`);
        const cards = new DOMParser().parseFromString(body, 'text/html').querySelector('[data-kindred-cards]');
        if (!cards) throw new Error('no suggestions in the answer');
        render(text, read(cards, text));
      } catch (error) {
        if (signal.aborted) return;
        console.warn('Kindred suggestions:', error.message);
        close();
      }
    };

    // What shows stays until the next answer; under two characters, nothing.
    const schedule = () => {
      clearTimeout(timer);
      request?.abort();
      const text = typed();
      if (text.length > 1) timer = setTimeout(() => suggest(text), 150);
      else render(text, {});
    };

    input.addEventListener('input', schedule);
    input.addEventListener('blur', close); // Tab, a click elsewhere
    input.addEventListener('keydown', (e) => {
      const n = options.length;
      const down = e.key === 'ArrowDown';
      if (e.isComposing || !n) return;
      if (down || e.key === 'ArrowUp') {
        e.preventDefault();
        open();
        activate(active < 0 ? (down ? 0 : n - 1) : (active + (down ? 1 : n - 1)) % n);
      } else if (!list.hidden && e.key === 'Enter' && active >= 0) {
        e.preventDefault();
        options[active].click();
      } else if (!list.hidden && e.key === 'Escape') {
        // The list closes, not a drawer or dialog around the box.
        e.preventDefault();
        e.stopPropagation();
        close();
      }
    });
    // The box keeps the focus while the pointer picks an option.
    list.addEventListener('mousedown', (e) => e.preventDefault());
    // A query goes through the theme's form; a product is a link.
    list.addEventListener('click', (e) => {
      const query = e.target.closest('[data-query]')?.dataset.query;
      if (query == null || e.ctrlKey || e.metaKey || e.shiftKey) return;
      e.preventDefault();
      input.value = query;
      close();
      form.requestSubmit();
    });
  };

  const attachAll = (scope) => scope.querySelectorAll(INPUTS).forEach(attach);
  attachAll(document);
  // Boxes added later.
  document.addEventListener('shopify:section:load', (e) => attachAll(e.target));
  document.addEventListener('focusin', (e) => e.target.matches?.(INPUTS) && attach(e.target));
})();
