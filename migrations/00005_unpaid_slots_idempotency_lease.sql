-- Hardening of order placement (application/orders: PlaceOrder), in one
-- migration because 00005 is the one number this work was allotted (00004
-- and 00006 belong to other changes).
--
-- Orders being placed, for ORDER_MAX_UNPAID.
--
-- An order's stock is reserved through the catalog before the order's own
-- transaction stores it, and the limit must be checked before any stock is
-- touched. So the placement first takes a slot here, in a short transaction
-- that locks the user's row and counts pending_payment orders plus live
-- placements; the order's transaction counts again under the same lock,
-- stores the order and drops the placement. A placement whose process died
-- keeps its slot until hold_until, then the next count forgets it.

-- +goose Up

CREATE TABLE order_placements (
    order_id   UUID        PRIMARY KEY,
    user_id    UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    hold_until TIMESTAMPTZ NOT NULL,

    CONSTRAINT order_placements_hold_check CHECK (hold_until > created_at)
);

CREATE INDEX order_placements_user_idx ON order_placements (user_id);

-- Counting a user's unpaid orders at every placement.
CREATE INDEX orders_user_unpaid_idx ON orders (user_id) WHERE status = 'pending_payment';

-- The lease on an Idempotency-Key's claim in progress. API.md: a key whose
-- first request died mid-way (its process crashed) is free again after at
-- most 60 s, instead of answering 409 until the record's 24 h expire. The
-- request holding the key renews lease_until while it runs; once the lease
-- has ended the next request with the key takes it over. claim names the
-- holder, so a request that lost its lease can neither complete nor release
-- the claim of the one that took over. Both are NULL on completed keys
-- written before this migration; lease_until NULL is never taken over early.
ALTER TABLE idempotency_keys
    ADD COLUMN claim       UUID,
    ADD COLUMN lease_until TIMESTAMPTZ,
    ADD CONSTRAINT idempotency_keys_lease_check CHECK (lease_until IS NULL OR lease_until > created_at);

-- Claims in progress at the upgrade are leased from now: one whose process
-- is gone frees within a minute, like any other.
UPDATE idempotency_keys SET lease_until = GREATEST(now(), created_at) + interval '60 seconds'
    WHERE status_code IS NULL;

-- +goose Down

ALTER TABLE idempotency_keys
    DROP CONSTRAINT IF EXISTS idempotency_keys_lease_check,
    DROP COLUMN IF EXISTS lease_until,
    DROP COLUMN IF EXISTS claim;

DROP INDEX IF EXISTS orders_user_unpaid_idx;
DROP TABLE IF EXISTS order_placements;
