-- Admin refunds (API.md, "Refunds and reconciliation").
--
-- * orders.refund_authorized_at: an admin allowed the order's refund. For a
--   Payme order that is what lets the CancelTransaction the merchant starts in
--   Payme's cabinet refund it even after shipping; a Click refund by an admin
--   sets it too, since the admin's request is that authorization.
-- * A refunded order may now have shipped (goods came back), but only with
--   that authorization: the gateways alone still cannot refund an order whose
--   goods have left. Its shipped_at and delivered_at stay as history.
-- * order_refunds: the audit of every admin refund: who, when, why, and what
--   it did (Click: money reversed; Payme: refund authorized).
-- * Indexes for the payments console, which lists both providers' attempts
--   newest first.

-- +goose Up

ALTER TABLE orders ADD COLUMN refund_authorized_at TIMESTAMPTZ;

ALTER TABLE orders DROP CONSTRAINT orders_status_times_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_times_check CHECK (
    CASE status
        WHEN 'pending_payment' THEN paid_at IS NULL AND shipped_at IS NULL AND delivered_at IS NULL
                                AND cancelled_at IS NULL AND refunded_at IS NULL
        WHEN 'paid'            THEN paid_at IS NOT NULL AND shipped_at IS NULL AND delivered_at IS NULL
                                AND cancelled_at IS NULL AND refunded_at IS NULL
        WHEN 'shipped'         THEN paid_at IS NOT NULL AND shipped_at IS NOT NULL AND delivered_at IS NULL
                                AND cancelled_at IS NULL AND refunded_at IS NULL
        WHEN 'delivered'       THEN paid_at IS NOT NULL AND shipped_at IS NOT NULL AND delivered_at IS NOT NULL
                                AND cancelled_at IS NULL AND refunded_at IS NULL
        -- only an unpaid order can be cancelled
        WHEN 'cancelled'       THEN cancelled_at IS NOT NULL AND paid_at IS NULL AND shipped_at IS NULL
                                AND delivered_at IS NULL AND refunded_at IS NULL
        -- a paid order is refunded before shipping, or after it when an admin authorized the refund
        WHEN 'refunded'        THEN refunded_at IS NOT NULL AND paid_at IS NOT NULL AND cancelled_at IS NULL
                                AND (delivered_at IS NULL OR shipped_at IS NOT NULL)
                                AND (shipped_at IS NULL OR refund_authorized_at IS NOT NULL)
        ELSE FALSE
    END);
-- Only a paid order (paid, shipped, delivered or refunded since) can carry an authorization.
ALTER TABLE orders ADD CONSTRAINT orders_refund_authorized_check CHECK (
    refund_authorized_at IS NULL OR (paid_at IS NOT NULL AND cancelled_at IS NULL));

CREATE TABLE order_refunds (
    id         UUID        PRIMARY KEY,
    order_id   UUID        NOT NULL,
    provider   TEXT        NOT NULL, -- the provider that took the payment
    outcome    TEXT        NOT NULL, -- reversed (Click gave the money back) | authorized (Payme may refund)
    reason     TEXT        NOT NULL, -- the admin's words
    admin_id   UUID        NOT NULL, -- who asked
    created_at TIMESTAMPTZ NOT NULL,

    CONSTRAINT order_refunds_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT order_refunds_admin_id_fkey FOREIGN KEY (admin_id) REFERENCES users (id),
    CONSTRAINT order_refunds_provider_check CHECK (provider IN ('payme', 'click')),
    CONSTRAINT order_refunds_outcome_check CHECK (outcome IN ('reversed', 'authorized')),
    CONSTRAINT order_refunds_reason_check CHECK (char_length(btrim(reason)) BETWEEN 1 AND 500)
);

CREATE INDEX order_refunds_order_idx ON order_refunds (order_id, created_at);

-- The payments console: newest first across both providers.
CREATE INDEX payme_transactions_create_time_idx ON payme_transactions (create_time DESC, id DESC);
CREATE INDEX click_transactions_prepared_at_idx ON click_transactions (prepared_at DESC, id DESC);

-- +goose Down

DROP INDEX IF EXISTS click_transactions_prepared_at_idx;
DROP INDEX IF EXISTS payme_transactions_create_time_idx;
DROP TABLE IF EXISTS order_refunds;

-- The old rule has no refunded order that shipped: such orders lose their
-- shipping history, which is the only way back to it.
UPDATE orders SET shipped_at = NULL, delivered_at = NULL WHERE status = 'refunded';

ALTER TABLE orders DROP CONSTRAINT orders_refund_authorized_check;
ALTER TABLE orders DROP CONSTRAINT orders_status_times_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_times_check CHECK (
    CASE status
        WHEN 'pending_payment' THEN paid_at IS NULL AND shipped_at IS NULL AND delivered_at IS NULL
                                AND cancelled_at IS NULL AND refunded_at IS NULL
        WHEN 'paid'            THEN paid_at IS NOT NULL AND shipped_at IS NULL AND delivered_at IS NULL
                                AND cancelled_at IS NULL AND refunded_at IS NULL
        WHEN 'shipped'         THEN paid_at IS NOT NULL AND shipped_at IS NOT NULL AND delivered_at IS NULL
                                AND cancelled_at IS NULL AND refunded_at IS NULL
        WHEN 'delivered'       THEN paid_at IS NOT NULL AND shipped_at IS NOT NULL AND delivered_at IS NOT NULL
                                AND cancelled_at IS NULL AND refunded_at IS NULL
        WHEN 'cancelled'       THEN cancelled_at IS NOT NULL AND paid_at IS NULL AND shipped_at IS NULL
                                AND delivered_at IS NULL AND refunded_at IS NULL
        WHEN 'refunded'        THEN refunded_at IS NOT NULL AND paid_at IS NOT NULL AND shipped_at IS NULL
                                AND delivered_at IS NULL AND cancelled_at IS NULL
        ELSE FALSE
    END);
ALTER TABLE orders DROP COLUMN refund_authorized_at;
