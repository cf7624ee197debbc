import { Fragment as _Fragment, jsx as _jsx, jsxs as _jsxs } from "react/jsx-runtime";
/**
 * `KindredShelf`: a shelf of recommendations for React frontends (Hydrogen, Next.js, Vite).
 * It renders a fixed number of skeleton cards of the final height (no layout shift), fetches
 * the strategy's shelf in the browser (or shows the `initial` answer a server loader fetched),
 * and reports the shelf's impressions once it is seen and each click, as the theme's block
 * does. Nothing touches `window` while rendering, so it renders on the server.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { browserClientId, randomId, } from './client.js';
const DEFAULT_LABELS = {
    shelf: 'Recommended products',
    loading: 'Loading recommendations',
    salePrice: 'Sale price',
    regularPrice: 'Regular price',
};
/** A placement as the server takes it: a-z, 0-9 and _, 40 at most (as the theme sends it). */
export function normalisePlacement(placement) {
    const label = (placement ?? '').toLowerCase().replace(/\W+/g, '_').slice(0, 40);
    return label || undefined;
}
/** The events of a shelf's cards, shaped as the theme's block sends them. */
export function shelfEvents(type, items, shelf) {
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
export function formatPrice(amount, currency, locale = 'en-US') {
    const value = Number(amount);
    if (!currency || !Number.isFinite(value))
        return amount;
    try {
        return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(value);
    }
    catch {
        return `${amount} ${currency}`;
    }
}
/** Resized images from Shopify's CDN (it resizes on `width`); other images as they are. */
function imageSources(src) {
    let url;
    try {
        url = new URL(src);
    }
    catch {
        return { src };
    }
    if (url.hostname !== 'cdn.shopify.com' && !url.pathname.startsWith('/cdn/shop/'))
        return { src };
    const at = (width) => {
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
};
/** A shelf of recommendations. See the package's README for Hydrogen. */
export function KindredShelf(props) {
    const { client, strategy, fallback = 'trending', productId, cart, clientId, limit = 4, heading, currency, locale, track = false, initial, empty, unstyled = false, className, } = props;
    const placement = normalisePlacement(props.placement);
    const labels = { ...DEFAULT_LABELS, ...props.labels };
    const key = JSON.stringify([strategy, fallback, productId, cart, clientId, limit, placement]);
    const [state, setState] = useState(() => initial ? settled(key, initial, limit) : { status: 'loading', key });
    const headingId = useId();
    const sectionRef = useRef(null);
    // The stored browser id, read in effects and handlers only (never while rendering).
    const stored = useRef(undefined);
    const viewsSent = useRef(false);
    const callbacks = useRef(props);
    callbacks.current = props;
    const shopperId = () => clientId ?? (track ? (stored.current ??= browserClientId()) : undefined);
    useEffect(() => {
        if (state.key === key && state.status !== 'loading')
            return;
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
            if (controller.signal.aborted)
                return;
            setState(settled(key, response, limit));
            callbacks.current.onLoad?.(response);
        })
            .catch((error) => {
            if (controller.signal.aborted)
                return;
            setState({ status: 'empty', key, response: null });
            if (callbacks.current.onError)
                callbacks.current.onError(error);
            else
                console.warn('Kindred unavailable:', error instanceof Error ? error.message : error);
        });
        return () => controller.abort();
        // `state` is read only to skip an answer already there (from `initial`).
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [key, client]);
    const loaded = state.status === 'loaded' ? state.response : null;
    const items = loaded ? loaded.recommendations.slice(0, limit) : [];
    const reporting = track && loaded !== null;
    const report = (type, shown) => {
        const id = shopperId();
        if (!loaded || !id)
            return;
        const shelf = { strategy: loaded.strategy, placement, clientId: id };
        const events = type === 'recommendation_clicked' && !viewsSent.current
            ? [...shelfEvents('recommendation_viewed', items, shelf), ...shelfEvents(type, shown, shelf)]
            : shelfEvents(type, shown, shelf);
        viewsSent.current = true;
        client.track(events).catch(() => { });
    };
    // Impressions: once, when the shelf comes into view. Without IntersectionObserver, a click
    // still sends them first: no click without its view.
    useEffect(() => {
        const section = sectionRef.current;
        if (!reporting || !section || viewsSent.current || typeof IntersectionObserver === 'undefined')
            return;
        const observer = new IntersectionObserver((entries) => {
            if (!entries.some((e) => e.isIntersecting) || viewsSent.current)
                return;
            observer.disconnect();
            report('recommendation_viewed', items);
        }, { threshold: 0.25 });
        observer.observe(section);
        return () => observer.disconnect();
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [reporting, loaded]);
    if (state.status === 'empty') {
        return _jsx(_Fragment, { children: typeof empty === 'function' ? empty(state.response) : (empty ?? null) });
    }
    const s = (style) => (unstyled ? undefined : style);
    const loading = state.status === 'loading';
    const clicked = (item) => (event) => {
        if (event.type === 'auxclick' && event.button !== 1)
            return;
        if (reporting)
            report('recommendation_clicked', [item]);
    };
    return (_jsxs("section", { ref: sectionRef, className: ['kindred-shelf', className].filter(Boolean).join(' '), "aria-labelledby": heading ? headingId : undefined, "aria-label": heading ? undefined : labels.shelf, "aria-busy": loading, "data-kindred-state": state.status, "data-kindred-strategy": loaded?.strategy, children: [heading ? (_jsx("h2", { id: headingId, className: "kindred-shelf__heading", children: heading })) : null, loading ? _jsx("span", { style: styles.hidden, children: labels.loading }) : null, _jsx("ul", { role: "list", className: "kindred-shelf__list", style: s(styles.list), children: loading
                    ? Array.from({ length: limit }, (_, i) => (_jsxs("li", { "aria-hidden": "true", className: "kindred-shelf__card kindred-shelf__card--skeleton", style: s(styles.card), children: [_jsx("div", { className: "kindred-shelf__media", style: s(styles.media) }), _jsx("p", { className: "kindred-shelf__title", style: s(styles.title), children: _jsx("span", { style: s(styles.bar) }) }), _jsx("p", { className: "kindred-shelf__price", style: s(styles.line), children: _jsx("span", { style: s({ ...styles.bar, width: '30%' }) }) }), _jsx("p", { className: "kindred-shelf__reason", style: s({ ...styles.line, ...styles.reason }), children: _jsx("span", { style: s({ ...styles.bar, width: '50%' }) }) })] }, i)))
                    : items.map((item) => {
                        const href = props.productHref ? props.productHref(item) : item.url;
                        const children = (_jsxs(_Fragment, { children: [_jsx("div", { className: "kindred-shelf__media", style: s(styles.media), children: item.image_url ? (_jsx("img", { ...imageSources(item.image_url), sizes: "(min-width: 750px) 25vw, 50vw", width: 533, height: 533, alt: "", loading: "lazy", decoding: "async", style: s(styles.image) })) : null }), _jsx("h3", { className: "kindred-shelf__title", style: s(styles.title), children: item.title })] }));
                        const linkProps = {
                            href,
                            className: 'kindred-shelf__link',
                            style: s(styles.link),
                            onClick: clicked(item),
                            onAuxClick: clicked(item),
                            children,
                            item,
                        };
                        return (_jsxs("li", { className: "kindred-shelf__card", "data-product-id": item.id, style: s(styles.card), children: [props.renderLink ? props.renderLink(linkProps) : _jsx(DefaultLink, { ...linkProps }), _jsx("p", { className: "kindred-shelf__price", style: s(styles.line), children: _jsx(Price, { item: item, currency: currency, locale: locale, labels: labels }) }), _jsx("p", { className: "kindred-shelf__reason", style: s({ ...styles.line, ...styles.reason }), children: item.reason })] }, item.id));
                    }) })] }));
}
function settled(key, response, limit) {
    // A holdout shopper is measured by what they buy without Kindred: no cards, no events.
    const held = response.experiment?.holdout === true;
    return !held && response.recommendations.slice(0, limit).length > 0
        ? { status: 'loaded', key, response }
        : { status: 'empty', key, response };
}
function DefaultLink({ item: _item, children, ...rest }) {
    return _jsx("a", { ...rest, children: children });
}
function Price(props) {
    const { item, currency, locale, labels } = props;
    if (item.price == null)
        return null;
    const price = formatPrice(item.price, currency, locale);
    const compareAt = item.compare_at_price;
    if (compareAt == null || !(Number(compareAt) > Number(item.price))) {
        return _jsx("span", { className: "kindred-shelf__amount", children: price });
    }
    return (_jsxs(_Fragment, { children: [_jsxs("span", { className: "kindred-shelf__amount kindred-shelf__amount--sale", children: [_jsx("span", { style: styles.hidden, children: `${labels.salePrice} ` }), price] }), ' ', _jsxs("s", { className: "kindred-shelf__amount kindred-shelf__amount--compare", children: [_jsx("span", { style: styles.hidden, children: `${labels.regularPrice} ` }), formatPrice(compareAt, currency, locale)] })] }));
}
