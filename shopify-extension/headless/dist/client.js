/** The largest batch `POST /events` takes. */
export const MAX_EVENTS_PER_REQUEST = 100;
/** Any answer other than 2xx, with the server's stable `code`. */
export class KindredError extends Error {
    status;
    code;
    /** Seconds to wait before retrying (429 and 503 carry `Retry-After`); null when unsaid. */
    retryAfter;
    constructor(status, code, message, retryAfter = null) {
        super(message);
        this.name = 'KindredError';
        this.status = status;
        this.code = code;
        this.retryAfter = retryAfter;
    }
}
/** `Retry-After` in seconds: a number of seconds or an HTTP date. */
export function parseRetryAfter(value, now = Date.now()) {
    if (value == null || value.trim() === '')
        return null;
    const trimmed = value.trim();
    if (/^\d+$/.test(trimmed))
        return Number(trimmed);
    const date = Date.parse(trimmed);
    return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}
/**
 * A Shopify product id as the server reads it: digits, also from a global id such as
 * Hydrogen's `gid://shopify/Product/4357742755898`. Ids stay strings: they exceed 2^53.
 */
export function productId(id) {
    const text = String(id).trim();
    const digits = /(\d+)$/.exec(text);
    return digits ? digits[1] : text;
}
/** Product ids as the server's comma-separated lists take them. */
const ids = (value) => typeof value === 'string' ? value : value.map((id) => productId(String(id))).join(',');
function queryString(params) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
        if (value == null || value === '' || name === 'signal' || name === 'customerToken')
            continue;
        query.set(name, Array.isArray(value) ? value.join(',') : String(value));
    }
    const text = query.toString();
    return text ? `?${text}` : '';
}
async function errorOf(response) {
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    let detail;
    try {
        detail = (await response.json())?.error;
    }
    catch {
        // Not JSON: a proxy's page, an empty body.
    }
    return new KindredError(response.status, typeof detail?.code === 'string' ? detail.code : `http_${response.status}`, typeof detail?.message === 'string' ? detail.message : `HTTP ${response.status} ${response.statusText}`.trim(), retryAfter);
}
export function createKindredClient(options) {
    const root = options.baseUrl.replace(/\/+$/, '');
    const api = /\/api\/v1$/.test(root) ? root : `${root}/api/v1`;
    const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
    const headersFor = (customerToken, json = false) => {
        const headers = {
            Accept: 'application/json',
            Authorization: `Bearer ${options.storefrontKey}`,
        };
        const token = customerToken ?? options.customerToken;
        if (token)
            headers['X-Kindred-Customer-Token'] = token;
        if (json)
            headers['Content-Type'] = 'application/json';
        return headers;
    };
    async function call(path, init) {
        const response = await doFetch(`${api}${path}`, init);
        if (!response.ok)
            throw await errorOf(response);
        try {
            return (await response.json());
        }
        catch (error) {
            if (error?.name === 'AbortError')
                throw error;
            throw new KindredError(response.status, 'invalid_response', 'the server answered something other than JSON');
        }
    }
    const get = (path, params) => call(`${path}${queryString(params)}`, {
        method: 'GET',
        headers: headersFor(params.customerToken),
        signal: params.signal,
    });
    const shelfQuery = (params) => ({
        ...params,
        product_id: typeof params.product_id === 'string' ? productId(params.product_id) : params.product_id,
        cart: params.cart == null ? params.cart : ids(params.cart),
    });
    return {
        recommendations: (params) => get('/recommendations', shelfQuery(params)),
        similar: (id, params = {}) => get(`/products/${encodeURIComponent(productId(id))}/similar`, params),
        cart: (productIds, params = {}) => get('/recommendations/cart', { ...params, product_ids: ids(productIds) }),
        search: (q, params = {}) => get('/search', { ...params, q }),
        suggest: (q, params = {}) => get('/search/suggest', { ...params, q }),
        async track(events, trackOptions = {}) {
            const result = { accepted: 0, duplicates: 0, rejected: [] };
            for (let start = 0; start < events.length; start += MAX_EVENTS_PER_REQUEST) {
                const batch = { events: events.slice(start, start + MAX_EVENTS_PER_REQUEST) };
                const answer = await call('/events', {
                    method: 'POST',
                    headers: headersFor(trackOptions.customerToken, true),
                    body: JSON.stringify(batch),
                    keepalive: trackOptions.keepalive ?? true,
                    signal: trackOptions.signal,
                });
                result.accepted += answer.accepted ?? 0;
                result.duplicates += answer.duplicates ?? 0;
                for (const r of answer.rejected ?? [])
                    result.rejected.push({ index: r.index + start, error: r.error });
                if (answer.warnings?.length)
                    (result.warnings ??= []).push(...answer.warnings);
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
export function browserClientId(storage) {
    const key = 'kindred_client_id';
    try {
        const store = storage ?? globalThis.localStorage;
        let id = store.getItem(key);
        if (!id)
            store.setItem(key, (id = randomId()));
        return id;
    }
    catch {
        // Storage blocked: one id for this page.
        return (pageClientId ??= randomId());
    }
}
let pageClientId;
/** A random id for an event or a browser (UUID where the platform has it). */
export function randomId() {
    const c = globalThis.crypto;
    if (c?.randomUUID)
        return c.randomUUID();
    const bytes = new Uint8Array(16);
    if (c?.getRandomValues)
        c.getRandomValues(bytes);
    else
        for (let i = 0; i < bytes.length; i++)
            bytes[i] = Math.floor(Math.random() * 256);
    return Array.from(bytes, (n) => n.toString(16).padStart(2, '0')).join('');
}
