-- Portable SQL (SQLite and PostgreSQL). Exact "similar products" lists computed for a whole
-- catalogue in one job (`kindred similar-lists`, or the server when a shop's catalogue has
-- been quiet for a while): each product's nearest products by cosine, best first, as JSON
-- [[product id, score], ...]. Writing any of a shop's product vectors deletes the shop's
-- lists, so a list that exists is a list of the current vectors.
CREATE TABLE similar_lists (
    shop_domain  TEXT NOT NULL REFERENCES shops(domain) ON DELETE CASCADE,
    product_id   BIGINT NOT NULL,
    neighbours   TEXT NOT NULL,
    built_at     BIGINT NOT NULL,
    PRIMARY KEY (shop_domain, product_id)
);
