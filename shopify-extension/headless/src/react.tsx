/**
 * `KindredShelf`: a shelf of recommendations for React frontends (Hydrogen, Next.js, Vite).
 * It renders a fixed number of skeleton cards of the final height (no layout shift), fetches
 * the strategy's shelf in the browser (or shows the `initial` answer a server loader fetched),
 * and reports the shelf's impressions once it is seen and each click, as the theme's block
 * does. Nothing touches `window` while rendering, so it renders on the server.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { CSSProperties, MouseEvent, ReactNode } from 'react';
import {
  browserClientId,
  randomId,
  type KindredClient,
  type KindredEvent,
  type Recommendation,
  type RecommendationsResponse,
  type Strategy,
} from './client.js';

export interface ShelfLabels {
  /** The shelf's accessible name when it has no heading. */
  shelf: string;
  /** While the cards load (announced through `aria-busy`). */
  loading: string;
  salePrice: string;
  regularPrice: string;
}

const DEFAULT_LABELS: ShelfLabels = {
  shelf: 'Recommended products',
  loading: 'Loading recommendations',
  salePrice: 'Sale price',
  regularPrice: 'Regular price',
};

export interface ShelfLinkProps {
  href: string;
  className: string;
  style?: CSSProperties;
  onClick: (event: MouseEvent<HTMLElement>) => void;
  onAuxClick: (event: MouseEvent<HTMLElement>) => void;
  children: ReactNode;
  item: Recommendation;
}

export interface KindredShelfProps {
  client: KindredClient;
  strategy: Strategy;
  /** Asked when the strategy has nothing to say (then new arrivals). Default `trending`. */
  fallback?: Strategy | 'none';
  /** The product on screen (a Shopify id or global id). */
  productId?: string;
  /** Product ids in the cart. */
  cart?: readonly string[];
  /**
   * The shopper's anonymous id. Default: the id the theme's script keeps in `localStorage`,
   * read in the browser after the first render.
   */
  clientId?: string;
  /** Cards on the shelf, and skeleton cards while it loads. Default 4. */
  limit?: number;
  /** Where the shelf is (`product`, `cart`, `home`…): sent with the request and its events. */
  placement?: string;
  heading?: ReactNode;
  /** ISO 4217 code of the shop's currency; without it prices show as the server sends them. */
  currency?: string;
  /** Locale of prices. Default `en-US` (fixed, so the server and the browser render the same). */
  locale?: string;
  /**
   * Whether the shopper allowed analytics (Shopify's Customer Privacy API:
   * `analyticsProcessingAllowed()`): only then are impressions and clicks sent and a browser
   * id kept. Default false: no tracking without consent.
   */
  track?: boolean;
  /**
   * An answer already fetched (in a server loader, with the same client): rendered at once,
   * nothing fetched on mount.
   */
  initial?: RecommendationsResponse;
  /** Shown instead of the shelf when it has nothing (or the shopper is in the holdout). */
  empty?: ReactNode | ((response: RecommendationsResponse | null) => ReactNode);
  /** The path or URL of a product page. Default: the server's `url` (`/products/handle`). */
  productHref?: (item: Recommendation) => string;
  /** Renders a card's link, e.g. with a router's `Link` (keep `onClick`). */
  renderLink?: (props: ShelfLinkProps) => ReactNode;
  /** Drops the inline styles (keep equal card heights in your own CSS then). */
  unstyled?: boolean;
  className?: string;
  labels?: Partial<ShelfLabels>;
  onLoad?: (response: RecommendationsResponse) => void;
  onError?: (error: unknown) => void;
}

type ShelfState =
  | { status: 'loading'; key: string }
  | { status: 'loaded'; key: string; response: RecommendationsResponse }
  | { status: 'empty'; key: string; response: RecommendationsResponse | null };

/** A placement as the server takes it: a-z, 0-9 and _, 40 at most (as the theme sends it). */
export function normalisePlacement(placement: string | undefined): string | undefined {
  const label = (placement ?? '').toLowerCase().replace(/\W+/g, '_').slice(0, 40);
  return label || undefined;
}

/** The events of a shelf's cards, shaped as the theme's block sends them. */
export function shelfEvents(
  type: 'recommendation_viewed' | 'recommendation_clicked',
  items: readonly Pick<Recommendation, 'id'>[],
  shelf: { strategy: string; placement?: string; clientId: string },
): KindredEvent[] {
  return items.map((item) => ({
    type,
    id: randomId(),
    client_id: shelf.clientId,
    product_id: item.id,
    strategy: shelf.strategy.slice(0, 40),
    ...(shelf.placement ? { placement: shelf.placement } : {}),
  }));
}

/** `129.00` in the shop's currency, or as sent without one. */
export function formatPrice(amount: string, currency?: string, locale = 'en-US'): string {
  const value = Number(amount);
  if (!currency || !Number.isFinite(value)) return amount;
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(value);
  } catch {
    return `${amount} ${currency}`;
  }
}

/** Resized images from Shopify's CDN (it resizes on `width`); other images as they are. */
function imageSources(src: string): { src: string; srcSet?: string } {
  let url: URL;
  try {
    url = new URL(src);
  } catch {
    return { src };
  }
  if (url.hostname !== 'cdn.shopify.com' && !url.pathname.startsWith('/cdn/shop/')) return { src };
  const at = (width: number) => {
    url.searchParams.set('width', String(width));
    return url.href;
  };
  const srcSet = [165, 360, 533, 720, 940].map((w) => `${at(w)} ${w}w`).join(', ');
  return { src: at(533), srcSet };
}

const LINE = 1.3; // em: one line of card text
const styles = {
  list: {
    display: 'grid',
    gridTemplateColumns: 'repeat(auto-fill, minmax(var(--kindred-card-min, 10rem), 1fr))',
    gap: 'var(--kindred-gap, 1rem)',
    listStyle: 'none',
    margin: 0,
    padding: 0,
  },
  card: { display: 'flex', flexDirection: 'column', minWidth: 0, lineHeight: LINE },
  link: { color: 'inherit', textDecoration: 'none', display: 'block' },
  media: {
    aspectRatio: '1 / 1',
    overflow: 'hidden',
    background: 'var(--kindred-skeleton, rgba(127, 127, 127, 0.12))',
    borderRadius: 'var(--kindred-radius, 0.25rem)',
  },
  image: { display: 'block', width: '100%', height: '100%', objectFit: 'cover' },
  // Two lines whatever the title, so a card's height never depends on its text.
  title: {
    margin: '0.5em 0 0',
    fontSize: '1em',
    height: `${2 * LINE}em`,
    overflow: 'hidden',
    display: '-webkit-box',
    WebkitLineClamp: 2,
    WebkitBoxOrient: 'vertical',
  },
  line: { margin: 0, height: `${LINE}em`, overflow: 'hidden', whiteSpace: 'nowrap', textOverflow: 'ellipsis' },
  reason: { opacity: 0.75, fontSize: '0.875em' },
  bar: {
    display: 'inline-block',
    width: '70%',
    height: '0.8em',
    verticalAlign: 'middle',
    background: 'var(--kindred-skeleton, rgba(127, 127, 127, 0.12))',
    borderRadius: '0.2em',
  },
  hidden: {
    position: 'absolute',
    width: 1,
    height: 1,
    overflow: 'hidden',
    clip: 'rect(0 0 0 0)',
    whiteSpace: 'nowrap',
  },
} satisfies Record<string, CSSProperties>;

/** A shelf of recommendations. See the package's README for Hydrogen. */
export function KindredShelf(props: KindredShelfProps) {
  const {
    client,
    strategy,
    fallback = 'trending',
    productId,
    cart,
    clientId,
    limit = 4,
    heading,
    currency,
    locale,
    track = false,
    initial,
    empty,
    unstyled = false,
    className,
  } = props;
  const placement = normalisePlacement(props.placement);
  const labels = { ...DEFAULT_LABELS, ...props.labels };
  const key = JSON.stringify([strategy, fallback, productId, cart, clientId, limit, placement]);
  const [state, setState] = useState<ShelfState>(() =>
    initial ? settled(key, initial, limit) : { status: 'loading', key },
  );
  const headingId = useId();
  const sectionRef = useRef<HTMLElement>(null);
  // The stored browser id, read in effects and handlers only (never while rendering).
  const stored = useRef<string | undefined>(undefined);
  const viewsSent = useRef(false);
  const callbacks = useRef(props);
  callbacks.current = props;

  const shopperId = () => clientId ?? (track ? (stored.current ??= browserClientId()) : undefined);

  useEffect(() => {
    if (state.key === key && state.status !== 'loading') return;
    const controller = new AbortController();
    const id = shopperId();
    viewsSent.current = false;
    setState((s) => (s.status === 'loading' && s.key === key ? s : { status: 'loading', key }));
    client
      .recommendations({
        strategy,
        fallback,
        product_id: productId,
        cart,
        client_id: id,
        limit,
        placement,
        signal: controller.signal,
      })
      .then((response) => {
        if (controller.signal.aborted) return;
        setState(settled(key, response, limit));
        callbacks.current.onLoad?.(response);
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ status: 'empty', key, response: null });
        if (callbacks.current.onError) callbacks.current.onError(error);
        else console.warn('Kindred unavailable:', error instanceof Error ? error.message : error);
      });
    return () => controller.abort();
    // `state` is read only to skip an answer already there (from `initial`).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, client]);

  const loaded = state.status === 'loaded' ? state.response : null;
  const items = loaded ? loaded.recommendations.slice(0, limit) : [];
  const reporting = track && loaded !== null;

  const report = (type: 'recommendation_viewed' | 'recommendation_clicked', shown: readonly Recommendation[]) => {
    const id = shopperId();
    if (!loaded || !id) return;
    const shelf = { strategy: loaded.strategy, placement, clientId: id };
    const events = type === 'recommendation_clicked' && !viewsSent.current
      ? [...shelfEvents('recommendation_viewed', items, shelf), ...shelfEvents(type, shown, shelf)]
      : shelfEvents(type, shown, shelf);
    viewsSent.current = true;
    client.track(events).catch(() => {});
  };

  // Impressions: once, when the shelf comes into view. Without IntersectionObserver, a click
  // still sends them first: no click without its view.
  useEffect(() => {
    const section = sectionRef.current;
    if (!reporting || !section || viewsSent.current || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (!entries.some((e) => e.isIntersecting) || viewsSent.current) return;
        observer.disconnect();
        report('recommendation_viewed', items);
      },
      { threshold: 0.25 },
    );
    observer.observe(section);
    return () => observer.disconnect();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [reporting, loaded]);

  if (state.status === 'empty') {
    return <>{typeof empty === 'function' ? empty(state.response) : (empty ?? null)}</>;
  }

  const s = (style: CSSProperties) => (unstyled ? undefined : style);
  const loading = state.status === 'loading';
  const clicked = (item: Recommendation) => (event: MouseEvent<HTMLElement>) => {
    if (event.type === 'auxclick' && event.button !== 1) return;
    if (reporting) report('recommendation_clicked', [item]);
  };

  return (
    <section
      ref={sectionRef}
      className={['kindred-shelf', className].filter(Boolean).join(' ')}
      aria-labelledby={heading ? headingId : undefined}
      aria-label={heading ? undefined : labels.shelf}
      aria-busy={loading}
      data-kindred-state={state.status}
      data-kindred-strategy={loaded?.strategy}
    >
      {heading ? (
        <h2 id={headingId} className="kindred-shelf__heading">
          {heading}
        </h2>
      ) : null}
      {loading ? <span style={styles.hidden}>{labels.loading}</span> : null}
      <ul role="list" className="kindred-shelf__list" style={s(styles.list)}>
        {loading
          ? Array.from({ length: limit }, (_, i) => (
              <li key={i} aria-hidden="true" className="kindred-shelf__card kindred-shelf__card--skeleton" style={s(styles.card)}>
                <div className="kindred-shelf__media" style={s(styles.media)} />
                <p className="kindred-shelf__title" style={s(styles.title)}>
                  <span style={s(styles.bar)} />
                </p>
                <p className="kindred-shelf__price" style={s(styles.line)}>
                  <span style={s({ ...styles.bar, width: '30%' })} />
                </p>
                <p className="kindred-shelf__reason" style={s({ ...styles.line, ...styles.reason })}>
                  <span style={s({ ...styles.bar, width: '50%' })} />
                </p>
              </li>
            ))
          : items.map((item) => {
              const href = props.productHref ? props.productHref(item) : item.url;
              const children = (
                <>
                  <div className="kindred-shelf__media" style={s(styles.media)}>
                    {item.image_url ? (
                      <img
                        {...imageSources(item.image_url)}
                        sizes="(min-width: 750px) 25vw, 50vw"
                        width={533}
                        height={533}
                        alt=""
                        loading="lazy"
                        decoding="async"
                        style={s(styles.image)}
                      />
                    ) : null}
                  </div>
                  <h3 className="kindred-shelf__title" style={s(styles.title)}>
                    {item.title}
                  </h3>
                </>
              );
              const linkProps: ShelfLinkProps = {
                href,
                className: 'kindred-shelf__link',
                style: s(styles.link),
                onClick: clicked(item),
                onAuxClick: clicked(item),
                children,
                item,
              };
              return (
                <li key={item.id} className="kindred-shelf__card" data-product-id={item.id} style={s(styles.card)}>
                  {props.renderLink ? props.renderLink(linkProps) : <DefaultLink {...linkProps} />}
                  <p className="kindred-shelf__price" style={s(styles.line)}>
                    <Price item={item} currency={currency} locale={locale} labels={labels} />
                  </p>
                  <p className="kindred-shelf__reason" style={s({ ...styles.line, ...styles.reason })}>
                    {item.reason}
                  </p>
                </li>
              );
            })}
      </ul>
    </section>
  );
}

function settled(key: string, response: RecommendationsResponse, limit: number): ShelfState {
  // A holdout shopper is measured by what they buy without Kindred: no cards, no events.
  const held = response.experiment?.holdout === true;
  return !held && response.recommendations.slice(0, limit).length > 0
    ? { status: 'loaded', key, response }
    : { status: 'empty', key, response };
}

function DefaultLink({ item: _item, children, ...rest }: ShelfLinkProps) {
  return <a {...rest}>{children}</a>;
}

function Price(props: { item: Recommendation; currency?: string; locale?: string; labels: ShelfLabels }) {
  const { item, currency, locale, labels } = props;
  if (item.price == null) return null;
  const price = formatPrice(item.price, currency, locale);
  const compareAt = item.compare_at_price;
  if (compareAt == null || !(Number(compareAt) > Number(item.price))) {
    return <span className="kindred-shelf__amount">{price}</span>;
  }
  return (
    <>
      <span className="kindred-shelf__amount kindred-shelf__amount--sale">
        <span style={styles.hidden}>{`${labels.salePrice} `}</span>
        {price}
      </span>{' '}
      <s className="kindred-shelf__amount kindred-shelf__amount--compare">
        <span style={styles.hidden}>{`${labels.regularPrice} `}</span>
        {formatPrice(compareAt, currency, locale)}
      </s>
    </>
  );
}
