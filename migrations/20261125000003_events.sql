-- Portable SQL (SQLite and PostgreSQL). Shopper events as the storefront script, a web
-- pixel or a headless frontend sends them: the raw material of sessions and strategies.

CREATE TABLE shopper_events (
    shop_domain   TEXT NOT NULL REFERENCES shops(domain) ON DELETE CASCADE,
    -- The sender's id for the event (Shopify's customer events carry one), else Kindred's:
    -- a batch sent twice is stored once.
    event_id      TEXT NOT NULL,
    -- The anonymous client id of the browser (Shopify's `clientId`).
    client_id     TEXT NOT NULL,
    -- The logged-in customer, when known.
    customer_id   BIGINT,
    kind          TEXT NOT NULL,
    product_id    BIGINT,
    collection_id BIGINT,
    search_query  TEXT,
    -- checkout_completed: JSON array of {"product_id", "quantity"}.
    line_items    TEXT,
    occurred_at   BIGINT NOT NULL,
    received_at   BIGINT NOT NULL,
    PRIMARY KEY (shop_domain, event_id)
);

CREATE INDEX shopper_events_by_client ON shopper_events (shop_domain, client_id, occurred_at);
CREATE INDEX shopper_events_by_customer ON shopper_events (shop_domain, customer_id);
CREATE INDEX shopper_events_by_time ON shopper_events (occurred_at);
