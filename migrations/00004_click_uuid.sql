-- Click attempts get a UUID id, like every other id of the API (API.md,
-- "Payments": transaction.id is a UUID for both providers). The integer
-- stays, renamed prepare_id: it is merchant_prepare_id (and
-- merchant_confirm_id) inside Click's protocol, which wants an int.
--
-- Existing attempts get their UUIDs from the column default, and the
-- settlements of orders Click paid are rewritten to name the attempt by its
-- UUID, as Payme settlements name their transaction's UUID.
--
-- Also: attempts we ended ourselves because their order was cancelled or
-- expired were stored with an invented Click error (-9), which clients saw
-- as cancel_reason. API.md wants null there (Click sent nothing), as the
-- service now stores it. They are told apart by their cancel time, which is
-- their order's own.

-- +goose Up

ALTER TABLE click_transactions RENAME COLUMN id TO prepare_id;
ALTER SEQUENCE click_transactions_id_seq RENAME TO click_transactions_prepare_id_seq;
ALTER TABLE click_transactions ADD COLUMN id UUID NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE click_transactions DROP CONSTRAINT click_transactions_pkey;
ALTER TABLE click_transactions ADD CONSTRAINT click_transactions_pkey PRIMARY KEY (id);
-- Complete finds its attempt by merchant_prepare_id.
ALTER TABLE click_transactions ADD CONSTRAINT click_transactions_prepare_id_key UNIQUE (prepare_id);

UPDATE order_settlements s
SET provider_tx_id = c.id::text
FROM click_transactions c
WHERE s.provider = 'click' AND s.provider_tx_id = c.prepare_id::text;

UPDATE click_transactions c
SET click_error = NULL
FROM orders o
WHERE c.order_id = o.id AND c.state = -1 AND c.click_error = -9 AND c.cancelled_at = o.cancelled_at;

-- +goose Down

UPDATE click_transactions c
SET click_error = -9
FROM orders o
WHERE c.order_id = o.id AND c.state = -1 AND c.click_error IS NULL AND c.cancelled_at = o.cancelled_at;

UPDATE order_settlements s
SET provider_tx_id = c.prepare_id::text
FROM click_transactions c
WHERE s.provider = 'click' AND s.provider_tx_id = c.id::text;

ALTER TABLE click_transactions DROP CONSTRAINT click_transactions_prepare_id_key;
ALTER TABLE click_transactions DROP CONSTRAINT click_transactions_pkey;
ALTER TABLE click_transactions DROP COLUMN id;
ALTER SEQUENCE click_transactions_prepare_id_seq RENAME TO click_transactions_id_seq;
ALTER TABLE click_transactions RENAME COLUMN prepare_id TO id;
ALTER TABLE click_transactions ADD CONSTRAINT click_transactions_pkey PRIMARY KEY (id);
