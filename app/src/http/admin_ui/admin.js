// The embedded admin's shell: the page frame, the navigation between hash routes, and what
// every page shares (the API client, a small DOM builder, inline errors, announcements).
// Pages live in their own modules, loaded when first opened; they import these helpers.
//
// App Bridge (loaded before this module) adds the session token to every same-origin fetch,
// so the API client is plain `fetch`.

import { t } from './i18n.js';

// ---------------------------------------------------------------------------------------------
// DOM

/**
 * An element: `el('button', {class: 'primary', type: 'button', onclick}, 'Save')`. Props
 * beginning with `on` are listeners; `class`, `text` and `html`-free values are set as
 * attributes (booleans add or omit the attribute). Children are nodes, strings or arrays;
 * null and false are skipped.
 */
export function el(tag, props = {}, ...children) {
  const svg = SVG_TAGS.has(tag);
  const node = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'text') node.textContent = value;
    else if (name === 'value' && !svg) node.value = value;
    else if (name === 'checked' || name === 'selected') node[name] = Boolean(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

const SVG_TAGS = new Set(['svg', 'g', 'line', 'polyline', 'path', 'rect', 'circle', 'text', 'title']);

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

let lastId = 0;
/** A fresh id, for labels and `aria-describedby`. */
export const uid = (prefix = 'k') => `${prefix}-${++lastId}`;

/** A labelled control: the label, the control, and an optional hint tied to it. */
export function field(label, control, hint) {
  control.id ||= uid('field');
  const hintNode = hint ? el('p', { class: 'hint', id: uid('hint') }, hint) : null;
  if (hintNode) control.setAttribute('aria-describedby', hintNode.id);
  const wrapper = control.type === 'checkbox' ? 'field field--check' : 'field';
  return el('div', { class: wrapper }, el('label', { for: control.id }, label), control, hintNode);
}

/** A white card with a heading (h2) and its content. */
export const card = (title, ...children) => el('section', { class: 'card' }, title ? el('h2', {}, title) : null, ...children);

/**
 * A button; an async handler's failure is announced rather than lost (a cancelled picker
 * or a network error must never leave the merchant clicking a button that does nothing).
 */
export const button = (label, onclick, variant = 'secondary', props = {}) => el('button', {
  type: 'button',
  class: `button button--${variant}`,
  onclick: (event) => Promise.resolve(onclick(event)).catch((error) => announce(error.message || t('error_unknown'))),
  ...props,
}, label);

/** The strategies and placements a shelf or an experiment can name. */
export const STRATEGIES = ['similar', 'for_you', 'complementary', 'trending', 'recently_viewed', 'new_arrivals', 'buy_again'];
export const PLACEMENTS = ['product', 'cart', 'index', 'collection', 'search', 'page'];

/** A table with a header row; `rows` are arrays of cells (nodes or text). */
export function table(caption, headers, rows, { numeric = [] } = {}) {
  const cellClass = (index) => (numeric.includes(index) ? 'num' : null);
  return el('div', { class: 'table-wrap' }, el('table', {},
    el('caption', { class: caption.visible ? null : 'visually-hidden' }, caption.text ?? caption),
    el('thead', {}, el('tr', {}, headers.map((h, i) => el('th', { scope: 'col', class: cellClass(i) }, h)))),
    el('tbody', {}, rows.map((row) => el('tr', {}, row.map((cell, i) => (i === 0
      ? el('th', { scope: 'row' }, cell)
      : el('td', { class: cellClass(i) }, cell))))))));
}

// ---------------------------------------------------------------------------------------------
// The API

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls the admin API; resolves to the JSON answer (null for 204), rejects with an ApiError. */
export async function api(path, { method = 'GET', body } = {}) {
  let response;
  try {
    response = await fetch(`/app/api${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', t('error_network'));
  }
  if (response.status === 204) return null;
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    const error = answer?.error ?? {};
    throw new ApiError(response.status, error.code ?? 'http', error.message || t('error_http', { status: response.status }));
  }
  return answer;
}

/** An inline error for a failed call; a plan limit links to Billing. */
export function errorNotice(error) {
  const planLimit = error instanceof ApiError && (error.code === 'plan_limit' || error.status === 402);
  return el('div', { class: 'banner banner--critical', role: 'alert', 'data-error-code': error.code ?? 'error' },
    el('p', {}, error.message || t('error_unknown')),
    planLimit ? el('p', {}, el('a', { href: '#billing' }, t('plan_limit_link'))) : null);
}

/** Replaces `slot`'s content with the error of `error`, or clears it. */
export function showError(slot, error) {
  slot.replaceChildren(...(error ? [errorNotice(error)] : []));
}

/** Says `message` to screen readers and as an App Bridge toast. */
export function announce(message) {
  const region = document.getElementById('announcer');
  region.textContent = '';
  // A new text node in the next frame is announced even when the words repeat.
  requestAnimationFrame(() => { region.textContent = message; });
  window.shopify?.toast?.show?.(message);
}

/**
 * Shopify's resource picker (App Bridge); resolves to [{id, title, image}] with numeric ids
 * as strings, or [] when the merchant cancels.
 */
export async function pickResources(type) {
  const picker = window.shopify?.resourcePicker;
  if (!picker) throw new ApiError(0, 'no_picker', t('error_no_picker'));
  const selection = await picker({ type, multiple: true });
  return (selection ?? []).map((item) => ({
    id: String(item.id).split('/').pop(),
    title: item.title ?? '',
    image: item.images?.[0]?.originalSrc ?? item.image?.originalSrc ?? null,
  }));
}

// ---------------------------------------------------------------------------------------------
// The shell

const ROUTES = {
  dashboard: () => import('./insights.js').then((m) => m.dashboard),
  rules: () => import('./merchandising.js').then((m) => m.rules),
  preview: () => import('./merchandising.js').then((m) => m.preview),
  experiments: () => import('./insights.js').then((m) => m.experiments),
  settings: () => import('./settings.js').then((m) => m.settings),
  billing: () => import('./settings.js').then((m) => m.billing),
};
const DEFAULT_ROUTE = 'dashboard';

/** `#experiments/abc` → {name: 'experiments', arg: 'abc'}; anything unknown is the dashboard. */
function currentRoute() {
  const [name, ...rest] = decodeURIComponent(location.hash.slice(1)).split('/');
  return ROUTES[name] ? { name, arg: rest.join('/') || null } : { name: DEFAULT_ROUTE, arg: null };
}

function buildShell() {
  const names = Object.keys(ROUTES);
  // Shopify's admin shows `ui-nav-menu` in its own sidebar; in the page it stays hidden.
  const navMenu = el('ui-nav-menu', {}, el('a', { href: '#dashboard', rel: 'home' }, t('nav_dashboard')),
    names.slice(1).map((name) => el('a', { href: `#${name}` }, t(`nav_${name}`))));
  const tabs = el('nav', { class: 'tabs', 'aria-label': t('nav_label') },
    el('ul', {}, names.map((name) => el('li', {}, el('a', { href: `#${name}`, 'data-route': name }, t(`nav_${name}`))))));
  const main = el('main', { id: 'main', tabindex: '-1' });
  const announcer = el('div', { id: 'announcer', class: 'visually-hidden', 'aria-live': 'polite', role: 'status' });
  document.getElementById('app').replaceChildren(
    navMenu,
    el('a', { class: 'skip-link', href: '#main', onclick: skipToMain }, t('skip_to_content')),
    el('header', { class: 'topbar' }, el('span', { class: 'brand' }, 'Kindred'), tabs),
    main,
    announcer,
  );
  return main;
}

function skipToMain(event) {
  event.preventDefault();
  document.getElementById('main').focus();
}

let renderCount = 0;

async function render(main, { focus }) {
  const { name, arg } = currentRoute();
  const ticket = ++renderCount;
  for (const link of document.querySelectorAll('.tabs a')) {
    if (link.dataset.route === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${t(`nav_${name}`)} · Kindred`;
  const heading = el('h1', { tabindex: '-1' }, t(`nav_${name}`));
  const root = el('div', { class: 'page', 'data-page': name, 'data-state': 'loading' });
  main.replaceChildren(heading, root);
  if (focus) heading.focus();
  try {
    const page = await ROUTES[name]();
    if (ticket !== renderCount) return;
    await page(root, { arg, heading });
    if (root.dataset.state === 'loading') root.dataset.state = 'ready';
  } catch (error) {
    root.dataset.state = 'error';
    root.append(errorNotice(error));
  }
}

/**
 * Marks a page as failed to load (its data never came), so that tests and the merchant
 * see the reason rather than a spinner.
 */
export function pageFailed(root, error) {
  root.dataset.state = 'error';
  root.replaceChildren(errorNotice(error));
}

function start() {
  const main = buildShell();
  render(main, { focus: false });
  window.addEventListener('hashchange', () => render(main, { focus: true }));
}

start();
