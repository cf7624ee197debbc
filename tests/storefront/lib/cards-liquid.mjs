// Kindred's `/cards` answers as the server writes them: its assignments (handles, strategy,
// experiment), then the server's own card markup (app/src/http/cards.liquid), for the mock
// and the extension's tests to answer exactly what the server answers.

import fs from 'node:fs';

export const CARDS_LIQUID = fs.readFileSync(new URL('../../../app/src/http/cards.liquid', import.meta.url), 'utf8');

// Handles the server writes (Liquid cannot read them as anything but a string).
const INERT_HANDLE = /^[\p{L}\p{N}._-]+$/u;
// Completed queries the server writes: words, spaces and hyphens.
const INERT_QUERY = /^[\p{L}\p{N} -]*[\p{L}\p{N}][\p{L}\p{N} -]*$/u;

/** The Liquid answer for `items` (products with a `handle`), as the proxy's `cards` routes give it. */
export function cardsLiquid({ strategy, items, experiment, personalised, queries = [] }) {
  // Of each completed query its completion alone, as the server writes it.
  const inert = [...new Set(queries.map((query) => query.split(' ').at(-1)))].filter((word) => INERT_QUERY.test(word));
  return [
    `{%- assign kindred_handles = '${items.map((item) => item.handle).filter((h) => INERT_HANDLE.test(h ?? '')).slice(0, 20).join(',')}' | split: ',' -%}`,
    `{%- assign kindred_strategy = '${strategy ?? ''}' -%}`,
    `{%- assign kindred_arm = '${experiment?.arm ?? ''}' -%}`,
    `{%- assign kindred_holdout = ${Boolean(experiment?.holdout)} -%}`,
    `{%- assign kindred_control = '${experiment?.control ?? ''}' -%}`,
    ...(inert.length ? [`{%- assign kindred_queries = '${inert.join('|')}' | split: '|' -%}`] : []),
    ...(personalised === undefined ? [] : [`{%- assign kindred_personalised = ${personalised} -%}`]),
    CARDS_LIQUID,
  ].join('\n');
}
