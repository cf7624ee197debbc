// Stands in for Shopify's App Bridge (https://cdn.shopify.com/shopifycloud/app-bridge.js) in
// the admin's browser test, served in its place with `window.kindredAppBridge` set before it:
// {shop, locale, picks: {product: [ids], collection: [ids]}}. Like App Bridge it reads the app's
// client id from `<meta name="shopify-api-key">`, adds a fresh session token to every
// same-origin fetch, opens the resource picker (here: the test's picks, as Shopify's gids) and
// shows toasts; navigation of the top frame is recorded rather than followed. Session tokens
// come from `window.kindredSessionToken()`, which the test exposes (it holds the secret).

(() => {
  const config = window.kindredAppBridge;
  const calls = { pickers: [], toasts: [], opened: [], tokens: 0 };
  window.kindredAppBridgeCalls = calls;
  const apiKey = document.querySelector('meta[name="shopify-api-key"]')?.content ?? null;
  const idToken = async () => {
    calls.tokens += 1;
    return window.kindredSessionToken();
  };
  const resourceName = { product: 'Product', collection: 'Collection' };

  window.shopify = {
    config: { apiKey, shop: config.shop, locale: config.locale, host: config.host },
    idToken,
    resourcePicker: async ({ type, multiple = false } = {}) => {
      calls.pickers.push({ type, multiple });
      const ids = config.picks[type] ?? [];
      // Shopify's picker resolves to undefined when the merchant closes it.
      if (ids.length === 0) return undefined;
      const selection = ids.map((id) => ({
        id: `gid://shopify/${resourceName[type]}/${id}`,
        title: `${resourceName[type]} ${id}`,
        handle: `${type}-${id}`,
        images: [],
      }));
      return multiple ? selection : selection.slice(0, 1);
    },
    toast: { show: (message) => { calls.toasts.push(String(message)); } },
    loading: () => {},
  };

  const nativeFetch = window.fetch.bind(window);
  window.fetch = async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    if (url.origin !== location.origin) return nativeFetch(input, init);
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${await idToken()}`);
    return nativeFetch(input, { ...init, headers });
  };

  window.open = (url, target) => {
    calls.opened.push({ url: String(url), target: target ?? null });
    return null;
  };
})();
