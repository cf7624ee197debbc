// Shopify Markets as the stand-in storefront shows them: the primary market in the shop's
// currency and language at `/`, and a France market in French at its subfolder `/fr-fr` (a
// market's own subfolder: a bare language one, `/fr`, would keep the primary market's
// currency) that shows prices in euros
// (converted at a fixed rate, then rounded up to .95 as a market's price rounding does) and
// titles translated (as Translate & Adapt would store them). Everything the storefront
// renders in a market, its own product page and the app proxy's Liquid alike, goes through
// `inMarket`, so a test can check the app's cards against what the shop itself shows.

export const PRIMARY = { prefix: '', locale: 'en', currency: 'USD', rate: 1, words: null };

// A few words of the yoga catalogue, enough that most titles read differently in French.
const FRENCH_WORDS = new Map(Object.entries({
  yoga: 'yoga',
  mat: 'tapis',
  mats: 'tapis',
  block: 'bloc',
  blocks: 'blocs',
  strap: 'sangle',
  bag: 'sac',
  towel: 'serviette',
  cork: 'liège',
  natural: 'naturel',
  rubber: 'caoutchouc',
  travel: 'voyage',
  black: 'noir',
  blue: 'bleu',
  green: 'vert',
  grey: 'gris',
  gray: 'gris',
  red: 'rouge',
  pink: 'rose',
  purple: 'violet',
  white: 'blanc',
  and: 'et',
  with: 'avec',
  for: 'pour',
  cushion: 'coussin',
  bolster: 'traversin',
  blanket: 'couverture',
  wheel: 'roue',
  set: 'ensemble',
}));

export const FRANCE = { prefix: '/fr-fr', locale: 'fr', currency: 'EUR', rate: 0.92, words: FRENCH_WORDS };

export const MARKETS = [PRIMARY, FRANCE];

/** The market a storefront path is in, and the path without its locale prefix. */
export function marketOf(pathname) {
  for (const market of MARKETS) {
    if (market.prefix && (pathname === market.prefix || pathname.startsWith(`${market.prefix}/`))) {
      return { market, path: pathname.slice(market.prefix.length) || '/' };
    }
  }
  return { market: PRIMARY, path: pathname };
}

/** A price (a decimal string in the shop's currency) in the market's currency, rounded up to .95. */
export function presentmentPrice(market, price) {
  if (price == null || price === '') return null;
  const amount = Number.parseFloat(price);
  if (!Number.isFinite(amount) || market.rate === 1) return price;
  const converted = amount * market.rate;
  const rounded = Math.max(Math.ceil(converted) - 0.05, 0.95);
  return rounded.toFixed(2);
}

/** A title as the market's language has it: word by word, keeping the words it lacks. */
export function translatedTitle(market, title) {
  if (!market.words) return title;
  return title.replace(/\p{L}+/gu, (word) => {
    const translated = market.words.get(word.toLowerCase());
    if (!translated) return word;
    return word[0] === word[0].toUpperCase() ? translated[0].toUpperCase() + translated.slice(1) : translated;
  });
}

/** A product (Kindred's shape) as the storefront shows it in `market`. */
export function inMarket(product, market) {
  if (market === PRIMARY) return product;
  return {
    ...product,
    title: translatedTitle(market, product.title),
    price: presentmentPrice(market, product.price),
    compare_at_price: presentmentPrice(market, product.compare_at_price),
    url: `${market.prefix}${product.url}`,
  };
}

/** How the storefront formats money in the market. */
export function moneyFormat(market) {
  const format = new Intl.NumberFormat(market.locale, { style: 'currency', currency: market.currency });
  return (amount) => format.format(amount);
}
