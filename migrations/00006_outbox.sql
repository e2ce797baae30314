-- The transactional outbox: work that must happen outside the database
-- because of a change inside it (a domain event to publish to NATS, later a
-- Click fiscal receipt to submit), written in the same transaction as the
-- change, so a row exists if and only if the change committed. Relays
-- (application/outbox) claim rows, do the outside call with no transaction
-- open, then mark them done in another short transaction.
--
-- Order: rows of one (kind, aggregate) are handled strictly in seq order. A
-- relay only claims a row whose earlier rows of the same kind and aggregate
-- are all done (see the partial indexes below), and Append takes a
-- transaction-level advisory lock per (kind, aggregate) before inserting, so
-- a later seq of one aggregate never commits before an earlier one: per
-- aggregate, seq order is commit order.
--
-- Several relay instances: a claim locks its rows with FOR UPDATE SKIP LOCKED
-- and sets a lease (claimed_until, claim_token) that it commits at once; a
-- relay that dies leaves rows whose lease simply runs out. Only the holder of
-- the claim token may release a row or record its failure.

-- +goose Up

CREATE TABLE outbox (
    id            UUID        PRIMARY KEY,  -- also the event id and the Nats-Msg-Id (JetStream drops duplicates by it)
    seq           BIGINT      GENERATED ALWAYS AS IDENTITY, -- insertion order; per aggregate, commit order (see above)
    kind          TEXT        NOT NULL,
    aggregate_id  UUID        NOT NULL,  -- the order the work is about
    subject       TEXT        NOT NULL,  -- NATS subject (events) or the worker's routing name
    payload       BYTEA       NOT NULL,  -- the exact bytes to publish: bytea, not jsonb, so nothing re-encodes them
    created_at    TIMESTAMPTZ NOT NULL,
    available_at  TIMESTAMPTZ NOT NULL,  -- not claimed before this: created_at, then the retry backoff
    attempts      INTEGER     NOT NULL DEFAULT 0, -- failed attempts so far (an expired lease is not one)
    claimed_until TIMESTAMPTZ,           -- lease of the relay working on it; NULL = free
    claim_token   UUID,                  -- which claim holds the lease
    done_at       TIMESTAMPTZ,           -- NULL until the outside call succeeded
    last_error    TEXT,                  -- why the last attempt failed: short, never a secret

    CONSTRAINT outbox_kind_check CHECK (kind IN ('event', 'click_receipt')),
    -- A NATS subject to publish to has no spaces and no wildcards.
    CONSTRAINT outbox_subject_check CHECK (char_length(subject) BETWEEN 1 AND 255 AND subject !~ '[[:space:]*>]'),
    -- Well under NATS's default max_payload (1 MiB, headers included), so a
    -- stored message can always be published.
    CONSTRAINT outbox_payload_check CHECK (octet_length(payload) BETWEEN 1 AND 524288),
    CONSTRAINT outbox_attempts_check CHECK (attempts >= 0),
    CONSTRAINT outbox_available_check CHECK (available_at >= created_at),
    CONSTRAINT outbox_claim_check CHECK ((claimed_until IS NULL) = (claim_token IS NULL)),
    CONSTRAINT outbox_done_check CHECK (done_at IS NULL OR claimed_until IS NULL),
    CONSTRAINT outbox_last_error_check CHECK (char_length(last_error) <= 500)
);

-- The claim: the not-done rows of a kind in seq order (done rows drop out of
-- the index, so it stays as small as the backlog), and the backlog count.
CREATE INDEX outbox_pending_idx ON outbox (kind, seq) WHERE done_at IS NULL;
-- The claim's "every earlier row of this aggregate is done" check.
CREATE INDEX outbox_pending_aggregate_idx ON outbox (kind, aggregate_id, seq) WHERE done_at IS NULL;
-- The backlog's oldest row per kind (its age is a metric).
CREATE INDEX outbox_pending_created_idx ON outbox (kind, created_at) WHERE done_at IS NULL;
-- Purging done rows past their retention, oldest first.
CREATE INDEX outbox_done_idx ON outbox (done_at) WHERE done_at IS NOT NULL;

-- +goose Down

DROP TABLE IF EXISTS outbox;
