/**
 * A typed client of Kindred's storefront API for headless frontends. No dependencies: it
 * needs only `fetch` (browsers, Node 18+, Hydrogen/Oxygen workers, Deno, Bun).
 *
 * The shapes come from `schema.d.ts`, generated from the server's OpenAPI document: when the
 * server changes a field or a parameter, this file stops compiling.
 */
import type { components, operations } from './schema.js';

type Schemas = components['schemas'];

/** A product on a shelf or in search results, with why it is there. */
export type Recommendation = Schemas['RecommendationView'];
export type Product = Schemas['ProductView'];
export type SimilarResponse = Schemas['SimilarResponse'];
export type SearchResponse = Schemas['SearchResponse'];
export type SuggestResponse = Schemas['SuggestResponse'];
export type ErrorBody = Schemas['ErrorBody'];
/** One shopper event, as `POST /events` takes it. */
export type KindredEvent = Schemas['EventInput'];
export type EventBatch = Schemas['EventBatch'];

/** The experiment a shopper is in, when one applies to the shelf's placement. */
export interface Experiment {
  /** `holdout`, or the experiment's id. */
  id: string;
  arm: string;
  /** A holdout shopper gets no recommendations and sends no recommendation events. */
  holdout: boolean;
  /** What a holdout shopper sees instead: nothing, or Shopify's own recommendations. */
  control?: 'none' | 'shopify';
}

/** Recommendations of one strategy; `strategy` is the one that answered. */
export type RecommendationsResponse = Omit<Schemas['RecommendationsResponse'], 'experiment'> & {
  experiment?: Experiment | null;
};

/** The strategies the server knows. */
export type Strategy =
  | 'similar'
  | 'for_you'
  | 'complementary'
  | 'trending'
  | 'recently_viewed'
  | 'new_arrivals'
  | 'buy_again';

/** What `POST /events` answers (summed over the batches `track` sent). */
export interface TrackResult {
  accepted: number;
  duplicates: number;
  /** Refused events, `index` into the array given to `track`. */
  rejected: { index: number; error: string }[];
  warnings?: string[];
}

export interface ClientOptions {
  /** The Kindred server, e.g. `https://kindred.example.com` (`/api/v1` is added unless present). */
  baseUrl: string;
  /** The shop's public storefront key, `kdr_sf_…`. */
  storefrontKey: string;
  /** A customer token the shop's server minted for the logged-in shopper. */
  customerToken?: string;
  /** Another `fetch` (a test double, a framework's instrumented fetch). */
  fetch?: typeof fetch;
}

/** Per call: cancel it, or answer for another logged-in customer. */
export type RequestOptions = {
  signal?: AbortSignal;
  customerToken?: string;
};

type QueryValue = string | number | boolean | readonly (string | number)[] | null | undefined;
/** The server's query parameters for an operation, by their names in the OpenAPI document. */
type ServerQuery<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;
type Query<Op extends keyof operations> = { [K in keyof ServerQuery<Op>]?: QueryValue };

// The parameters this file names itself must be the server's too: this stops compiling
// when the OpenAPI document loses one of them.
type Has<Op extends keyof operations, K extends string> = [K] extends [keyof ServerQuery<Op>] ? true : false;
type Is<T extends true> = T;
type _ServerNamesTheParametersUsedHere = [
  Is<Has<'recommendations', 'strategy' | 'fallback' | 'product_id' | 'client_id' | 'cart' | 'limit' | 'placement'>>,
  Is<Has<'similar_products', 'limit' | 'tags'>>,
  Is<Has<'cart', 'product_ids' | 'limit'>>,
  Is<Has<'search', 'q' | 'client_id' | 'limit'>>,
  Is<Has<'suggest', 'q' | 'client_id' | 'limit'>>,
];

export type RecommendationParams = Query<'recommendations'> &
  RequestOptions & {
    strategy: Strategy;
    /** Asked when the strategy has nothing to say; new arrivals come after it. */
    fallback?: Strategy | 'none';
    /** Product ids in the cart (or one comma-separated string). */
    cart?: string | readonly string[];
    limit?: number;
  };
export type SimilarParams = Query<'similar_products'> & RequestOptions & { limit?: number; tags?: string | readonly string[] };
export type CartParams = Omit<Query<'cart'>, 'product_ids'> & RequestOptions & { limit?: number };
export type SearchParams = Omit<Query<'search'>, 'q'> & RequestOptions & { limit?: number };
export type SuggestParams = Omit<Query<'suggest'>, 'q'> & RequestOptions & { limit?: number };
export type TrackOptions = RequestOptions & {
  /** Default true: the request outlives the page (a click that navigates away). */
  keepalive?: boolean;
};

/** The largest batch `POST /events` takes. */
export const MAX_EVENTS_PER_REQUEST = 100;

/** Any answer other than 2xx, with the server's stable `code`. */
export class KindredError extends Error {
  readonly status: number;
  readonly code: string;
  /** Seconds to wait before retrying (429 and 503 carry `Retry-After`); null when unsaid. */
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, retryAfter: number | null = null) {
    super(message);
    this.name = 'KindredError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** `Retry-After` in seconds: a number of seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value == null || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * A Shopify product id as the server reads it: digits, also from a global id such as
 * Hydrogen's `gid://shopify/Product/4357742755898`. Ids stay strings: they exceed 2^53.
 */
export function productId(id: string | bigint): string {
  const text = String(id).trim();
  const digits = /(\d+)$/.exec(text);
  return digits ? digits[1] : text;
}

/** Product ids as the server's comma-separated lists take them. */
const ids = (value: string | readonly (string | number)[]) =>
  typeof value === 'string' ? value : value.map((id) => productId(String(id))).join(',');

function queryString(params: Record<string, unknown>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value == null || value === '' || name === 'signal' || name === 'customerToken') continue;
    query.set(name, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}

async function errorOf(response: Response): Promise<KindredError> {
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
  let detail: Partial<Schemas['ErrorDetail']> | undefined;
  try {
    detail = ((await response.json()) as Partial<ErrorBody>)?.error;
  } catch {
    // Not JSON: a proxy's page, an empty body.
  }
  return new KindredError(
    response.status,
    typeof detail?.code === 'string' ? detail.code : `http_${response.status}`,
    typeof detail?.message === 'string' ? detail.message : `HTTP ${response.status} ${response.statusText}`.trim(),
    retryAfter,
  );
}

export interface KindredClient {
  /** A shelf of any strategy, with a fallback: `GET /recommendations`. */
  recommendations(params: RecommendationParams): Promise<RecommendationsResponse>;
  /** Nearest products in meaning, with filters: `GET /products/{id}/similar`. */
  similar(productId: string, params?: SimilarParams): Promise<SimilarResponse>;
  /** What goes with the cart's items: `GET /recommendations/cart`. */
  cart(productIds: readonly string[], params?: CartParams): Promise<RecommendationsResponse>;
  /** The shop's products for a query, session re-ranked: `GET /search`. */
  search(q: string, params?: SearchParams): Promise<SearchResponse>;
  /** As-you-type completions and products: `GET /search/suggest`. */
  suggest(q: string, params?: SuggestParams): Promise<SuggestResponse>;
  /** Sends shopper events, 100 a request: `POST /events`. */
  track(events: readonly KindredEvent[], options?: TrackOptions): Promise<TrackResult>;
}

export function createKindredClient(options: ClientOptions): KindredClient {
  const root = options.baseUrl.replace(/\/+$/, '');
  const api = /\/api\/v1$/.test(root) ? root : `${root}/api/v1`;
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  const headersFor = (customerToken: string | undefined, json = false): Record<string, string> => {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: `Bearer ${options.storefrontKey}`,
    };
    const token = customerToken ?? options.customerToken;
    if (token) headers['X-Kindred-Customer-Token'] = token;
    if (json) headers['Content-Type'] = 'application/json';
    return headers;
  };

  async function call<T>(path: string, init: RequestInit): Promise<T> {
    const response = await doFetch(`${api}${path}`, init);
    if (!response.ok) throw await errorOf(response);
    try {
      return (await response.json()) as T;
    } catch (error) {
      if ((error as Error)?.name === 'AbortError') throw error;
      throw new KindredError(response.status, 'invalid_response', 'the server answered something other than JSON');
    }
  }

  const get = <T>(path: string, params: Record<string, unknown> & RequestOptions) =>
    call<T>(`${path}${queryString(params)}`, {
      method: 'GET',
      headers: headersFor(params.customerToken),
      signal: params.signal,
    });

  const shelfQuery = (params: RecommendationParams): RecommendationParams => ({
    ...params,
    product_id: typeof params.product_id === 'string' ? productId(params.product_id) : params.product_id,
    cart: params.cart == null ? params.cart : ids(params.cart),
  });

  return {
    recommendations: (params) => get<RecommendationsResponse>('/recommendations', shelfQuery(params)),
    similar: (id, params = {}) =>
      get<SimilarResponse>(`/products/${encodeURIComponent(productId(id))}/similar`, params),
    cart: (productIds, params = {}) =>
      get<RecommendationsResponse>('/recommendations/cart', { ...params, product_ids: ids(productIds) }),
    search: (q, params = {}) => get<SearchResponse>('/search', { ...params, q }),
    suggest: (q, params = {}) => get<SuggestResponse>('/search/suggest', { ...params, q }),

    async track(events, trackOptions = {}) {
      const result: TrackResult = { accepted: 0, duplicates: 0, rejected: [] };
      for (let start = 0; start < events.length; start += MAX_EVENTS_PER_REQUEST) {
        const batch: EventBatch = { events: events.slice(start, start + MAX_EVENTS_PER_REQUEST) };
        const answer = await call<TrackResult>('/events', {
          method: 'POST',
          headers: headersFor(trackOptions.customerToken, true),
          body: JSON.stringify(batch),
          keepalive: trackOptions.keepalive ?? true,
          signal: trackOptions.signal,
        });
        result.accepted += answer.accepted ?? 0;
        result.duplicates += answer.duplicates ?? 0;
        for (const r of answer.rejected ?? []) result.rejected.push({ index: r.index + start, error: r.error });
        if (answer.warnings?.length) (result.warnings ??= []).push(...answer.warnings);
      }
      return result;
    },
  };
}

/**
 * The browser's anonymous id, kept in `localStorage` under the key the theme's script uses,
 * so a shopper keeps one id across theme and headless pages. Call it in the browser only
 * (an effect, an event handler), never while rendering on the server.
 */
export function browserClientId(storage?: Storage): string {
  const key = 'kindred_client_id';
  try {
    const store = storage ?? globalThis.localStorage;
    let id = store.getItem(key);
    if (!id) store.setItem(key, (id = randomId()));
    return id;
  } catch {
    // Storage blocked: one id for this page.
    return (pageClientId ??= randomId());
  }
}
let pageClientId: string | undefined;

/** A random id for an event or a browser (UUID where the platform has it). */
export function randomId(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (n) => n.toString(16).padStart(2, '0')).join('');
}
