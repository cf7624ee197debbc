-- Portable SQL (SQLite and PostgreSQL). Credentials a careful operator expects, where each
-- shopper event came from, and the indexes the storefront's per-request reads need.

-- API keys: a shop-scoped secret key for merchants (`merchant`), a public id to list and
-- revoke a key by, where the key came from, and revocation. SQLite cannot change a CHECK
-- constraint in place, so the table is rebuilt (nothing references it).
CREATE TABLE api_keys_v2 (
    key_hash     TEXT PRIMARY KEY,
    -- Shown in listings and used to revoke; derived from the hash, so it reveals nothing.
    key_id       TEXT NOT NULL UNIQUE,
    scope        TEXT NOT NULL CHECK (scope IN ('admin', 'merchant', 'storefront')),
    shop_domain  TEXT REFERENCES shops(domain) ON DELETE CASCADE,
    -- generated (by Kindred), given (`--key`), environment (KINDRED_ADMIN_KEY at `serve`).
    origin       TEXT NOT NULL CHECK (origin IN ('generated', 'given', 'environment')),
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    CHECK ((scope = 'admin') = (shop_domain IS NULL))
);
INSERT INTO api_keys_v2 (key_hash, key_id, scope, shop_domain, origin, created_at)
    SELECT key_hash, 'key_' || substr(key_hash, 1, 16), scope, shop_domain, 'given', created_at
    FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_v2 RENAME TO api_keys;
CREATE INDEX api_keys_by_shop ON api_keys (shop_domain);

-- Who vouched for an event: `storefront` (the public key: anonymous, any customer id it
-- claims is dropped), `app_proxy` (Shopify signed the customer), `merchant` (the shop's
-- server, with its secret key), `customer_token` (a token that server minted). Events
-- stored before provenance was kept say `unverified`; their customer ids are not believed.
ALTER TABLE shopper_events ADD COLUMN source TEXT NOT NULL DEFAULT 'unverified';

-- The storefront's reads by shop and time (trending, training), without scanning other shops.
CREATE INDEX shopper_events_by_shop_time ON shopper_events (shop_domain, occurred_at);

-- Expired install nonces are deleted by age.
CREATE INDEX oauth_states_by_age ON oauth_states (created_at);

-- Privacy deliveries applied before their bodies were cleared on applying: cleared now.
UPDATE webhook_inbox SET body = NULL WHERE state <> 'pending'
    AND topic IN ('customers/data_request', 'customers/redact', 'shop/redact');
