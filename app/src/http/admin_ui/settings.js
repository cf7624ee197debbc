// How Kindred runs for the shop: attribution and the holdout, storefront keys and allowed
// origins for headless storefronts, what is kept, the catalogue and order syncs, the webhook
// inbox; and the plan the shop pays for.

import { announce, api, button, card, el, errorNotice, field, pageFailed, showError, table } from './admin.js';
import { fmt, t } from './i18n.js';

// ---------------------------------------------------------------------------------------------
// Settings and health

/**
 * Everything is fetched at once and drawn together when it has all come, so that no card
 * grows under another's feet; a card whose data failed shows its error in its place.
 */
export async function settings(root) {
  const calls = {
    settings: api('/settings'), status: api('/status'), keys: api('/keys'),
    origins: api('/allowed-origins'), failed: api('/webhooks/failed'),
  };
  const answers = Object.fromEntries(await Promise.all(Object.entries(calls).map(([name, call]) =>
    call.then((value) => [name, { value }], (error) => [name, { error }]))));
  const section = (title, answer, draw) => card(title, answer.error ? errorNotice(answer.error) : draw(answer.value));
  const reloadStatus = async (slot) => {
    try {
      slot.replaceChildren(syncDetails(await api('/status'), reloadStatus));
    } catch (error) {
      showError(slot, error);
    }
  };
  const syncSlot = el('div');
  if (answers.status.value) syncSlot.append(syncDetails(answers.status.value, reloadStatus));
  root.append(
    section(t('settings_measurement'), answers.settings, settingsForm),
    card(t('settings_sync'), answers.status.error ? errorNotice(answers.status.error) : syncSlot),
    section(t('settings_webhooks'), answers.failed, (failed) => webhooks(answers.status.value?.webhooks, failed.deliveries ?? [])),
    section(t('settings_keys'), answers.keys, (keys) => keyManager(keys.keys ?? [])),
    section(t('settings_origins'), answers.origins, (origins) => originEditor(origins.origins ?? [])),
  );
  if (Object.values(answers).every((answer) => answer.error)) pageFailed(root, answers.settings.error);
}

function settingsForm(current) {
  const windowHours = el('input', { type: 'number', name: 'attribution_window_hours', min: 1, max: 720, step: 1, inputmode: 'numeric', value: current.attribution_window_hours });
  const enabled = el('input', { type: 'checkbox', name: 'holdout_enabled', checked: current.holdout?.enabled });
  const share = el('input', { type: 'number', name: 'share_percent', min: 1, max: 50, step: 1, inputmode: 'numeric', value: current.holdout?.share_percent ?? 10 });
  const control = el('select', { name: 'control' },
    ['none', 'shopify'].map((value) => el('option', { value, selected: value === current.holdout?.control }, t(`control_${value}`))));
  const holdoutFields = el('div', { class: 'indent' }, field(t('settings_share'), share, t('settings_share_hint')), field(t('settings_control'), control, t('settings_control_hint')));
  const syncEnabled = () => { share.disabled = !enabled.checked; control.disabled = !enabled.checked; };
  enabled.addEventListener('change', syncEnabled);
  syncEnabled();
  const errorSlot = el('div', { 'aria-live': 'polite' });
  const save = el('button', { type: 'submit', class: 'button button--primary', 'data-action': 'save-settings' }, t('save'));
  const form = el('form', { class: 'stack', 'data-form': 'settings', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    save.disabled = true;
    try {
      const saved = await api('/settings', { method: 'PUT', body: {
        attribution_window_hours: Number(windowHours.value),
        holdout: { enabled: enabled.checked, share_percent: Number(share.value), control: control.value },
      } });
      showError(errorSlot, null);
      windowHours.value = saved.attribution_window_hours;
      form.dataset.saved = String(Date.now());
      announce(t('settings_saved'));
    } catch (error) {
      showError(errorSlot, error);
    } finally {
      save.disabled = false;
    }
  } },
  field(t('settings_window'), windowHours, t('settings_window_hint')),
  field(t('settings_holdout'), enabled, t('settings_holdout_hint')),
  holdoutFields,
  el('p', { class: 'hint', 'data-retention': current.event_retention_days }, t('settings_retention', { days: fmt.integer(current.event_retention_days) })),
  errorSlot, el('div', { class: 'actions' }, save));
  return form;
}

function syncDetails(status, reload) {
  const when = (ms) => (ms ? fmt.dateTime(ms) : '—');
  const state = (sync) => (sync ? t(`sync_${sync.state}`) : t('sync_never'));
  const slot = el('div', { class: 'sync' });
  const errorSlot = el('div', { 'aria-live': 'polite' });
  const ask = (path, name) => button(t(`sync_now_${name}`), async () => {
    try {
      const answer = await api(path, { method: 'POST' });
      showError(errorSlot, null);
      announce(answer?.sync === 'already running' ? t('sync_already') : t('sync_requested'));
      await reload(slot.parentElement ?? slot);
    } catch (error) {
      showError(errorSlot, error);
    }
  }, 'secondary', { 'data-action': `sync-${name}` });
  slot.append(el('div', { class: 'columns' },
    el('div', {}, el('h3', {}, t('sync_catalogue')), definitions([
      [t('sync_state'), state(status.sync)],
      [t('sync_products'), fmt.integer(status.products ?? 0)],
      [t('sync_indexed'), fmt.integer(status.indexed ?? 0)],
      [t('sync_finished'), when(status.sync?.finished_at)],
      [t('sync_error'), status.sync?.last_error || '—'],
    ]), ask('/sync', 'catalogue')),
    el('div', {}, el('h3', {}, t('sync_orders')), definitions([
      [t('sync_state'), state(status.order_sync)],
      [t('sync_orders_count'), t('sync_orders_value', { orders: fmt.integer(status.orders ?? 0), test: fmt.integer(status.test_orders ?? 0) })],
      [t('sync_finished'), when(status.order_sync?.finished_at)],
      [t('sync_error'), status.order_sync?.last_error || '—'],
    ]), ask('/orders/sync', 'orders'))),
  el('p', {}, status.web_pixel ? t('pixel_connected') : t('pixel_missing')),
  errorSlot);
  return slot;
}

const definitions = (pairs) => el('dl', { class: 'definitions' }, pairs.map(([term, value]) => [el('dt', {}, term), el('dd', {}, value)]));

function webhooks(counts, deliveries) {
  const errorSlot = el('div', { 'aria-live': 'polite' });
  const rows = deliveries.map((delivery) => {
    const retry = button(t('webhook_retry'), async () => {
      retry.disabled = true;
      try {
        await api(`/webhooks/${encodeURIComponent(delivery.webhook_id)}/retry`, { method: 'POST' });
        retry.replaceWith(el('span', { class: 'badge badge--running' }, t('webhook_queued')));
        announce(t('webhook_queued'));
      } catch (error) {
        retry.disabled = false;
        showError(errorSlot, error);
      }
    }, 'secondary', { 'data-action': 'retry', 'data-webhook-id': delivery.webhook_id });
    return [delivery.topic, fmt.integer(delivery.attempts), delivery.last_error || '—', fmt.dateTime(delivery.received_at_ms), retry];
  });
  return el('div', {},
    definitions([[t('webhook_pending'), fmt.integer(counts?.pending ?? 0)], [t('webhook_failed'), fmt.integer(counts?.failed ?? deliveries.length)]]),
    errorSlot,
    rows.length
      ? table(t('webhook_failed_list'), [t('col_topic'), t('col_attempts'), t('col_last_error'), t('col_received'), el('span', { class: 'visually-hidden' }, t('col_actions'))], rows, { numeric: [1] })
      : el('p', { class: 'hint' }, t('webhook_none_failed')));
}

/** Keys are listed by id, never by value; a new key is shown once, in its own box. */
function keyManager(initial) {
  const errorSlot = el('div', { 'aria-live': 'polite' });
  const fresh = el('div', { 'aria-live': 'polite' });
  const listSlot = el('div');
  const keyId = (key) => key.key_id ?? key.id;
  const draw = (keys) => {
    const rows = keys.map((key) => [
      el('code', {}, key.prefix ?? keyId(key)), t(`scope_${key.scope}`) ?? key.scope, fmt.dateTime(key.created_at_ms),
      key.revoked_at_ms ? t('key_revoked_at', { when: fmt.dateTime(key.revoked_at_ms) }) : t('key_active'),
      key.revoked_at_ms ? '' : revokeButton(key),
    ]);
    listSlot.replaceChildren(rows.length
      ? table(t('settings_keys'), [t('col_key'), t('col_scope'), t('col_created'), t('col_status'), el('span', { class: 'visually-hidden' }, t('col_actions'))], rows)
      : el('p', { class: 'hint' }, t('keys_none')));
  };
  const reload = async () => draw((await api('/keys')).keys ?? []);
  // Revoking breaks a storefront at once: the first press asks, the second does it.
  const revokeButton = (key) => {
    const control = button(t('key_revoke'), async () => {
      if (control.dataset.confirm !== 'true') {
        control.dataset.confirm = 'true';
        control.textContent = t('key_revoke_confirm');
        return;
      }
      try {
        await api(`/keys/${encodeURIComponent(keyId(key))}`, { method: 'DELETE' });
        announce(t('key_revoked'));
        await reload();
      } catch (error) {
        showError(errorSlot, error);
      }
    }, 'critical', { 'data-action': 'revoke', 'data-key-id': keyId(key) });
    return control;
  };
  const create = button(t('key_create'), async () => {
    create.disabled = true;
    try {
      const answer = await api('/keys', { method: 'POST', body: { scope: 'storefront' } });
      const value = el('input', { type: 'text', readonly: true, value: answer.key, class: 'secret', 'data-new-key': keyId(answer.info ?? answer) ?? '' });
      fresh.replaceChildren(el('div', { class: 'banner banner--success' },
        el('p', {}, t('key_created_once')), field(t('key_new_label'), value),
        button(t('key_copy'), async () => {
          value.select();
          await navigator.clipboard?.writeText(answer.key).catch(() => {});
          announce(t('key_copied'));
        }, 'plain', { 'data-action': 'copy-key' })));
      showError(errorSlot, null);
      await reload();
    } catch (error) {
      showError(errorSlot, error);
    } finally {
      create.disabled = false;
    }
  }, 'primary', { 'data-action': 'create-key' });
  draw(initial);
  return el('div', {}, el('p', { class: 'hint' }, t('keys_hint')), fresh, listSlot, errorSlot, el('div', { class: 'actions' }, create));
}

/** The origins a headless storefront's browser may call from; each change is saved at once. */
function originEditor(initial) {
  let origins = [...initial];
  const errorSlot = el('div', { 'aria-live': 'polite' });
  const list = el('ul', { class: 'origin-list' });
  const input = el('input', { type: 'url', name: 'origin', placeholder: 'https://shop.example.com', autocomplete: 'off', spellcheck: 'false' });
  const save = async (next) => {
    try {
      origins = (await api('/allowed-origins', { method: 'PUT', body: { origins: next } })).origins ?? next;
      showError(errorSlot, null);
      draw();
      announce(t('origins_saved'));
      return true;
    } catch (error) {
      showError(errorSlot, error);
      return false;
    }
  };
  const draw = () => list.replaceChildren(...(origins.length
    ? origins.map((origin) => el('li', {}, el('code', {}, origin),
      button(t('origin_remove'), () => save(origins.filter((o) => o !== origin)), 'plain', { 'aria-label': t('origin_remove_named', { origin }) })))
    : [el('li', { class: 'hint' }, t('origins_none'))]));
  draw();
  const form = el('form', { class: 'inline-fields', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    const origin = input.value.trim();
    if (origin && await save([...origins, origin])) input.value = '';
  } }, field(t('origin_new'), input), el('button', { type: 'submit', class: 'button button--secondary' }, t('origin_add')));
  return el('div', {}, el('p', { class: 'hint' }, t('origins_hint')), list, form, errorSlot);
}

// ---------------------------------------------------------------------------------------------
// Billing

export async function billing(root) {
  let answer;
  try {
    answer = await api('/billing');
  } catch (error) {
    pageFailed(root, error);
    return;
  }
  const current = answer.plans.find((plan) => plan.id === answer.plan);
  const errorSlot = el('div', { 'aria-live': 'polite' });
  const subscription = answer.subscription;
  root.append(
    card(t('billing_current'),
      el('p', { class: 'kpi__value', 'data-current-plan': answer.plan }, current?.name ?? answer.plan),
      subscription ? el('p', { class: 'hint' }, t('billing_subscription', { name: subscription.name, status: t(`subscription_${String(subscription.status).toLowerCase()}`) }),
        subscription.test ? el('span', { class: 'badge' }, t('billing_test')) : null) : null),
    errorSlot,
    el('div', { class: 'plans' }, answer.plans.map((plan) => planCard(plan, plan.id === answer.plan, errorSlot))),
  );
}

function planCard(plan, isCurrent, errorSlot) {
  const price = Number(plan.price) > 0
    ? t('billing_price', { price: fmt.money(plan.price, plan.currency), interval: t(`interval_${plan.interval}`) })
    : t('billing_free');
  const choose = isCurrent
    ? el('button', { type: 'button', class: 'button button--secondary', disabled: true }, t('billing_is_current'))
    : button(t('billing_choose'), async () => {
      choose.disabled = true;
      try {
        const { confirmation_url: url } = await api('/billing/subscribe', { method: 'POST', body: { plan: plan.id } });
        // Shopify's confirmation page must take the whole admin, not this frame.
        if (url) window.open(url, '_top');
        else location.reload();
      } catch (error) {
        showError(errorSlot, error);
        choose.disabled = false;
      }
    }, 'primary', { 'data-action': 'choose-plan', 'data-plan': plan.id });
  return el('section', { class: `card plan${isCurrent ? ' plan--current' : ''}`, 'data-plan': plan.id },
    el('h2', {}, plan.name),
    el('p', { class: 'plan__price' }, price),
    plan.trial_days ? el('p', { class: 'hint' }, t('billing_trial', { days: fmt.integer(plan.trial_days) })) : null,
    el('ul', { class: 'plan__features' }, (plan.features ?? []).map((feature) => el('li', {}, feature))),
    el('div', { class: 'actions' }, choose));
}
