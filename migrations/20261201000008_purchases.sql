-- Portable SQL (SQLite and PostgreSQL). What shoppers bought, as Shopify's orders say it:
-- read in bulk at install and kept current by order webhooks; the web pixel that reports
-- storefront and checkout events; and what links a pixel's checkout to its order.

-- One row per order, the newest version Shopify sent (by its `updated_at`).
CREATE TABLE orders (
    shop_domain      TEXT NOT NULL REFERENCES shops(domain) ON DELETE CASCADE,
    order_id         BIGINT NOT NULL,
    -- The logged-in customer who placed it (Shopify's customer id), when there was one.
    customer_id      BIGINT,
    -- The browser that placed it: the `_kindred_client_id` cart attribute the theme embed
    -- sets, carried into the order's custom attributes.
    client_id        TEXT,
    -- Shopify's checkout token: a web pixel's checkout_completed with the same order id and
    -- token names the order's browser when the cart attribute is missing.
    checkout_token   TEXT,
    -- Milliseconds since the epoch.
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    cancelled_at     BIGINT,
    -- pending, authorized, partially_paid, paid, partially_refunded, refunded, voided, expired.
    financial_status TEXT,
    -- 1 for a test order (Shopify's bogus gateway or test mode): kept, marked, never learnt
    -- from. (An integer: sqlx's Any driver reads booleans differently on the two databases.)
    test             BIGINT NOT NULL,
    currency         TEXT,
    -- JSON: [{"line_id", "product_id", "variant_id", "quantity", "current_quantity", "unit_price"}].
    line_items       TEXT NOT NULL,
    -- JSON: the order's custom attributes, {"name": "value"}.
    attributes       TEXT NOT NULL,
    -- JSON: the ids of the refunds this version of the order already counts in its lines.
    refund_ids       TEXT NOT NULL,
    -- bulk (order history) or webhook.
    source           TEXT NOT NULL,
    received_at      BIGINT NOT NULL,
    PRIMARY KEY (shop_domain, order_id)
);
CREATE INDEX orders_by_time ON orders (shop_domain, created_at);
CREATE INDEX orders_by_customer ON orders (shop_domain, customer_id);
CREATE INDEX orders_by_client ON orders (shop_domain, client_id);

-- Refunds as refunds/create delivers them, once per refund: an order's lines count what its
-- newest version says minus the refunds that version does not know yet, whatever arrives first.
CREATE TABLE order_refunds (
    shop_domain  TEXT NOT NULL REFERENCES shops(domain) ON DELETE CASCADE,
    refund_id    BIGINT NOT NULL,
    order_id     BIGINT NOT NULL,
    -- JSON: [{"line_id", "quantity"}].
    line_items   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (shop_domain, refund_id)
);
CREATE INDEX order_refunds_by_order ON order_refunds (shop_domain, order_id);

-- The order history bulk read, one row per shop, like catalogue_syncs.
CREATE TABLE order_syncs (
    shop_domain   TEXT PRIMARY KEY REFERENCES shops(domain) ON DELETE CASCADE,
    state         TEXT NOT NULL,
    operation_id  TEXT,
    requested_at  BIGINT,
    finished_at   BIGINT,
    objects       BIGINT NOT NULL DEFAULT 0,
    orders        BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT
);

-- The shop's web pixel in Shopify and the public key its settings carry (replaced at each
-- install, the previous one revoked).
CREATE TABLE web_pixels (
    shop_domain  TEXT PRIMARY KEY REFERENCES shops(domain) ON DELETE CASCADE,
    pixel_id     TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- A checkout_completed that names its order (the web pixel does): it links its browser to
-- that order, and the order, not the event, is the purchase.
ALTER TABLE shopper_events ADD COLUMN order_id BIGINT;
ALTER TABLE shopper_events ADD COLUMN checkout_token TEXT;
CREATE INDEX shopper_events_by_order ON shopper_events (shop_domain, order_id);
