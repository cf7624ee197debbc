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
export type Strategy = 'similar' | 'for_you' | 'complementary' | 'trending' | 'recently_viewed' | 'new_arrivals' | 'buy_again';
/** What `POST /events` answers (summed over the batches `track` sent). */
export interface TrackResult {
    accepted: number;
    duplicates: number;
    /** Refused events, `index` into the array given to `track`. */
    rejected: {
        index: number;
        error: string;
    }[];
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
type Query<Op extends keyof operations> = {
    [K in keyof ServerQuery<Op>]?: QueryValue;
};
export type RecommendationParams = Query<'recommendations'> & RequestOptions & {
    strategy: Strategy;
    /** Asked when the strategy has nothing to say; new arrivals come after it. */
    fallback?: Strategy | 'none';
    /** Product ids in the cart (or one comma-separated string). */
    cart?: string | readonly string[];
    limit?: number;
};
export type SimilarParams = Query<'similar_products'> & RequestOptions & {
    limit?: number;
    tags?: string | readonly string[];
};
export type CartParams = Omit<Query<'cart'>, 'product_ids'> & RequestOptions & {
    limit?: number;
};
export type SearchParams = Omit<Query<'search'>, 'q'> & RequestOptions & {
    limit?: number;
};
export type SuggestParams = Omit<Query<'suggest'>, 'q'> & RequestOptions & {
    limit?: number;
};
export type TrackOptions = RequestOptions & {
    /** Default true: the request outlives the page (a click that navigates away). */
    keepalive?: boolean;
};
/** The largest batch `POST /events` takes. */
export declare const MAX_EVENTS_PER_REQUEST = 100;
/** Any answer other than 2xx, with the server's stable `code`. */
export declare class KindredError extends Error {
    readonly status: number;
    readonly code: string;
    /** Seconds to wait before retrying (429 and 503 carry `Retry-After`); null when unsaid. */
    readonly retryAfter: number | null;
    constructor(status: number, code: string, message: string, retryAfter?: number | null);
}
/** `Retry-After` in seconds: a number of seconds or an HTTP date. */
export declare function parseRetryAfter(value: string | null, now?: number): number | null;
/**
 * A Shopify product id as the server reads it: digits, also from a global id such as
 * Hydrogen's `gid://shopify/Product/4357742755898`. Ids stay strings: they exceed 2^53.
 */
export declare function productId(id: string | bigint): string;
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
export declare function createKindredClient(options: ClientOptions): KindredClient;
/**
 * The browser's anonymous id, kept in `localStorage` under the key the theme's script uses,
 * so a shopper keeps one id across theme and headless pages. Call it in the browser only
 * (an effect, an event handler), never while rendering on the server.
 */
export declare function browserClientId(storage?: Storage): string;
/** A random id for an event or a browser (UUID where the platform has it). */
export declare function randomId(): string;
export {};
