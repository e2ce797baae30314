-- Users, the built-in product catalog with its stock reservations, carts and
-- idempotency records.
--
-- Conventions: ids are UUIDs made by the application (ports.IDGenerator);
-- money is BIGINT tiyin; times are TIMESTAMPTZ (UTC in, UTC out). Every CHECK
-- repeats a domain rule, so a bug in Go or a hand-written UPDATE cannot store
-- a value the domain would refuse. Constraint names are mapped to domain
-- errors in adapters/postgres/errors.go.

-- +goose Up

CREATE TABLE users (
    id            UUID        PRIMARY KEY,
    email         TEXT        NOT NULL,
    password_hash TEXT        NOT NULL,
    full_name     TEXT        NOT NULL,
    phone         TEXT,
    role          TEXT        NOT NULL DEFAULT 'customer',
    status        TEXT        NOT NULL DEFAULT 'active',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),

    -- The domain normalises (trim + lower case) before storing, so a plain
    -- UNIQUE is a case-insensitive one. Mapped to user.ErrEmailTaken.
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_check CHECK (
        email = lower(btrim(email)) AND octet_length(email) BETWEEN 3 AND 254 AND position('@' IN email) > 1),
    CONSTRAINT users_password_hash_check CHECK (password_hash <> ''),
    CONSTRAINT users_full_name_check CHECK (char_length(btrim(full_name)) BETWEEN 1 AND 200),
    -- "no phone" is NULL, never ''.
    CONSTRAINT users_phone_check CHECK (phone IS NULL OR phone ~ '^\+998[0-9]{9}$'),
    CONSTRAINT users_role_check CHECK (role IN ('customer', 'seller', 'admin', 'super_admin')),
    CONSTRAINT users_status_check CHECK (status IN ('active', 'blocked'))
);

-- Admin user list: newest first, filtered by role/status. The q filter is a
-- substring ILIKE over email/full_name; without pg_trgm that is a scan of the
-- (role/status-filtered) rows, which is fine for an admin screen.
CREATE INDEX users_created_at_idx ON users (created_at DESC, id DESC);
CREATE INDEX users_role_status_idx ON users (role, status);

-- The built-in catalog (used when CATALOG_URL is empty). Deleted products are
-- kept (deleted_at) because order items and reservations point at them.
-- seller_id has no foreign key on purpose: the same ids come from the upstream
-- catalog, and a product outlives its seller's account changes.
CREATE TABLE products (
    id          UUID        PRIMARY KEY DEFAULT gen_random_uuid(),
    seller_id   UUID        NOT NULL,
    name        TEXT        NOT NULL,
    description TEXT        NOT NULL DEFAULT '',
    category    TEXT        NOT NULL,
    price       BIGINT      NOT NULL, -- tiyin
    stock       BIGINT      NOT NULL, -- what can be bought now (reservations already subtracted)
    active      BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at  TIMESTAMPTZ,

    CONSTRAINT products_name_check CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
    CONSTRAINT products_description_check CHECK (char_length(description) <= 5000),
    CONSTRAINT products_category_check CHECK (char_length(btrim(category)) BETWEEN 1 AND 100),
    CONSTRAINT products_price_check CHECK (price BETWEEN 1 AND 1000000000000),
    CONSTRAINT products_stock_check CHECK (stock BETWEEN 0 AND 1000000)
);

-- List filters. Every list excludes deleted rows, so the indexes are partial.
-- Lists are ordered newest first (created_at DESC, id DESC).
CREATE INDEX products_list_idx ON products (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX products_category_idx ON products (category, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX products_seller_idx ON products (seller_id, created_at DESC) WHERE deleted_at IS NULL;
-- Trigram-free text search: q is matched with ILIKE on name. A prefix search
-- written as lower(name) LIKE lower($q) || '%' uses this index; a substring
-- ILIKE '%q%' scans the rows the other filters left, which a catalog of this
-- size affords. Switch to pg_trgm (GIN gin_trgm_ops) if it ever grows large.
CREATE INDEX products_name_lower_idx ON products (lower(name) text_pattern_ops) WHERE deleted_at IS NULL;

-- Stock held for an order of the built-in catalog: Reserve subtracts from
-- products.stock and records the hold here, Release adds it back and deletes
-- the rows, so releasing twice gives nothing back twice. order_id has no
-- foreign key: reservations are made through the catalog port, which may run
-- before the order row is committed.
CREATE TABLE stock_reservations (
    order_id   UUID        NOT NULL,
    product_id UUID        NOT NULL REFERENCES products (id),
    quantity   BIGINT      NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT stock_reservations_pkey PRIMARY KEY (order_id, product_id),
    CONSTRAINT stock_reservations_quantity_check CHECK (quantity > 0)
);

CREATE INDEX stock_reservations_product_idx ON stock_reservations (product_id);

-- A user's cart: one line per product. Prices are not stored: the cart is
-- priced from the catalog when it is read.
CREATE TABLE cart_items (
    user_id    UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    product_id UUID        NOT NULL,
    quantity   INTEGER     NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT cart_items_pkey PRIMARY KEY (user_id, product_id),
    CONSTRAINT cart_items_quantity_check CHECK (quantity BETWEEN 1 AND 100)
);

-- Idempotency-Key records for POST /api/orders. The row is inserted (status_code
-- NULL) before the request is processed, so a second request with the same key
-- while the first is running finds it and gets 409 conflict; the response is
-- filled in when the first one finishes. request_hash tells a replay (same
-- body) from a reuse (another body → idempotency_key_reused).
CREATE TABLE idempotency_keys (
    user_id      UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          TEXT        NOT NULL,
    request_hash TEXT        NOT NULL,
    status_code  INTEGER,               -- NULL while the first request is in progress
    response     BYTEA,                 -- the response body, replayed byte for byte
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL,

    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key),
    CONSTRAINT idempotency_keys_key_check CHECK (char_length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_request_hash_check CHECK (char_length(request_hash) BETWEEN 1 AND 128),
    CONSTRAINT idempotency_keys_status_code_check CHECK (status_code IS NULL OR status_code BETWEEN 100 AND 599),
    CONSTRAINT idempotency_keys_response_check CHECK (status_code IS NOT NULL OR response IS NULL),
    CONSTRAINT idempotency_keys_expiry_check CHECK (expires_at > created_at)
);

-- Purging expired keys.
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- +goose Down

DROP TABLE IF EXISTS idempotency_keys;
DROP TABLE IF EXISTS cart_items;
DROP TABLE IF EXISTS stock_reservations;
DROP TABLE IF EXISTS products;
DROP TABLE IF EXISTS users;
