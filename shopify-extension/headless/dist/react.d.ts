import type { CSSProperties, MouseEvent, ReactNode } from 'react';
import { type KindredClient, type KindredEvent, type Recommendation, type RecommendationsResponse, type Strategy } from './client.js';
export interface ShelfLabels {
    /** The shelf's accessible name when it has no heading. */
    shelf: string;
    /** While the cards load (announced through `aria-busy`). */
    loading: string;
    salePrice: string;
    regularPrice: string;
}
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
/** A placement as the server takes it: a-z, 0-9 and _, 40 at most (as the theme sends it). */
export declare function normalisePlacement(placement: string | undefined): string | undefined;
/** The events of a shelf's cards, shaped as the theme's block sends them. */
export declare function shelfEvents(type: 'recommendation_viewed' | 'recommendation_clicked', items: readonly Pick<Recommendation, 'id'>[], shelf: {
    strategy: string;
    placement?: string;
    clientId: string;
}): KindredEvent[];
/** `129.00` in the shop's currency, or as sent without one. */
export declare function formatPrice(amount: string, currency?: string, locale?: string): string;
/** A shelf of recommendations. See the package's README for Hydrogen. */
export declare function KindredShelf(props: KindredShelfProps): import("react").JSX.Element;
