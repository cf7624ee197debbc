-- Install starts keep only a shop's newest few nonces; this finds them without a scan.
CREATE INDEX oauth_states_by_shop ON oauth_states (shop_domain, created_at);
