-- Orders and their items. Money is BIGINT tiyin, currency UZS only.
--
-- The status machine of domain/order is mirrored by orders_status_times_check:
-- a status can only be stored together with the timestamps of the steps that
-- lead to it, so e.g. a cancelled order can never carry paid_at and a paid
-- order can never lose it.

-- +goose Up

CREATE TABLE orders (
    id              UUID        PRIMARY KEY,
    user_id         UUID        NOT NULL,
    status          TEXT        NOT NULL DEFAULT 'pending_payment',
    total           BIGINT      NOT NULL, -- tiyin = Σ order_items.line_total
    currency        TEXT        NOT NULL DEFAULT 'UZS',
    shipping_region TEXT        NOT NULL,
    shipping_city   TEXT        NOT NULL,
    shipping_street TEXT        NOT NULL,
    shipping_phone  TEXT        NOT NULL,
    note            TEXT        NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    paid_at         TIMESTAMPTZ,
    shipped_at      TIMESTAMPTZ,
    delivered_at    TIMESTAMPTZ,
    cancelled_at    TIMESTAMPTZ,
    refunded_at     TIMESTAMPTZ,

    CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT orders_status_check CHECK (
        status IN ('pending_payment', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded')),
    CONSTRAINT orders_total_check CHECK (total > 0),
    CONSTRAINT orders_currency_check CHECK (currency = 'UZS'),
    CONSTRAINT orders_shipping_region_check CHECK (char_length(btrim(shipping_region)) BETWEEN 1 AND 100),
    CONSTRAINT orders_shipping_city_check CHECK (char_length(btrim(shipping_city)) BETWEEN 1 AND 100),
    CONSTRAINT orders_shipping_street_check CHECK (char_length(btrim(shipping_street)) BETWEEN 1 AND 200),
    CONSTRAINT orders_shipping_phone_check CHECK (shipping_phone ~ '^\+998[0-9]{9}$'),
    CONSTRAINT orders_note_check CHECK (char_length(note) <= 1000),
    CONSTRAINT orders_status_times_check CHECK (
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
            -- only a paid, not yet shipped order can be refunded
            WHEN 'refunded'        THEN refunded_at IS NOT NULL AND paid_at IS NOT NULL AND shipped_at IS NULL
                                    AND delivered_at IS NULL AND cancelled_at IS NULL
            ELSE FALSE
        END)
);

-- A user's orders, newest first.
CREATE INDEX orders_user_created_idx ON orders (user_id, created_at DESC, id DESC);
-- Admin lists by status, and the expiry sweep (status = 'pending_payment' AND created_at < cutoff).
CREATE INDEX orders_status_created_idx ON orders (status, created_at);
-- Admin list of every order, newest first.
CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC);
-- Sales analytics by paid_at.
CREATE INDEX orders_paid_at_idx ON orders (paid_at) WHERE paid_at IS NOT NULL;

-- Items are the prices the customer agreed to, frozen when the order was
-- placed. product_id has no foreign key: products may live in the upstream
-- catalog. position keeps the lines in the order they were placed.
CREATE TABLE order_items (
    order_id   UUID     NOT NULL,
    product_id UUID     NOT NULL,
    position   SMALLINT NOT NULL,
    name       TEXT     NOT NULL,
    unit_price BIGINT   NOT NULL, -- tiyin
    quantity   BIGINT   NOT NULL,
    line_total BIGINT   NOT NULL, -- tiyin = unit_price * quantity

    CONSTRAINT order_items_pkey PRIMARY KEY (order_id, product_id),
    CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
    CONSTRAINT order_items_position_check CHECK (position BETWEEN 0 AND 99),
    CONSTRAINT order_items_name_check CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT order_items_unit_price_check CHECK (unit_price > 0),
    CONSTRAINT order_items_quantity_check CHECK (quantity BETWEEN 1 AND 100),
    CONSTRAINT order_items_line_total_check CHECK (line_total = unit_price * quantity)
);

-- Top-products analytics.
CREATE INDEX order_items_product_idx ON order_items (product_id);

-- orders.total must equal the sum of its items' line totals. That spans two
-- tables, so it is a deferred constraint trigger checked at COMMIT: the order
-- row and its items are written in one transaction (or one statement) and
-- checked together. It fires only when a total or an item changes, not on
-- status updates.
-- +goose StatementBegin
CREATE FUNCTION orders_check_total() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    target UUID;
    want   BIGINT;
    got    NUMERIC;
BEGIN
    IF TG_TABLE_NAME = 'orders' THEN
        target := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        target := OLD.order_id;
    ELSE
        target := NEW.order_id;
    END IF;

    SELECT o.total INTO want FROM orders o WHERE o.id = target;
    IF NOT FOUND THEN
        RETURN NULL; -- the order itself was deleted (items cascade)
    END IF;
    SELECT COALESCE(SUM(i.line_total), 0) INTO got FROM order_items i WHERE i.order_id = target;
    IF got <> want THEN
        RAISE EXCEPTION 'order % total % does not equal the sum of its items %', target, want, got
            USING ERRCODE = 'check_violation', CONSTRAINT = 'orders_total_matches_items',
                  TABLE = 'orders', SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER orders_total_matches_items
    AFTER INSERT OR UPDATE OF total ON orders
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION orders_check_total();

CREATE CONSTRAINT TRIGGER order_items_total_matches_order
    AFTER INSERT OR UPDATE OR DELETE ON order_items
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION orders_check_total();

-- +goose Down

DROP TABLE IF EXISTS order_items;
DROP TABLE IF EXISTS orders;
DROP FUNCTION IF EXISTS orders_check_total();
