-- Payment transactions of Payme (Merchant API) and Click (SHOP-API), and the
-- settlement that says which of them paid an order.
--
-- "One order is paid once" is enforced here, not in process memory:
--   * payme_one_live_tx_per_order: at most one Payme transaction in state 1 or 2
--     per order (→ payment.ErrOrderHeld);
--   * click_one_confirmed_per_order: at most one confirmed Click attempt per
--     order (→ payment.ErrAlreadyPaid);
--   * order_settlements_pkey: at most one successful payment per order across
--     both providers (→ payment.ErrAlreadyPaid).
-- The webhooks also serialise on the order row (SELECT … FOR UPDATE).

-- +goose Up

CREATE TABLE payme_transactions (
    id             UUID        PRIMARY KEY DEFAULT gen_random_uuid(), -- returned to Payme as "transaction"
    payme_id       VARCHAR(64) NOT NULL,  -- params.id
    payme_time     BIGINT      NOT NULL,  -- params.time, Unix ms, Payme's clock
    order_id       UUID        NOT NULL,
    account        JSONB       NOT NULL DEFAULT '{}', -- params.account as Payme sent it
    amount         BIGINT      NOT NULL,  -- tiyin
    state          SMALLINT    NOT NULL DEFAULT 1,
    reason         SMALLINT,              -- NULL until cancelled
    create_time    BIGINT      NOT NULL,  -- Unix ms, ours; replayed verbatim
    perform_time   BIGINT      NOT NULL DEFAULT 0, -- 0 = unset, as Payme reports it
    cancel_time    BIGINT      NOT NULL DEFAULT 0,
    fiscal_perform JSONB,                 -- SetFiscalData type PERFORM
    fiscal_cancel  JSONB,                 -- SetFiscalData type CANCEL
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT payme_transactions_payme_id_key UNIQUE (payme_id),
    CONSTRAINT payme_transactions_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT payme_transactions_payme_id_check CHECK (char_length(payme_id) >= 1),
    CONSTRAINT payme_transactions_payme_time_check CHECK (payme_time > 0),
    CONSTRAINT payme_transactions_account_check CHECK (jsonb_typeof(account) = 'object'),
    CONSTRAINT payme_transactions_amount_check CHECK (amount > 0),
    CONSTRAINT payme_transactions_state_check CHECK (state IN (1, 2, -1, -2)),
    CONSTRAINT payme_transactions_reason_check CHECK (reason IS NULL OR reason IN (1, 2, 3, 4, 5, 10)),
    CONSTRAINT payme_transactions_times_check CHECK (create_time > 0 AND perform_time >= 0 AND cancel_time >= 0),
    -- Each state carries exactly the times and reason its transitions set.
    CONSTRAINT payme_transactions_state_times_check CHECK (
        CASE state
            WHEN 1  THEN perform_time = 0 AND cancel_time = 0 AND reason IS NULL
            WHEN 2  THEN perform_time > 0 AND cancel_time = 0 AND reason IS NULL
            WHEN -1 THEN perform_time = 0 AND cancel_time > 0 AND reason IS NOT NULL
            WHEN -2 THEN perform_time > 0 AND cancel_time > 0 AND reason IS NOT NULL
            ELSE FALSE
        END)
);

-- One live (created or performed) Payme transaction per order. Mapped to
-- payment.ErrOrderHeld: a concurrent CreateTransaction with another Payme id
-- loses here even if both passed the checks in Go.
CREATE UNIQUE INDEX payme_one_live_tx_per_order ON payme_transactions (order_id) WHERE state IN (1, 2);
CREATE INDEX payme_transactions_order_idx ON payme_transactions (order_id);
-- GetStatement (from <= payme_time <= to).
CREATE INDEX payme_transactions_payme_time_idx ON payme_transactions (payme_time);
-- The timeout sweep: state 1 older than 12 h.
CREATE INDEX payme_transactions_created_state_idx ON payme_transactions (payme_time) WHERE state = 1;

-- Click SHOP-API attempts. id is merchant_prepare_id (and merchant_confirm_id).
CREATE TABLE click_transactions (
    id              BIGSERIAL   PRIMARY KEY,
    click_trans_id  BIGINT      NOT NULL,
    click_paydoc_id BIGINT      NOT NULL,
    service_id      BIGINT      NOT NULL,
    order_id        UUID        NOT NULL,
    amount          BIGINT      NOT NULL, -- tiyin, converted exactly from amount_raw
    amount_raw      TEXT        NOT NULL, -- so'm as Click sent it (it is signed as is)
    state           SMALLINT    NOT NULL DEFAULT 1,
    click_error     INTEGER,              -- the error Click sent on a cancelling Complete
    prepared_at     TIMESTAMPTZ NOT NULL,
    confirmed_at    TIMESTAMPTZ,
    cancelled_at    TIMESTAMPTZ,

    -- A repeated Prepare must find the first attempt; mapped to payment.ErrDuplicate.
    CONSTRAINT click_transactions_click_trans_id_key UNIQUE (click_trans_id),
    CONSTRAINT click_transactions_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT click_transactions_amount_check CHECK (amount > 0),
    CONSTRAINT click_transactions_amount_raw_check CHECK (char_length(amount_raw) BETWEEN 1 AND 64),
    CONSTRAINT click_transactions_state_check CHECK (state IN (1, 2, -1, -2)),
    CONSTRAINT click_transactions_state_times_check CHECK (
        CASE state
            WHEN 1  THEN confirmed_at IS NULL AND cancelled_at IS NULL
            WHEN 2  THEN confirmed_at IS NOT NULL AND cancelled_at IS NULL
            WHEN -1 THEN confirmed_at IS NULL AND cancelled_at IS NOT NULL
            WHEN -2 THEN confirmed_at IS NOT NULL AND cancelled_at IS NOT NULL
            ELSE FALSE
        END)
);

-- Only one attempt per order may be confirmed; mapped to payment.ErrAlreadyPaid.
CREATE UNIQUE INDEX click_one_confirmed_per_order ON click_transactions (order_id) WHERE state = 2;
CREATE INDEX click_transactions_order_idx ON click_transactions (order_id);

-- Which provider transaction paid an order: one row per order, whichever
-- provider got there first. Written in the same transaction that marks the
-- order paid; the primary key makes the second provider's attempt fail
-- (→ payment.ErrAlreadyPaid) even when the two race.
CREATE TABLE order_settlements (
    order_id       UUID        NOT NULL,
    provider       TEXT        NOT NULL,
    provider_tx_id TEXT        NOT NULL, -- payme_transactions.id, or click_transactions.id in decimal
    settled_at     TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT order_settlements_pkey PRIMARY KEY (order_id),
    CONSTRAINT order_settlements_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT order_settlements_provider_check CHECK (provider IN ('payme', 'click')),
    CONSTRAINT order_settlements_provider_tx_id_check CHECK (char_length(provider_tx_id) BETWEEN 1 AND 64),
    CONSTRAINT order_settlements_provider_tx_key UNIQUE (provider, provider_tx_id)
);

-- +goose Down

DROP TABLE IF EXISTS order_settlements;
DROP TABLE IF EXISTS click_transactions;
DROP TABLE IF EXISTS payme_transactions;
