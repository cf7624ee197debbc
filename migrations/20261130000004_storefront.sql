-- Portable SQL (SQLite and PostgreSQL). What the storefront needs: when products were
-- published (new arrivals), which browser origins may call a shop's public API, and which
-- strategy produced a recommendation a shopper saw or clicked.

-- Milliseconds since the epoch; NULL when the source did not say (Shopify's CSV export).
ALTER TABLE products ADD COLUMN published_at BIGINT;
CREATE INDEX products_by_publication ON products (shop_domain, published_at);

-- recommendation_viewed / recommendation_clicked: the strategy that produced the item.
ALTER TABLE shopper_events ADD COLUMN strategy TEXT;

-- Origins (scheme://host[:port]) a headless frontend of the shop is served from; browsers
-- from any other origin are refused.
CREATE TABLE shop_allowed_origins (
    shop_domain  TEXT NOT NULL REFERENCES shops(domain) ON DELETE CASCADE,
    origin       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (shop_domain, origin)
);

-- A shop's merchandising rules (exclusions, pins, boosts, buries, vendor cap), as JSON; a
-- shop without a row has the defaults (gift cards and purchased products left out).
CREATE TABLE shop_rules (
    shop_domain  TEXT PRIMARY KEY REFERENCES shops(domain) ON DELETE CASCADE,
    rules        TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);
