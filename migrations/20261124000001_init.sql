-- Portable SQL: the same migrations run on SQLite and PostgreSQL (both are tested).
-- Shops, their API keys, and the catalogue as Kindred holds it.
CREATE TABLE shops (
    domain       TEXT PRIMARY KEY,
    created_at   BIGINT NOT NULL
);

-- Keys are stored only as SHA-256 hashes; the plain key is shown once, at creation.
CREATE TABLE api_keys (
    key_hash     TEXT PRIMARY KEY,
    scope        TEXT NOT NULL CHECK (scope IN ('admin', 'storefront')),
    shop_domain  TEXT REFERENCES shops(domain) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    CHECK ((scope = 'admin') = (shop_domain IS NULL))
);
CREATE INDEX api_keys_shop ON api_keys (shop_domain);

CREATE TABLE products (
    shop_domain   TEXT NOT NULL REFERENCES shops(domain) ON DELETE CASCADE,
    product_id    BIGINT NOT NULL,
    handle        TEXT NOT NULL,
    title         TEXT NOT NULL,
    status        TEXT NOT NULL,
    available     BIGINT NOT NULL CHECK (available IN (0, 1)),
    price_cents   BIGINT,
    -- The whole normalised product, as JSON; compared to detect any change.
    document      TEXT NOT NULL,
    -- Hash of the model id and the text that is embedded; equal hashes need no new vector.
    content_hash  TEXT NOT NULL,
    -- The content hash whose vector is in the index, and whether its payload is current.
    indexed_hash  TEXT,
    payload_stale BIGINT NOT NULL DEFAULT 0 CHECK (payload_stale IN (0, 1)),
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (shop_domain, product_id)
);
CREATE INDEX products_needing_index ON products (shop_domain, indexed_hash);
