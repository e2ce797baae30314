-- Reconciliation: what the gateway and the payment providers disagree
-- about, for a person to look at (API.md, "Refunds and reconciliation").
--
-- click_cancel_claims: a Click Complete with error < 0 on an attempt we had
-- confirmed. Click's signature does not cover `error`, so the claim alone
-- refunds nothing: it waits here, written in the webhook's transaction,
-- until the reconciliation job asks Click's Merchant API (outside any
-- transaction) and settles it: Click reports the payment cancelled → the
-- attempt and its order are refunded; Click reports it successful → a
-- click_cancel_disputed issue. One row per attempt: a replayed cancel puts
-- a settled claim back to pending, so Click is asked again.
--
-- reconciliation_issues: one row per (kind, subject), whatever its status,
-- so a job run any number of times, on any number of instances at once,
-- opens each issue once (INSERT … ON CONFLICT DO NOTHING).
--
-- reconciliation_checks: which subject a check has already asked the
-- provider about, and when, so a pass does not ask Click again about every
-- abandoned attempt of the last month (click_paid_unconfirmed).
--
-- job_leases: "one instance at a time" for background work that calls out
-- (the reconciliation pass): a lease row claimed by one UPDATE and given back
-- when the pass ends. A session-level advisory lock would not survive
-- PgBouncer's transaction pooling, and a transaction-level one would hold a
-- transaction open across the calls to Click.

-- +goose Up

CREATE TABLE click_cancel_claims (
    attempt_id  UUID        PRIMARY KEY,  -- click_transactions.id
    order_id    UUID        NOT NULL,
    click_error INTEGER     NOT NULL,     -- the error Click sent
    claimed_at  TIMESTAMPTZ NOT NULL,     -- the latest cancelling Complete
    checked_at  TIMESTAMPTZ,              -- the latest time Click was asked about it
    settled_at  TIMESTAMPTZ,              -- NULL while Click has not decided it
    outcome     TEXT,                     -- 'cancelled' (refunded) or 'stands' (disputed)

    CONSTRAINT click_cancel_claims_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES click_transactions (id),
    CONSTRAINT click_cancel_claims_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT click_cancel_claims_click_error_check CHECK (click_error < 0),
    CONSTRAINT click_cancel_claims_settled_check CHECK (
        (settled_at IS NULL AND outcome IS NULL) OR (settled_at IS NOT NULL AND outcome IN ('cancelled', 'stands')))
);

-- The job's work list: the claims Click has not decided yet.
CREATE INDEX click_cancel_claims_pending_idx ON click_cancel_claims (claimed_at) WHERE settled_at IS NULL;

CREATE TABLE reconciliation_issues (
    id                      UUID        PRIMARY KEY,
    kind                    TEXT        NOT NULL,
    subject                 TEXT        NOT NULL, -- what the issue is about, unique per kind (see above)
    order_id                UUID,
    provider                TEXT,
    provider_transaction_id TEXT,
    detail                  TEXT        NOT NULL,
    status                  TEXT        NOT NULL DEFAULT 'open',
    detected_at             TIMESTAMPTZ NOT NULL,
    resolved_at             TIMESTAMPTZ,
    resolved_by             UUID,       -- the admin who resolved it; NULL when the job settled it
    note                    TEXT,

    CONSTRAINT reconciliation_issues_kind_subject_key UNIQUE (kind, subject),
    CONSTRAINT reconciliation_issues_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT reconciliation_issues_resolved_by_fkey FOREIGN KEY (resolved_by) REFERENCES users (id),
    CONSTRAINT reconciliation_issues_kind_check CHECK (kind IN ('click_cancel_disputed', 'click_cancel_unverified',
        'click_paid_unconfirmed', 'receipt_missing', 'receipt_failed')),
    CONSTRAINT reconciliation_issues_subject_check CHECK (char_length(subject) BETWEEN 1 AND 128),
    CONSTRAINT reconciliation_issues_provider_check CHECK (provider IS NULL OR provider IN ('payme', 'click')),
    CONSTRAINT reconciliation_issues_provider_tx_check CHECK (char_length(provider_transaction_id) BETWEEN 1 AND 64),
    CONSTRAINT reconciliation_issues_detail_check CHECK (char_length(detail) BETWEEN 1 AND 1000),
    CONSTRAINT reconciliation_issues_note_check CHECK (char_length(note) <= 1000),
    CONSTRAINT reconciliation_issues_status_check CHECK (
        (status = 'open' AND resolved_at IS NULL AND resolved_by IS NULL AND note IS NULL)
        OR (status = 'resolved' AND resolved_at IS NOT NULL AND note IS NOT NULL))
);

-- The admin list (newest first, by status and kind) and the open-issue gauge.
CREATE INDEX reconciliation_issues_status_idx ON reconciliation_issues (status, kind, detected_at DESC);

CREATE TABLE reconciliation_checks (
    name       TEXT        NOT NULL,  -- the check, e.g. click_paid_unconfirmed
    subject    TEXT        NOT NULL,  -- what it asked about, e.g. the order id
    checked_at TIMESTAMPTZ NOT NULL,

    CONSTRAINT reconciliation_checks_pkey PRIMARY KEY (name, subject)
);

CREATE TABLE job_leases (
    name        TEXT        PRIMARY KEY,
    owner       UUID,                    -- the claim holding it; NULL = free
    lease_until TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,             -- when the latest pass ended

    CONSTRAINT job_leases_owner_check CHECK ((owner IS NULL) = (lease_until IS NULL))
);

-- +goose Down

DROP TABLE IF EXISTS job_leases;
DROP TABLE IF EXISTS reconciliation_checks;
DROP TABLE IF EXISTS reconciliation_issues;
DROP TABLE IF EXISTS click_cancel_claims;
