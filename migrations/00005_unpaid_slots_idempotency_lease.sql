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

-- +goose Down

DROP INDEX IF EXISTS orders_user_unpaid_idx;
DROP TABLE IF EXISTS order_placements;
