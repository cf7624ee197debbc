// Small hand-written SVG charts: a line or bar chart of one value per day, an interval bar
// (an estimate between its low and high bounds, against zero), and a comparison of a few
// values. Each draws into a container whose height the stylesheet reserves, so nothing moves
// when the data comes, redraws when the container's width changes, and is readable without
// sight: the SVG is an image labelled with a summary, and a visually hidden table beside it
// holds every value.

import { t } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg';
const MARGIN = { top: 12, right: 16, bottom: 26 };
const CHAR_WIDTH = 7; // of the 12px axis font, enough to keep tick labels clear of the plot

function svgNode(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Up to `count` round tick values from 0 to at least `max` (1, 2 or 5 times a power of ten). */
export function niceTicks(max, count = 4) {
  if (!(max > 0)) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
  const ticks = [];
  for (let value = 0; value < max + step / 2; value += step) ticks.push(Number(value.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

/** Draws with `draw(width, height)` now and again whenever the container's width changes. */
function mount(container, draw) {
  let width = 0;
  const redraw = () => {
    const next = Math.round(container.clientWidth);
    if (next === width || next === 0) return;
    width = next;
    draw(width, container.clientHeight);
  };
  redraw();
  if (width === 0) draw(600, container.clientHeight || 200);
  new ResizeObserver(redraw).observe(container);
}

function hiddenTable(caption, headers, rows) {
  const table = document.createElement('table');
  table.className = 'visually-hidden';
  table.createCaption().textContent = caption;
  const head = table.createTHead().insertRow();
  for (const text of headers) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = text;
    head.append(th);
  }
  const body = table.createTBody();
  for (const cells of rows) {
    const row = body.insertRow();
    cells.forEach((text, index) => {
      const cell = document.createElement(index === 0 ? 'th' : 'td');
      if (index === 0) cell.scope = 'row';
      cell.textContent = text;
      row.append(cell);
    });
  }
  return table;
}

/** What a screen reader hears for a series: its span, total or average, and highest day. */
function seriesSummary(title, points, format, total) {
  if (points.length === 0) return t('chart_empty', { title });
  const highest = points.reduce((best, point) => (point.value > best.value ? point : best), points[0]);
  const sum = points.reduce((acc, point) => acc + point.value, 0);
  return t('chart_summary', {
    title,
    from: points[0].label,
    to: points[points.length - 1].label,
    total: format(total ? sum : sum / points.length),
    total_label: total ? t('chart_total') : t('chart_average'),
    max: format(highest.value),
    max_label: highest.label,
  });
}

/**
 * A chart of one value per day into `container`.
 * spec: {title, points: [{label, value}], format(value) → text, kind: 'line'|'bar',
 *        total: whether a sum means something (counts, money) or only an average (rates)}
 */
export function seriesChart(container, { title, points, format, kind = 'line', total = true }) {
  const summary = seriesSummary(title, points, format, total);
  const figure = document.createElement('figure');
  figure.className = 'chart';
  const plot = document.createElement('div');
  plot.className = 'chart__plot';
  figure.append(plot, hiddenTable(title, [t('chart_day'), title], points.map((p) => [p.label, format(p.value)])));
  container.replaceChildren(figure);
  mount(plot, (width, height) => plot.replaceChildren(drawSeries({ points, format, kind, summary, width, height })));
}

function drawSeries({ points, format, kind, summary, width, height }) {
  const svg = svgNode('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': summary, 'data-points': points.length });
  const ticks = niceTicks(Math.max(0, ...points.map((p) => p.value)));
  const top = ticks[ticks.length - 1] || 1;
  const left = 8 + CHAR_WIDTH * Math.max(...ticks.map((tick) => format(tick).length));
  const plotWidth = Math.max(10, width - left - MARGIN.right);
  const plotHeight = Math.max(10, height - MARGIN.top - MARGIN.bottom);
  const y = (value) => MARGIN.top + plotHeight * (1 - value / top);
  const band = plotWidth / Math.max(points.length, 1);
  const x = kind === 'bar' || points.length < 2
    ? (i) => left + band * (i + 0.5)
    : (i) => left + (plotWidth * i) / (points.length - 1);

  const axis = svgNode('g', { class: 'chart__axis', 'aria-hidden': 'true' });
  for (const tick of ticks) {
    axis.append(svgNode('line', { x1: left, x2: left + plotWidth, y1: y(tick), y2: y(tick), class: tick === 0 ? 'chart__baseline' : 'chart__grid' }));
    axis.append(svgNode('text', { x: left - 6, y: y(tick), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, format(tick)));
  }
  const every = Math.max(1, Math.ceil(points.length / Math.max(2, Math.floor(plotWidth / 90))));
  points.forEach((point, i) => {
    if (i % every !== 0 && i !== points.length - 1) return;
    if (i !== points.length - 1 && points.length - 1 - i < every / 2) return;
    axis.append(svgNode('text', { x: x(i), y: height - 8, 'text-anchor': 'middle' }, point.label));
  });
  svg.append(axis);

  const series = svgNode('g', { class: `chart__series chart__series--${kind}`, 'aria-hidden': 'true' });
  if (kind === 'bar') {
    const barWidth = Math.max(1, band * 0.7);
    points.forEach((point, i) => series.append(svgNode('rect', {
      class: 'point', x: x(i) - barWidth / 2, y: y(point.value), width: barWidth, height: Math.max(0, y(0) - y(point.value)), rx: Math.min(2, barWidth / 4),
    })));
  } else {
    series.append(svgNode('polyline', { points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(' '), fill: 'none' }));
    const radius = points.length > 45 ? 1.5 : 2.5;
    points.forEach((point, i) => series.append(svgNode('circle', { class: 'point', cx: x(i), cy: y(point.value), r: radius })));
  }
  svg.append(series);
  return svg;
}

/**
 * An estimate with its interval, on an axis that always shows zero: a bar from `low` to
 * `high` crossing zero means no clear effect. Values are fractions; `format` writes them.
 */
export function intervalChart(container, { title, estimate, low, high, format }) {
  const summary = t('interval_summary', { title, estimate: format(estimate), low: format(low), high: format(high) });
  const figure = document.createElement('figure');
  figure.className = 'chart chart--interval';
  const plot = document.createElement('div');
  plot.className = 'chart__plot';
  figure.append(plot, hiddenTable(title, [t('interval_estimate'), t('interval_low'), t('interval_high')], [[format(estimate), format(low), format(high)]]));
  container.replaceChildren(figure);
  mount(plot, (width, height) => {
    const span = Math.max(Math.abs(low), Math.abs(high), 0.01) * 1.25;
    const from = Math.min(low, 0) < 0 ? -span : -span * 0.2;
    const to = Math.max(high, 0) > 0 ? span : span * 0.2;
    const x = (value) => 12 + ((value - from) / (to - from)) * (width - 24);
    const mid = height / 2 - 6;
    const svg = svgNode('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': summary, 'data-points': 1 });
    const g = svgNode('g', { 'aria-hidden': 'true', class: 'chart__axis' });
    g.append(svgNode('line', { x1: 12, x2: width - 12, y1: mid, y2: mid, class: 'chart__grid' }));
    g.append(svgNode('line', { x1: x(0), x2: x(0), y1: mid - 14, y2: mid + 14, class: 'chart__baseline' }));
    g.append(svgNode('text', { x: x(0), y: height - 4, 'text-anchor': 'middle' }, format(0)));
    const clear = low > 0 || high < 0;
    g.append(svgNode('rect', { x: x(low), y: mid - 6, width: Math.max(2, x(high) - x(low)), height: 12, rx: 6, class: clear ? 'chart__interval chart__interval--clear' : 'chart__interval' }));
    g.append(svgNode('circle', { cx: x(estimate), cy: mid, r: 6, class: 'point chart__estimate' }));
    g.append(svgNode('text', { x: x(low), y: mid - 12, 'text-anchor': 'middle' }, format(low)));
    g.append(svgNode('text', { x: x(high), y: mid - 12, 'text-anchor': 'middle' }, format(high)));
    svg.append(g);
    plot.replaceChildren(svg);
  });
}

/** Horizontal bars comparing a few labelled values (e.g. AOV with and without). */
export function compareChart(container, { title, items, format }) {
  const summary = `${title}: ${items.map((item) => `${item.label} ${format(item.value)}`).join(', ')}`;
  const figure = document.createElement('figure');
  figure.className = 'chart chart--compare';
  const plot = document.createElement('div');
  plot.className = 'chart__plot';
  figure.append(plot, hiddenTable(title, ['', title], items.map((item) => [item.label, format(item.value)])));
  container.replaceChildren(figure);
  mount(plot, (width, height) => {
    const max = Math.max(...items.map((item) => item.value), 0) || 1;
    const labelWidth = 8 + CHAR_WIDTH * Math.max(...items.map((item) => item.label.length));
    const row = height / items.length;
    const svg = svgNode('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': summary, 'data-points': items.length });
    const g = svgNode('g', { 'aria-hidden': 'true', class: 'chart__axis' });
    items.forEach((item, i) => {
      const valueText = format(item.value);
      const room = width - labelWidth - 16 - CHAR_WIDTH * valueText.length;
      const barWidth = Math.max(2, (room * item.value) / max);
      const cy = row * i + row / 2;
      g.append(svgNode('text', { x: 0, y: cy, 'dominant-baseline': 'middle' }, item.label));
      g.append(svgNode('rect', { x: labelWidth, y: cy - 9, width: barWidth, height: 18, rx: 3, class: `point chart__bar chart__bar--${i}` }));
      g.append(svgNode('text', { x: labelWidth + barWidth + 6, y: cy, 'dominant-baseline': 'middle' }, valueText));
    });
    svg.append(g);
    plot.replaceChildren(svg);
  });
}
