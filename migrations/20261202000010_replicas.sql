-- Portable SQL (SQLite and PostgreSQL). Several `kindred serve` replicas on one database:
-- each inbox delivery is claimed by one replica at a time, and each background job runs on
-- one replica at a time, by leases that lapse when their holder dies.

-- The replica that claimed a pending delivery (its claim runs until `next_attempt_at`, when
-- another may take it), or that applied it. NULL: never claimed, or handed back to retry.
ALTER TABLE webhook_inbox ADD COLUMN claimed_by TEXT;

-- A named piece of work held by one replica until `expires_at` (milliseconds); the holder
-- renews it while it works. A lapsed lease is free to take. The row `inbox claims` is not a
-- lease: claimers lock it for the moment of a claim, so they claim one after another.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
