-- Portable SQL (SQLite and PostgreSQL). What Kindred earns and how that is measured: where
-- a recommendation was shown, the shop's attribution window and holdout, its A/B
-- experiments, and the plan the merchant chose.

-- recommendation_viewed / recommendation_clicked: where on the storefront (the theme's page
-- type, product, cart, index, ..., or what a headless frontend names).
ALTER TABLE shopper_events ADD COLUMN placement TEXT;
-- The report reads one kind of event over a span of days.
CREATE INDEX shopper_events_by_kind ON shopper_events (shop_domain, kind, occurred_at);

-- The shop's measurement settings, one JSON document: the attribution window and the
-- always-on holdout (its share, its control, its salt and when its current period began).
CREATE TABLE shop_settings (
    shop_domain  TEXT PRIMARY KEY REFERENCES shops(domain) ON DELETE CASCADE,
    settings     TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- A/B experiments between strategies on a placement.
CREATE TABLE experiments (
    shop_domain  TEXT NOT NULL REFERENCES shops(domain) ON DELETE CASCADE,
    experiment_id TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- NULL: every placement.
    placement    TEXT,
    -- JSON: [{"name", "weight", "strategy"}].
    arms         TEXT NOT NULL,
    -- Hashed with each browser id to assign it an arm; new per experiment, so arms of two
    -- experiments are independent.
    salt         TEXT NOT NULL,
    -- draft, running, stopped.
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    started_at   BIGINT,
    stopped_at   BIGINT,
    PRIMARY KEY (shop_domain, experiment_id)
);

-- The plan the merchant chose through Shopify's Billing API (no row: the free plan).
CREATE TABLE shop_plans (
    shop_domain     TEXT PRIMARY KEY REFERENCES shops(domain) ON DELETE CASCADE,
    plan            TEXT NOT NULL,
    -- Shopify's AppSubscription id (gid) once created.
    subscription_id TEXT,
    -- Shopify's AppSubscriptionStatus, lower case: pending, active, declined, expired, frozen, cancelled.
    status          TEXT NOT NULL,
    -- 1 for a test charge (development stores).
    test            BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
