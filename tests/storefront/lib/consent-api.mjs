// A stand-in for what Shopify's storefront puts in every page's head for the Customer Privacy
// API: `Shopify.loadFeatures`, which loads `Shopify.customerPrivacy` a moment later, and the
// `visitorConsentCollected` event the banner's answer dispatches. The shop asks for consent
// in the shopper's region, so analytics is allowed only after a yes. The answer lives in a
// cookie, as Shopify's does, so it holds from page to page; a test sets it to start answered.

export const CONSENT_COOKIE = 'stand_in_tracking_consent';
/**
 * The cookie's values: answered yes, answered no; `absent` makes the storefront leave the API
 * out of its pages, as a page that is not Shopify's would. No cookie: not answered yet.
 */
export const CONSENT_VALUES = { given: 'yes', refused: 'no', absent: 'absent' };

// Runs in the page, serialised into an inline script: it may use nothing from this module.
function installCustomerPrivacy(cookieName) {
  const shopify = (window.Shopify = window.Shopify || {});
  shopify.routes = shopify.routes || { root: '/' };
  const answer = () => (document.cookie.match(new RegExp(`(?:^|; )${cookieName}=(yes|no)`)) || [])[1];
  const customerPrivacy = {
    analyticsProcessingAllowed: () => answer() === 'yes',
    shouldShowBanner: () => answer() === undefined,
    setTrackingConsent(consent, callback) {
      const yes = consent.analytics === true;
      document.cookie = `${cookieName}=${yes ? 'yes' : 'no'}; path=/; SameSite=Lax`;
      setTimeout(() => {
        document.dispatchEvent(new CustomEvent('visitorConsentCollected', {
          detail: {
            analyticsAllowed: yes,
            marketingAllowed: consent.marketing === true,
            preferencesAllowed: consent.preferences === true,
            saleOfDataAllowed: consent.sale_of_data === true,
          },
        }));
        if (callback) callback();
      }, 0);
    },
  };
  shopify.loadFeatures = (features, callback) => {
    // Shopify fetches the API's script: the answer never comes synchronously.
    setTimeout(() => {
      const unknown = features.find((feature) => feature.name !== 'consent-tracking-api');
      if (unknown) return callback(new Error(`unknown feature ${unknown.name}`));
      shopify.customerPrivacy = customerPrivacy;
      return callback(null);
    }, 30);
  };
}

/** The inline script for a page's head. */
export const customerPrivacyScript = () => `<script>(${installCustomerPrivacy})(${JSON.stringify(CONSENT_COOKIE)});</script>`;
