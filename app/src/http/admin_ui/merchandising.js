// What shoppers are shown: the rules editor (exclude, pin, boost, bury, vendor diversity,
// gift cards, past purchases) with a before/after preview, and the preview of every shelf
// for a product, a collection or a recent shopper, exactly as the storefront would answer.

import { ApiError, STRATEGIES, announce, api, button, card, el, field, pageFailed, pickResources, showError } from './admin.js';
import { fmt, strategyName, t } from './i18n.js';

const MATCH_FIELDS = ['product_id', 'collection', 'tag', 'vendor', 'product_type', 'price_min', 'price_max'];
const MATCH_LISTS = ['exclude', 'boost', 'bury'];
const ID_FIELDS = new Set(['product_id', 'collection']);
const PRICE = /^\d+(\.\d{1,2})?$/;
const SHOPIFY_ID = /^\d{1,20}$/;

/** Titles of products and collections the merchant picked this session, by id. */
const titles = new Map();

// ---------------------------------------------------------------------------------------------
// Shelves, shared by the rules preview and the preview page

/** One shelf: its strategy, a note when it fell back to another, and its items. */
export function shelf({ title, strategy, usedStrategy, items, currency }) {
  const fellBack = usedStrategy && usedStrategy !== strategy;
  return el('section', { class: 'shelf', 'data-strategy': strategy, 'data-used-strategy': usedStrategy ?? strategy },
    el('h3', {}, title ?? strategyName(strategy)),
    fellBack ? el('p', { class: 'hint' }, t('shelf_fell_back', { strategy: strategyName(usedStrategy) })) : null,
    items.length
      ? el('ul', { class: 'shelf__items' }, items.map((item) => productCard(item, currency)))
      : el('p', { class: 'hint' }, t('shelf_empty')));
}

function productCard(item, currency) {
  const price = (value) => (currency ? fmt.money(value, currency) : fmt.decimal(Number(value), 2));
  const discounted = item.compare_at_price && Number(item.compare_at_price) > Number(item.price);
  return el('li', { class: 'product', 'data-product-id': String(item.id) },
    el('div', { class: 'product__image' }, item.image_url
      ? el('img', { src: imageUrl(item.image_url), alt: '', width: 160, height: 160, loading: 'lazy', decoding: 'async' })
      : null),
    el('p', { class: 'product__title' }, item.title),
    el('p', { class: 'product__price' },
      item.price != null ? price(item.price) : '—',
      discounted ? el('s', { class: 'product__compare' }, el('span', { class: 'visually-hidden' }, t('price_was')), price(item.compare_at_price)) : null),
    item.reason ? el('p', { class: 'product__reason' }, item.reason) : null,
    el('p', { class: 'product__id hint' }, t('product_id', { id: item.id })));
}

/** Shopify's CDN resizes on `width`: a small image for a 160px card. */
function imageUrl(raw) {
  try {
    const url = new URL(raw, location.href);
    if (url.hostname === 'cdn.shopify.com') url.searchParams.set('width', '320');
    return url.href;
  } catch {
    return raw;
  }
}

// ---------------------------------------------------------------------------------------------
// Rules

export async function rules(root) {
  let current;
  try {
    current = await api('/rules');
  } catch (error) {
    pageFailed(root, error);
    return;
  }
  const errorSlot = el('div', { 'aria-live': 'polite' });
  const lists = Object.fromEntries(MATCH_LISTS.map((list) => [list, matchList(list, current[list] ?? [])]));
  const pins = pinList(current.pin ?? []);
  const maxPerVendor = el('input', { type: 'number', name: 'max_per_vendor', min: 1, max: 50, step: 1, inputmode: 'numeric', value: current.max_per_vendor ?? '' });
  const collapseVariants = el('input', { type: 'checkbox', name: 'collapse_variants', checked: current.collapse_variants });
  const diversity = diversitySelect(current.diversity);
  const giftCards = el('input', { type: 'checkbox', name: 'exclude_gift_cards', checked: current.exclude_gift_cards });
  const purchased = el('input', { type: 'checkbox', name: 'exclude_purchased', checked: current.exclude_purchased });
  const previewSlot = el('div', { class: 'rules-preview', 'aria-live': 'polite' });
  const previewControls = previewForm(previewSlot, () => collect());
  const save = el('button', { type: 'submit', class: 'button button--primary', 'data-action': 'save-rules' }, t('rules_save'));

  /** The rules as the API takes them, or an ApiError naming the first bad value. */
  function collect() {
    const body = {
      exclude: lists.exclude.read(), pin: pins.read(), boost: lists.boost.read(), bury: lists.bury.read(),
      max_per_vendor: maxPerVendor.value === '' ? null : Number(maxPerVendor.value),
      collapse_variants: collapseVariants.checked, diversity: Number(diversity.value),
      exclude_gift_cards: giftCards.checked, exclude_purchased: purchased.checked,
    };
    if (body.max_per_vendor !== null && !(Number.isInteger(body.max_per_vendor) && body.max_per_vendor > 0)) {
      throw new ApiError(400, 'invalid', t('rules_invalid_max_per_vendor'));
    }
    return body;
  }

  const form = el('form', { class: 'stack', 'data-form': 'rules', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    save.disabled = true;
    try {
      const saved = await api('/rules', { method: 'PUT', body: collect() });
      showError(errorSlot, null);
      form.dataset.saved = String(Date.now());
      form.dataset.savedRules = JSON.stringify(saved);
      announce(t('rules_saved'));
    } catch (error) {
      showError(errorSlot, error);
      errorSlot.querySelector('[role="alert"]')?.focus?.();
    } finally {
      save.disabled = false;
    }
  } },
  card(t('rules_exclude'), el('p', { class: 'hint' }, t('rules_exclude_hint')), lists.exclude.node),
  card(t('rules_pin'), el('p', { class: 'hint' }, t('rules_pin_hint')), pins.node),
  card(t('rules_boost'), el('p', { class: 'hint' }, t('rules_boost_hint')), lists.boost.node),
  card(t('rules_bury'), el('p', { class: 'hint' }, t('rules_bury_hint')), lists.bury.node),
  card(t('rules_options'),
    field(t('rules_diversity'), diversity, t('rules_diversity_hint')),
    field(t('rules_collapse_variants'), collapseVariants, t('rules_collapse_variants_hint')),
    field(t('rules_max_per_vendor'), maxPerVendor, t('rules_max_per_vendor_hint')),
    field(t('rules_exclude_gift_cards'), giftCards),
    field(t('rules_exclude_purchased'), purchased)),
  el('div', { class: 'sticky-actions' }, errorSlot, el('div', { class: 'actions' }, save)));
  root.append(form, card(t('rules_preview'), previewControls, previewSlot));
}

/** How much shelves trade relevance for variety; a value set through the API keeps its place. */
function diversitySelect(value) {
  const levels = [[0, 'rules_diversity_off'], [0.15, 'rules_diversity_light'], [0.3, 'rules_diversity_balanced'], [0.5, 'rules_diversity_strong']];
  if (!levels.some(([level]) => level === value)) levels.push([value, null]);
  return el('select', { name: 'diversity' }, ...levels.map(([level, label]) =>
    el('option', { value: String(level), selected: level === value }, label ? t(label) : String(level))));
}

/** Rules of one list (exclude, boost or bury): each a set of conditions that must all hold. */
function matchList(list, matches) {
  const items = el('ol', { class: 'rule-list', 'data-list': list });
  const add = (match) => items.append(ruleRow(list, match));
  matches.forEach(add);
  const pickInto = (type, fieldName) => async () => {
    for (const picked of await pickResources(type)) {
      titles.set(picked.id, picked.title);
      add({ [fieldName]: picked.id, ...(list === 'boost' ? { factor: 1.5 } : {}) });
    }
  };
  const node = el('div', {}, items, el('div', { class: 'actions' },
    button(t('rules_add_products'), pickInto('product', 'product_id'), 'secondary', { 'data-action': 'pick-products' }),
    button(t('rules_add_collections'), pickInto('collection', 'collection'), 'secondary', { 'data-action': 'pick-collections' }),
    button(t('rules_add_rule'), () => {
      add({ product_id: '', ...(list === 'boost' ? { factor: 1.5 } : {}) });
      items.lastElementChild.querySelector('input[name="value"]').focus();
    }, 'plain', { 'data-action': 'add-rule' })));
  const read = () => [...items.children].map((row, index) => row.read(`${t(`rules_${list}`)} ${index + 1}`));
  return { node, read };
}

function ruleRow(list, match) {
  const conditions = el('div', { class: 'conditions' });
  const row = el('li', { class: 'rule', 'data-rule': list });
  const addCondition = (name, value) => conditions.append(conditionRow(name, value));
  for (const name of MATCH_FIELDS) if (match[name] !== undefined) addCondition(name, match[name]);
  if (!conditions.children.length) addCondition('product_id', '');
  const factor = list === 'boost'
    ? el('input', { type: 'number', name: 'factor', min: 0.1, max: 10, step: 0.1, value: match.factor ?? 1.5, inputmode: 'decimal' })
    : null;
  row.append(conditions, el('div', { class: 'rule__footer' },
    factor ? field(t('rules_factor'), factor, t('rules_factor_hint')) : null,
    button(t('rules_add_condition'), () => addCondition('tag', ''), 'plain', { 'data-action': 'add-condition' }),
    button(t('rules_remove'), () => row.remove(), 'plain', { 'data-action': 'remove-rule' })));
  row.read = (place) => {
    const result = {};
    for (const condition of conditions.children) {
      const name = condition.querySelector('select').value;
      const value = condition.querySelector('input[name="value"]').value.trim();
      if (!value) continue;
      if (ID_FIELDS.has(name) && !SHOPIFY_ID.test(value)) throw new ApiError(400, 'invalid', t('rules_invalid_id', { place, value }));
      if (name.startsWith('price_') && !PRICE.test(value)) throw new ApiError(400, 'invalid', t('rules_invalid_price', { place, value }));
      result[name] = value;
    }
    if (!Object.keys(result).length) throw new ApiError(400, 'invalid', t('rules_invalid_empty', { place }));
    if (factor) {
      const value = Number(factor.value);
      if (!(value > 0)) throw new ApiError(400, 'invalid', t('rules_invalid_factor', { place }));
      result.factor = value;
    }
    return result;
  };
  return row;
}

function conditionRow(name, value) {
  const select = el('select', { name: 'field' }, MATCH_FIELDS.map((f) => el('option', { value: f, selected: f === name }, t(`match_${f}`))));
  const input = el('input', { type: 'text', name: 'value', value, autocomplete: 'off', spellcheck: 'false' });
  const title = el('span', { class: 'condition__title hint' });
  const pick = button(t('rules_choose'), async () => {
    const [picked] = await pickResources(select.value === 'collection' ? 'collection' : 'product');
    if (!picked) return;
    titles.set(picked.id, picked.title);
    input.value = picked.id;
    update();
  }, 'plain', { 'data-action': 'pick' });
  const update = () => {
    pick.hidden = !ID_FIELDS.has(select.value);
    input.inputMode = ID_FIELDS.has(select.value) || select.value.startsWith('price_') ? 'decimal' : 'text';
    title.textContent = titles.get(input.value.trim()) ?? '';
  };
  select.addEventListener('change', update);
  input.addEventListener('input', update);
  const row = el('div', { class: 'condition', 'data-condition': true },
    field(t('rules_field'), select), field(t('rules_value'), input), pick, title,
    button(t('rules_remove_condition'), () => row.remove(), 'plain', { 'data-action': 'remove-condition' }));
  update();
  return row;
}

/** Pinned products, in order: the first shows first. */
function pinList(ids) {
  const items = el('ol', { class: 'pin-list', 'data-list': 'pin' });
  const add = (id) => {
    const input = el('input', { type: 'text', name: 'pin', value: id, inputmode: 'numeric', autocomplete: 'off' });
    const item = el('li', { class: 'pin' },
      field(t('rules_pin_product'), input), el('span', { class: 'hint' }, titles.get(id) ?? ''),
      button(t('rules_move_up'), () => item.previousElementSibling?.before(item), 'plain', { 'data-action': 'move-up' }),
      button(t('rules_move_down'), () => item.nextElementSibling?.after(item), 'plain', { 'data-action': 'move-down' }),
      button(t('rules_remove_pin'), () => item.remove(), 'plain', { 'data-action': 'remove-pin' }));
    items.append(item);
    return input;
  };
  ids.forEach(add);
  const node = el('div', {}, items, el('div', { class: 'actions' },
    button(t('rules_add_products'), async () => {
      for (const picked of await pickResources('product')) {
        titles.set(picked.id, picked.title);
        add(picked.id);
      }
    }, 'secondary', { 'data-action': 'pick-pins' }),
    button(t('rules_add_pin'), () => add('').focus(), 'plain', { 'data-action': 'add-pin' })));
  const read = () => [...items.querySelectorAll('input[name="pin"]')].map((input) => input.value.trim()).filter(Boolean).map((id) => {
    if (!SHOPIFY_ID.test(id)) throw new ApiError(400, 'invalid', t('rules_invalid_id', { place: t('rules_pin'), value: id }));
    return id;
  });
  return { node, read };
}

/** The product and strategy to preview the rules on, and the button that asks. */
function previewForm(slot, collect) {
  const product = el('input', { type: 'text', name: 'preview-product', inputmode: 'numeric', autocomplete: 'off' });
  const strategy = el('select', { name: 'preview-strategy' }, el('option', { value: '' }, t('strategy_default')),
    STRATEGIES.map((s) => el('option', { value: s }, strategyName(s))));
  const run = button(t('rules_preview_button'), async () => {
    run.disabled = true;
    slot.setAttribute('aria-busy', 'true');
    try {
      const body = { rules: collect() };
      if (product.value.trim()) body.product_id = product.value.trim();
      if (strategy.value) body.strategy = strategy.value;
      const answer = await api('/rules/preview', { method: 'POST', body });
      slot.dataset.state = 'ready';
      slot.replaceChildren(el('div', { class: 'before-after' },
        shelf({ title: t('rules_before'), strategy: answer.before.strategy, items: answer.before.recommendations, currency: answer.currency }),
        shelf({ title: t('rules_after'), strategy: answer.after.strategy, items: answer.after.recommendations, currency: answer.currency })));
    } catch (error) {
      slot.dataset.state = 'error';
      showError(slot, error);
    } finally {
      run.disabled = false;
      slot.removeAttribute('aria-busy');
    }
  }, 'secondary', { 'data-action': 'preview-rules' });
  const pick = button(t('rules_choose'), async () => {
    const [picked] = await pickResources('product');
    if (picked) product.value = picked.id;
  }, 'plain', { 'data-action': 'pick-preview-product' });
  return el('div', { class: 'inline-fields' }, field(t('rules_preview_product'), product, t('rules_preview_product_hint')), pick,
    field(t('rules_preview_strategy'), strategy), run);
}

// ---------------------------------------------------------------------------------------------
// Preview

export async function preview(root) {
  const results = el('div', { class: 'shelves', 'aria-live': 'polite', 'data-state': 'empty' }, el('p', { class: 'hint' }, t('preview_pick_first')));
  const subject = el('p', { class: 'subject', 'data-subject': '' });
  const shopperSelect = el('select', { name: 'shopper' }, el('option', { value: '' }, t('loading')));

  async function show(query, label) {
    subject.textContent = label;
    results.dataset.state = 'loading';
    results.setAttribute('aria-busy', 'true');
    try {
      const answer = await api(`/preview?${new URLSearchParams({ ...query, limit: '8' })}`);
      results.replaceChildren(...answer.shelves.map((s) => shelf({ strategy: s.strategy, usedStrategy: s.used_strategy, items: s.recommendations, currency: answer.currency })));
      if (!answer.shelves.length) results.replaceChildren(el('p', {}, t('preview_none')));
      results.dataset.state = 'ready';
      announce(t('preview_loaded', { count: answer.shelves.length }));
    } catch (error) {
      results.dataset.state = 'error';
      showError(results, error);
    } finally {
      results.removeAttribute('aria-busy');
    }
  }
  const pickAndShow = (type, param) => async () => {
    const [picked] = await pickResources(type);
    if (!picked) return;
    await show({ [param]: picked.id }, t(`preview_for_${type}`, { title: picked.title || picked.id, id: picked.id }));
  };
  const showShopper = button(t('preview_show_shopper'), () => {
    if (!shopperSelect.value) return;
    show({ client_id: shopperSelect.value }, t('preview_for_shopper', { id: shopperSelect.value }));
  }, 'secondary', { 'data-action': 'show-shopper' });

  root.append(card(t('preview_choose'),
    el('div', { class: 'inline-fields' },
      button(t('preview_pick_product'), pickAndShow('product', 'product_id'), 'primary', { 'data-action': 'pick-product' }),
      button(t('preview_pick_collection'), pickAndShow('collection', 'collection_id'), 'secondary', { 'data-action': 'pick-collection' }),
      field(t('preview_shopper'), shopperSelect), showShopper)),
  subject, results);

  try {
    const { shoppers } = await api('/shoppers/recent');
    shopperSelect.replaceChildren(el('option', { value: '' }, shoppers.length ? t('preview_shopper_choose') : t('preview_shopper_none')),
      shoppers.map((s) => el('option', { value: s.client_id }, t('preview_shopper_option', { id: s.client_id.slice(0, 12), when: fmt.dateTime(s.last_seen_ms), events: fmt.integer(s.events) }))));
  } catch (error) {
    shopperSelect.replaceChildren(el('option', { value: '' }, t('preview_shopper_none')));
    showError(results, error);
  }
}
