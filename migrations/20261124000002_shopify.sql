-- Portable SQL (SQLite and PostgreSQL). The Shopify side of a shop: its install and tokens,
-- the webhook inbox, deletions that must not be undone, catalogue sync state and privacy requests.

-- A shop that installed the app through Shopify. Tokens are sealed (AEAD) before they get here.
CREATE TABLE shopify_installs (
    shop_domain        TEXT PRIMARY KEY REFERENCES shops(domain) ON DELETE CASCADE,
    scopes             TEXT NOT NULL,
    access_token       TEXT,
    -- Milliseconds since the epoch; NULL for a token that does not expire.
    access_expires_at  BIGINT,
    refresh_token      TEXT,
    refresh_expires_at BIGINT,
    installed_at       BIGINT NOT NULL,
    -- Set by app/uninstalled: the shop is no longer served; its data waits for shop/redact.
    uninstalled_at     BIGINT
);

-- OAuth `state` nonces handed out at install, each good for one callback.
CREATE TABLE oauth_states (
    nonce        TEXT PRIMARY KEY,
    shop_domain  TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- Every accepted webhook delivery, committed before Shopify gets its 200.
-- No foreign key to shops: the record of a delivery outlives a shop's redaction, so a
-- late duplicate is still recognised. The body is cleared when the shop is redacted.
CREATE TABLE webhook_inbox (
    webhook_id      TEXT PRIMARY KEY,
    -- `<shop> <topic> <X-Shopify-Event-Id>`: one event reaches us once, whatever the delivery.
    event_key       TEXT UNIQUE,
    shop_domain     TEXT NOT NULL,
    topic           TEXT NOT NULL,
    api_version     TEXT,
    triggered_at    TEXT,
    received_at     BIGINT NOT NULL,
    body            TEXT,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    applied_at      BIGINT
);
CREATE INDEX webhook_inbox_pending ON webhook_inbox (state, next_attempt_at, received_at);
CREATE INDEX webhook_inbox_shop ON webhook_inbox (shop_domain);

-- Products deleted in Shopify. Shopify never reuses a product id, so a late or replayed
-- create/update for one of these is stale by definition.
CREATE TABLE product_tombstones (
    shop_domain  TEXT NOT NULL,
    product_id   BIGINT NOT NULL,
    deleted_at   BIGINT NOT NULL,
    PRIMARY KEY (shop_domain, product_id)
);

-- Bulk catalogue sync and reconciliation, one row per shop.
CREATE TABLE catalogue_syncs (
    shop_domain        TEXT PRIMARY KEY REFERENCES shops(domain) ON DELETE CASCADE,
    -- idle, requested, running, ingesting, completed, failed
    state              TEXT NOT NULL,
    operation_id       TEXT,
    requested_at       BIGINT,
    finished_at        BIGINT,
    objects            BIGINT NOT NULL DEFAULT 0,
    products           BIGINT NOT NULL DEFAULT 0,
    deleted            BIGINT NOT NULL DEFAULT 0,
    last_error         TEXT,
    -- Shopify `updated_at` (RFC 3339) up to which reconciliation has read products.
    reconciled_until   TEXT,
    reconciled_at      BIGINT
);

-- customers/data_request: what Kindred holds about a customer, kept for the merchant.
CREATE TABLE customer_data_exports (
    shop_domain   TEXT NOT NULL,
    customer_id   BIGINT NOT NULL,
    request_id    TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (shop_domain, request_id)
);
CREATE INDEX customer_data_exports_customer ON customer_data_exports (shop_domain, customer_id);
