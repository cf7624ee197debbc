-- Portable SQL (SQLite and PostgreSQL). A shop's interaction models, built by one replica at
-- a time and served by all of them, and the training log the next build starts from, so it
-- reads only the events received since (`recommend::shared_models`).

CREATE TABLE interaction_models (
    shop_domain  TEXT PRIMARY KEY REFERENCES shops(domain) ON DELETE CASCADE,
    -- When the build that wrote this row read the shop's data (milliseconds).
    built_at     BIGINT NOT NULL,
    -- The trained models, MessagePack (`ShopInteractions`' stored form).
    models       BYTEA NOT NULL,
    -- Every browser's views and cart additions in the models' windows, MessagePack
    -- (`TrainingLog`); it names browsers, so a customer's redaction deletes the row.
    training_log BYTEA NOT NULL
);

-- The incremental read: a shop's events received since the previous build.
CREATE INDEX shopper_events_by_shop_received ON shopper_events (shop_domain, received_at);
