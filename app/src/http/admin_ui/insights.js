// What recommendations earned: the dashboard (the report over 7, 30 or 90 days) and the
// experiments (the holdout and A/B tests, their results).

import { ApiError, PLACEMENTS, STRATEGIES, announce, api, button, card, el, errorNotice, field, pageFailed, showError, table, uid } from './admin.js';
import { compareChart, intervalChart, seriesChart } from './charts.js';
import { fmt, strategyName, placementName, t } from './i18n.js';

const RANGES = [7, 30, 90];

// ---------------------------------------------------------------------------------------------
// Dashboard

const dashboardDays = { value: 30 };

/**
 * The skeleton goes in first with every chart's height reserved; the report fills it in
 * place. The table and order comparison come after the charts, so their arrival moves nothing.
 */
export async function dashboard(root) {
  const rangeButtons = RANGES.map((days) => button(t('range_days', { days }), () => choose(days), 'segment', { 'aria-pressed': String(days === dashboardDays.value), 'data-days': days }));
  const status = el('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  const kpis = el('div', { class: 'kpis' }, ['shown', 'ctr', 'revenue', 'lift'].map((name) => el('div', { class: 'kpi card', 'data-kpi': name },
    el('h2', { class: 'kpi__label' }, t(`kpi_${name}`)), el('p', { class: 'kpi__value' }, '—'), el('p', { class: 'kpi__detail' }, ' '))));
  const charts = el('div', { class: 'charts' });
  const after = el('div', { class: 'after-charts' });
  const errorSlot = el('div');
  root.append(
    el('div', { class: 'toolbar' }, el('div', { class: 'segmented', role: 'group', 'aria-label': t('range_label') }, rangeButtons), status),
    errorSlot, kpis, charts, after,
  );
  const chartSlots = chartFrames(charts);

  async function load(days) {
    root.setAttribute('aria-busy', 'true');
    try {
      const report = await api(`/report?days=${days}`);
      showError(errorSlot, null);
      renderReport(report, { root, kpis, charts, chartSlots, after });
      status.textContent = t('report_loaded', { days });
    } finally {
      root.removeAttribute('aria-busy');
    }
  }
  async function choose(days) {
    dashboardDays.value = days;
    rangeButtons.forEach((b) => b.setAttribute('aria-pressed', String(Number(b.dataset.days) === days)));
    root.dataset.state = 'loading';
    try {
      await load(days);
      root.dataset.state = 'ready';
    } catch (error) {
      root.dataset.state = 'error';
      showError(errorSlot, error);
    }
  }
  await choose(dashboardDays.value);
}

const CHARTS = ['shown', 'ctr', 'revenue', 'lift'];

function chartFrames(charts) {
  const slots = {};
  for (const name of CHARTS) {
    slots[name] = el('div', { class: `chart-slot chart-slot--${name}` });
    charts.append(card(t(`chart_${name}`), slots[name]));
  }
  return slots;
}

function renderReport(report, { root, kpis, charts, chartSlots, after }) {
  const money = (value) => fmt.money(value, report.currency);
  const daily = report.daily ?? [];
  const totals = daily.reduce((sum, day) => ({
    shown: sum.shown + day.shown, clicked: sum.clicked + day.clicked, revenue: sum.revenue + Number(day.attributed_revenue),
  }), { shown: 0, clicked: 0, revenue: 0 });
  root.dataset.totalShown = totals.shown;
  root.dataset.totalRevenue = totals.revenue;
  const lift = report.holdout?.lift ?? null;

  setKpi(kpis, 'shown', fmt.integer(totals.shown), t('kpi_clicked', { clicked: fmt.integer(totals.clicked) }));
  setKpi(kpis, 'ctr', fmt.percent(totals.shown ? totals.clicked / totals.shown : 0), t('kpi_days', { days: report.days }));
  setKpi(kpis, 'revenue', money(totals.revenue), t('kpi_window', { hours: report.window_hours }));
  setKpi(kpis, 'lift', lift ? fmt.signedPercent(lift.estimate) : '—',
    lift ? t('interval_text', { low: fmt.signedPercent(lift.low), high: fmt.signedPercent(lift.high) }) : t('lift_none'));

  const empty = totals.shown === 0 && (report.rows ?? []).length === 0;
  if (empty) {
    charts.replaceChildren(el('section', { class: 'card empty-state', 'data-empty': 'true' },
      el('h2', {}, t('empty_title')), el('p', {}, t('empty_body'))));
    after.replaceChildren();
    return;
  }
  if (!charts.contains(chartSlots.shown)) {
    charts.replaceChildren();
    Object.assign(chartSlots, chartFrames(charts));
  }
  const label = (day) => fmt.day(day.day);
  seriesChart(chartSlots.shown, { title: t('chart_shown'), points: daily.map((d) => ({ label: label(d), value: d.shown })), format: fmt.compact });
  seriesChart(chartSlots.ctr, { title: t('chart_ctr'), total: false, points: daily.map((d) => ({ label: label(d), value: d.shown ? d.clicked / d.shown : 0 })), format: (v) => fmt.percent(v) });
  seriesChart(chartSlots.revenue, { title: t('chart_revenue'), kind: 'bar', points: daily.map((d) => ({ label: label(d), value: Number(d.attributed_revenue) })), format: (v) => fmt.moneyShort(v, report.currency) });
  liftCard(chartSlots.lift, report.holdout);

  after.replaceChildren(ordersCard(report, money), rowsCard(report, money));
}

function setKpi(kpis, name, value, detail) {
  const kpi = kpis.querySelector(`[data-kpi="${name}"]`);
  kpi.querySelector('.kpi__value').textContent = value;
  kpi.querySelector('.kpi__detail').textContent = detail;
}

function liftCard(slot, holdout) {
  const lift = holdout?.lift;
  const verdict = el('p', { class: 'verdict' }, holdout?.verdict || t('lift_none'));
  if (!lift) {
    slot.replaceChildren(el('div', { class: 'chart-note' }, verdict, el('p', { class: 'hint' }, el('a', { href: '#settings' }, t('lift_settings_link')))));
    return;
  }
  const chart = el('div', { class: 'interval-slot' });
  slot.replaceChildren(chart, verdict);
  intervalChart(chart, { title: t('chart_lift'), ...lift, format: fmt.signedPercent });
}

function ordersCard(report, money) {
  const { with_recommendations: withRecs, without } = report.orders ?? {};
  const slot = el('div', { class: 'compare-slot' });
  const section = card(t('aov_title'), slot, table(t('aov_title'), [t('col_orders_kind'), t('col_orders'), t('col_revenue'), t('col_aov')], [
    [t('aov_with'), fmt.integer(withRecs?.orders ?? 0), money(withRecs?.revenue ?? 0), money(withRecs?.aov ?? 0)],
    [t('aov_without'), fmt.integer(without?.orders ?? 0), money(without?.revenue ?? 0), money(without?.aov ?? 0)],
  ], { numeric: [1, 2, 3] }));
  compareChart(slot, { title: t('col_aov'), format: money, items: [
    { label: t('aov_with'), value: Number(withRecs?.aov ?? 0) },
    { label: t('aov_without'), value: Number(without?.aov ?? 0) },
  ] });
  return section;
}

function rowsCard(report, money) {
  const rows = (report.rows ?? []).map((row) => [
    strategyName(row.strategy), placementName(row.placement), fmt.integer(row.shown), fmt.integer(row.clicked),
    fmt.percent(row.click_through_rate), fmt.integer(row.added_to_cart), fmt.integer(row.attributed_orders), money(row.attributed_revenue),
  ]);
  return card(t('rows_title'), rows.length
    ? table(t('rows_title'), [t('col_strategy'), t('col_placement'), t('col_shown'), t('col_clicked'), t('col_ctr'), t('col_added'), t('col_attributed_orders'), t('col_revenue')], rows, { numeric: [2, 3, 4, 5, 6, 7] })
    : el('p', {}, t('rows_empty')));
}

// ---------------------------------------------------------------------------------------------
// Experiments

/**
 * The list and the form; `#experiments/{id}` adds that experiment's results below the list.
 * Drawn once the list has come, so the form below it never moves.
 */
export async function experiments(root, { arg }) {
  const listSlot = el('div', { 'aria-live': 'polite' });
  const resultsSlot = el('div', { id: 'results' });
  async function refresh() {
    const { experiments: list } = await api('/experiments');
    listSlot.replaceChildren(experimentList(list, refresh));
  }
  try {
    await Promise.all([refresh(), arg ? showResults(resultsSlot, arg) : null]);
  } catch (error) {
    pageFailed(root, error);
    return;
  }
  root.append(listSlot, resultsSlot, createForm(refresh));
  if (arg) resultsSlot.scrollIntoView({ block: 'start' });
}

const holdoutFirst = (a, b) => (a.kind === 'holdout' ? -1 : b.kind === 'holdout' ? 1 : (b.created_at_ms ?? 0) - (a.created_at_ms ?? 0));

function experimentList(list, refresh) {
  const errorSlot = el('div');
  const rows = [...list].sort(holdoutFirst).map((experiment) => {
    const actions = el('div', { class: 'actions' });
    const act = (verb) => {
      const control = button(t(`experiment_${verb}`), async () => {
        control.disabled = true;
        try {
          await api(`/experiments/${encodeURIComponent(experiment.id)}/${verb}`, { method: 'POST' });
          announce(t(verb === 'start' ? 'experiment_started' : 'experiment_stopped', { name: experiment.name }));
          await refresh();
        } catch (error) {
          control.disabled = false;
          showError(errorSlot, error);
        }
      }, verb === 'start' ? 'primary' : 'secondary', { 'data-action': verb });
      return control;
    };
    if (experiment.kind === 'ab' && experiment.status === 'draft') actions.append(act('start'));
    if (experiment.kind === 'ab' && experiment.status === 'running') actions.append(act('stop'));
    if (experiment.status !== 'draft' || experiment.kind === 'holdout') {
      actions.append(el('a', { class: 'button button--plain', href: `#experiments/${encodeURIComponent(experiment.id)}`, 'data-action': 'results' }, t('experiment_results')));
    }
    const row = [
      el('span', { 'data-experiment-id': experiment.id }, experiment.kind === 'holdout' ? holdoutName(experiment) : experiment.name),
      experiment.kind === 'holdout' ? t('kind_holdout') : t('kind_ab'),
      placementName(experiment.placement),
      el('span', { class: `badge badge--${experiment.status}` }, t(`status_${experiment.status}`)),
      experiment.arms.map((arm) => `${arm.name} (${fmt.integer(arm.weight)})`).join(', '),
      experiment.created_at_ms ? fmt.dateTime(experiment.created_at_ms) : '—',
      actions,
    ];
    return row;
  });
  return card(t('experiments_title'), errorSlot, rows.length
    ? table(t('experiments_title'), [t('col_name'), t('col_kind'), t('col_placement'), t('col_status'), t('col_arms'), t('col_created'), el('span', { class: 'visually-hidden' }, t('col_actions'))], rows)
    : el('p', {}, t('experiments_empty')));
}

function createForm(created) {
  const name = el('input', { type: 'text', name: 'name', required: true, maxlength: 80, autocomplete: 'off' });
  const placement = el('select', { name: 'placement' }, el('option', { value: '' }, t('placement_all')),
    PLACEMENTS.map((p) => el('option', { value: p }, placementName(p))));
  const arms = el('div', { class: 'arms' });
  const errorSlot = el('div');
  const addArm = (arm) => {
    arms.append(armRow(arm, () => updateRemovable()));
    updateRemovable();
  };
  const updateRemovable = () => {
    const rows = arms.querySelectorAll('.arm');
    rows.forEach((row, i) => {
      row.querySelector('legend').textContent = t('arm_legend', { n: i + 1 });
      row.querySelector('[data-action="remove-arm"]').disabled = rows.length <= 2;
    });
  };
  addArm({ name: 'A', weight: 50, strategy: 'similar' });
  addArm({ name: 'B', weight: 50, strategy: 'for_you' });
  const submit = el('button', { type: 'submit', class: 'button button--primary' }, t('experiment_create'));

  const form = el('form', { class: 'stack', 'data-form': 'experiment', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    const body = {
      name: name.value.trim(),
      placement: placement.value || null,
      arms: [...arms.querySelectorAll('.arm')].map((row) => {
        const strategy = row.querySelector('[name="strategy"]').value;
        return { name: row.querySelector('[name="arm-name"]').value.trim(), weight: Number(row.querySelector('[name="weight"]').value), ...(strategy ? { strategy } : {}) };
      }),
    };
    const problem = !body.name ? t('experiment_name_required')
      : body.arms.some((arm) => !arm.name || !(arm.weight > 0)) ? t('experiment_arms_invalid') : null;
    if (problem) { showError(errorSlot, new ApiError(400, 'invalid', problem)); return; }
    submit.disabled = true;
    try {
      const experiment = await api('/experiments', { method: 'POST', body });
      showError(errorSlot, null);
      form.dataset.createdId = experiment.id;
      name.value = '';
      announce(t('experiment_created', { name: experiment.name }));
      await created();
    } catch (error) {
      showError(errorSlot, error);
    } finally {
      submit.disabled = false;
    }
  } },
  field(t('experiment_name'), name),
  field(t('experiment_placement'), placement, t('experiment_placement_hint')),
  arms,
  el('div', { class: 'actions' }, button(t('arm_add'), () => addArm({ name: String.fromCharCode(65 + arms.children.length), weight: 50, strategy: '' }), 'secondary', { 'data-action': 'add-arm' }), submit),
  errorSlot);
  return card(t('experiment_new'), form);
}

function armRow(arm, removed) {
  const strategy = el('select', { name: 'strategy' }, el('option', { value: '' }, t('strategy_block')),
    STRATEGIES.map((s) => el('option', { value: s, selected: s === arm.strategy }, strategyName(s))));
  const row = el('fieldset', { class: 'arm' }, el('legend', {}, ''),
    field(t('arm_name'), el('input', { type: 'text', name: 'arm-name', value: arm.name, required: true, maxlength: 40 })),
    field(t('arm_weight'), el('input', { type: 'number', name: 'weight', value: arm.weight, min: 1, max: 100, step: 1, required: true, inputmode: 'numeric' })),
    field(t('arm_strategy'), strategy),
    button(t('arm_remove'), () => { row.remove(); removed(); }, 'plain', { 'data-action': 'remove-arm' }));
  return row;
}

async function showResults(slot, id) {
  slot.replaceChildren(el('p', { class: 'loading' }, t('loading')));
  try {
    const results = await api(`/experiments/${encodeURIComponent(id)}/results`);
    slot.replaceChildren(resultsCard(results));
  } catch (error) {
    slot.replaceChildren(errorNotice(error));
  }
}

function resultsCard(results) {
  const money = (value) => fmt.money(value, results.currency);
  const liftText = (lift) => (lift ? `${fmt.signedPercent(lift.estimate)} (${fmt.signedPercent(lift.low)} – ${fmt.signedPercent(lift.high)})` : '—');
  const experiment = results.experiment;
  const rows = results.arms.map((arm) => [
    arm.name === results.control_arm ? t('arm_control', { name: arm.name }) : arm.name,
    fmt.integer(arm.visitors), fmt.integer(arm.orders), fmt.percent(arm.conversion_rate), money(arm.revenue),
    money(arm.revenue_per_visitor), money(arm.aov), liftText(arm.revenue_per_visitor_lift), liftText(arm.conversion_lift),
  ]);
  const ratio = results.sample_ratio;
  const charts = results.arms.filter((arm) => arm.revenue_per_visitor_lift).map((arm) => {
    const slot = el('div', { class: 'interval-slot' });
    intervalChart(slot, { title: t('results_lift_of', { name: arm.name }), ...arm.revenue_per_visitor_lift, format: fmt.signedPercent });
    return el('div', {}, el('h3', {}, t('results_lift_of', { name: arm.name })), slot);
  });
  const section = card(t('results_title', { name: experiment.kind === 'holdout' ? holdoutName(experiment) : experiment.name }),
    el('p', { class: 'verdict', 'data-verdict': true }, results.verdict),
    el('div', { class: ratio?.mismatch ? 'banner banner--warning' : 'banner banner--info', 'data-sample-ratio': ratio?.mismatch ? 'mismatch' : 'ok' },
      el('p', {}, ratio?.mismatch ? t('srm_mismatch', { p: fmt.decimal(ratio.p_value, 3) }) : t('srm_ok', { p: fmt.decimal(ratio?.p_value ?? 1, 3) }))),
    table(t('results_arms'), [t('col_arm'), t('col_visitors'), t('col_orders'), t('col_conversion'), t('col_revenue'), t('col_rpv'), t('col_aov'), t('col_rpv_lift'), t('col_conversion_lift')], rows, { numeric: [1, 2, 3, 4, 5, 6, 7, 8] }),
    charts,
    el('p', { class: 'hint', 'data-method': true }, results.method));
  section.id = uid('results');
  section.dataset.experimentId = experiment.id;
  section.dataset.state = 'ready';
  return section;
}

/** The holdout's name says what its shoppers see instead of Kindred. */
function holdoutName(experiment) {
  return t(experiment.control === 'shopify' ? 'holdout_name_shopify' : 'holdout_name');
}
