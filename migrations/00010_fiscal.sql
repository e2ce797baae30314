-- Fiscal receipts (payments/FISCAL.md, API.md "Fiscal receipts").
--
-- Products carry their fiscal identity (IKPU code, package code, unit code,
-- VAT rate); sellers carry a profile (TIN or PINFL, VAT payer) an admin sets;
-- order lines keep a snapshot of both, taken when the order is placed, with
-- the line's VAT rate and amount, so receipts never depend on what changed
-- since. fiscal_receipts holds one row per receipt a provider reports (or,
-- for Click, one we submit), sale and refund apart.
--
-- Existing products get no codes and 12 % VAT, as API.md says a product
-- without fiscal data has; existing order lines get 12 % and the VAT amount
-- of their total by the same rounding as new ones.

-- +goose Up

ALTER TABLE products
    ADD COLUMN ikpu_code    TEXT,
    ADD COLUMN package_code TEXT,
    ADD COLUMN unit_code    INTEGER,
    ADD COLUMN vat_percent  SMALLINT NOT NULL DEFAULT 12,
    ADD CONSTRAINT products_ikpu_code_check CHECK (ikpu_code ~ '^[0-9]{17}$'),
    ADD CONSTRAINT products_package_code_check CHECK (package_code ~ '^[0-9]{1,20}$'),
    ADD CONSTRAINT products_unit_code_check CHECK (unit_code BETWEEN 1 AND 999999),
    ADD CONSTRAINT products_vat_percent_check CHECK (vat_percent IN (0, 12));

-- The seller profile lives on the user: NULL numbers and NULL vat_payer mean
-- no profile; a profile has exactly one of the two numbers.
ALTER TABLE users
    ADD COLUMN seller_tin       TEXT,
    ADD COLUMN seller_pinfl     TEXT,
    ADD COLUMN seller_vat_payer BOOLEAN,
    ADD CONSTRAINT users_seller_tin_check CHECK (seller_tin ~ '^[0-9]{9}$'),
    ADD CONSTRAINT users_seller_pinfl_check CHECK (seller_pinfl ~ '^[0-9]{14}$'),
    ADD CONSTRAINT users_seller_profile_check CHECK (
        (seller_tin IS NULL AND seller_pinfl IS NULL AND seller_vat_payer IS NULL)
        OR (seller_vat_payer IS NOT NULL AND (seller_tin IS NULL) <> (seller_pinfl IS NULL)));

ALTER TABLE order_items
    ADD COLUMN ikpu_code    TEXT,
    ADD COLUMN package_code TEXT,
    ADD COLUMN unit_code    INTEGER,
    ADD COLUMN vat_percent  SMALLINT NOT NULL DEFAULT 12,
    ADD COLUMN vat_amount   BIGINT,   -- tiyin, VAT included in line_total
    ADD COLUMN seller_tin   TEXT,     -- the seller's profile when the order was placed
    ADD COLUMN seller_pinfl TEXT;

-- The total check fires on this UPDATE; run it now, so no trigger event is
-- pending when the table is altered below (Postgres refuses that).
SET CONSTRAINTS order_items_total_matches_order IMMEDIATE;
UPDATE order_items SET vat_amount = (line_total / 112) * 12 + ((line_total % 112) * 12 * 2 + 112) / 224;

ALTER TABLE order_items
    ALTER COLUMN vat_amount SET NOT NULL,
    ADD CONSTRAINT order_items_ikpu_code_check CHECK (ikpu_code ~ '^[0-9]{17}$'),
    ADD CONSTRAINT order_items_package_code_check CHECK (package_code ~ '^[0-9]{1,20}$'),
    ADD CONSTRAINT order_items_unit_code_check CHECK (unit_code BETWEEN 1 AND 999999),
    ADD CONSTRAINT order_items_vat_percent_check CHECK (vat_percent BETWEEN 0 AND 100),
    ADD CONSTRAINT order_items_vat_amount_check CHECK (vat_amount BETWEEN 0 AND line_total),
    ADD CONSTRAINT order_items_seller_check CHECK (seller_tin IS NULL OR seller_pinfl IS NULL),
    ADD CONSTRAINT order_items_seller_tin_check CHECK (seller_tin ~ '^[0-9]{9}$'),
    ADD CONSTRAINT order_items_seller_pinfl_check CHECK (seller_pinfl ~ '^[0-9]{14}$');

-- One row per receipt: (provider, provider_ref, kind) is unique, provider_ref
-- being Payme's transaction id or Click's payment id (click_paydoc_id).
-- status: pending (Click: submission not accepted yet), issued, failed
-- (the tax system refused it, or we gave up after CLICK_FISCAL_MAX_TRIES);
-- reconciliation reads it for receipt_missing / receipt_failed.
CREATE TABLE fiscal_receipts (
    id            UUID        PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id      UUID        NOT NULL REFERENCES orders (id),
    provider      TEXT        NOT NULL,
    kind          TEXT        NOT NULL,
    status        TEXT        NOT NULL,
    provider_ref  TEXT        NOT NULL,
    receipt_id    TEXT,                 -- Payme's receipt_id (a number or a string: kept as text)
    status_code   INTEGER,              -- Payme's status_code
    message       TEXT,
    terminal_id   TEXT,
    fiscal_sign   TEXT,
    qr_code_url   TEXT,                 -- as the provider sent it; only ofd.soliq.uz https links are shown
    issued_at     TIMESTAMPTZ,
    raw           JSONB,                -- Payme's fiscal_data as received
    attempts      INTEGER     NOT NULL DEFAULT 0, -- Click submissions tried
    submitted_at  TIMESTAMPTZ,          -- Click accepted submit_items: never submitted again
    last_error    TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,

    CONSTRAINT fiscal_receipts_provider_ref_key UNIQUE (provider, provider_ref, kind),
    CONSTRAINT fiscal_receipts_provider_check CHECK (provider IN ('payme', 'click')),
    CONSTRAINT fiscal_receipts_kind_check CHECK (kind IN ('sale', 'refund')),
    CONSTRAINT fiscal_receipts_status_check CHECK (status IN ('pending', 'issued', 'failed')),
    CONSTRAINT fiscal_receipts_provider_ref_check CHECK (char_length(provider_ref) BETWEEN 1 AND 200),
    CONSTRAINT fiscal_receipts_attempts_check CHECK (attempts >= 0),
    CONSTRAINT fiscal_receipts_raw_check CHECK (raw IS NULL OR jsonb_typeof(raw) = 'object'),
    CONSTRAINT fiscal_receipts_last_error_check CHECK (char_length(last_error) <= 500)
);

CREATE INDEX fiscal_receipts_order_idx ON fiscal_receipts (order_id, created_at);
CREATE INDEX fiscal_receipts_status_idx ON fiscal_receipts (status, created_at) WHERE status <> 'issued';

-- +goose Down

DROP TABLE IF EXISTS fiscal_receipts;
ALTER TABLE order_items
    DROP COLUMN IF EXISTS ikpu_code, DROP COLUMN IF EXISTS package_code, DROP COLUMN IF EXISTS unit_code,
    DROP COLUMN IF EXISTS vat_percent, DROP COLUMN IF EXISTS vat_amount,
    DROP COLUMN IF EXISTS seller_tin, DROP COLUMN IF EXISTS seller_pinfl;
ALTER TABLE users
    DROP COLUMN IF EXISTS seller_tin, DROP COLUMN IF EXISTS seller_pinfl, DROP COLUMN IF EXISTS seller_vat_payer;
ALTER TABLE products
    DROP COLUMN IF EXISTS ikpu_code, DROP COLUMN IF EXISTS package_code, DROP COLUMN IF EXISTS unit_code,
    DROP COLUMN IF EXISTS vat_percent;
