package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/ports"
)

// OutboxStore implements ports.Outbox on the outbox table (migrations
// 00006_outbox.sql, which explains the ordering and leasing rules).
//
// No method but Append runs in the caller's transaction: Claim, MarkDone,
// MarkFailed and Release are each one statement on the pool, so each commits
// on its own and a relay never calls NATS (or Click) with a transaction open.
type OutboxStore struct {
	db *sqlx.DB
}

var _ ports.Outbox = (*OutboxStore)(nil)

// NewOutboxStore returns an OutboxStore on db.
func NewOutboxStore(db *sqlx.DB) *OutboxStore { return &OutboxStore{db: db} }

// outboxLockClass is the first key of the advisory locks Append takes (the
// second is a hash of kind and aggregate): two-key advisory locks never
// collide with the one-key lock goose takes while migrating.
const outboxLockClass = 0x6f757462 // "outb"

// maxLastError bounds last_error (outbox_last_error_check).
const maxLastError = 500

// ErrInTx is returned by Claim when ctx carries a transaction: the lease must
// commit before the caller calls out, and locks held until a caller's
// transaction ends would stall the other relays.
var ErrInTx = errors.New("postgres: outbox claim must not run inside a transaction")

type outboxRow struct {
	ID          string    `db:"id"`
	Seq         int64     `db:"seq"`
	Kind        string    `db:"kind"`
	AggregateID string    `db:"aggregate_id"`
	Subject     string    `db:"subject"`
	Payload     []byte    `db:"payload"`
	CreatedAt   time.Time `db:"created_at"`
	Attempts    int       `db:"attempts"`
}

func (r outboxRow) toPort() (ports.ClaimedMessage, error) {
	kind := ports.OutboxKind(r.Kind)
	known := false
	for _, k := range ports.OutboxKinds() {
		known = known || k == kind
	}
	if !known || r.Subject == "" || len(r.Payload) == 0 || r.Attempts < 0 {
		return ports.ClaimedMessage{}, fmt.Errorf("outbox row %s: kind %q, subject %q, %d bytes, %d attempts: %w",
			r.ID, r.Kind, r.Subject, len(r.Payload), r.Attempts, ErrCorrupt)
	}
	return ports.ClaimedMessage{
		OutboxMessage: ports.OutboxMessage{ID: r.ID, Kind: kind, AggregateID: r.AggregateID, Subject: r.Subject,
			Payload: r.Payload, CreatedAt: r.CreatedAt.UTC()},
		Seq:      r.Seq,
		Attempts: r.Attempts,
	}, nil
}

// Append inserts msg in the transaction ctx carries (ErrNoTx without one).
// The same statement first takes a transaction-level advisory lock on (kind, aggregate), held
// until that transaction ends: a second transaction appending for the same
// aggregate waits, and so gets its seq only after the first committed or
// rolled back. Without it, two writers of one order that do not lock the
// order row could commit seq 11 before seq 10, and a relay would publish 11
// first. A hash collision between two aggregates only makes them wait for
// each other.
func (s *OutboxStore) Append(ctx context.Context, msg ports.OutboxMessage) error {
	if !inTx(ctx, s.db) {
		return fmt.Errorf("append outbox message %s: %w", msg.ID, ErrNoTx)
	}
	var bad []domain.FieldError
	if !validID(msg.ID) {
		bad = append(bad, domain.FieldError{Field: "id", Message: domain.MsgUUID})
	}
	if !validID(msg.AggregateID) {
		bad = append(bad, domain.FieldError{Field: "aggregate_id", Message: domain.MsgUUID})
	}
	if msg.CreatedAt.IsZero() {
		bad = append(bad, domain.FieldError{Field: "created_at", Message: domain.MsgRequired})
	}
	if len(bad) > 0 {
		return &domain.ValidationError{Fields: bad}
	}
	// One statement, one round trip: the row is made from the CTE's one row,
	// so the lock is granted before the row, and its seq (the identity
	// default, drawn as the row is made), exists. A seq drawn before the
	// lock could be lower than the one the lock's holder draws, and commit
	// after it. pg_advisory_xact_lock is volatile: the CTE is never inlined
	// nor skipped.
	created := dbTime(msg.CreatedAt)
	_, err := ext(ctx, s.db).ExecContext(ctx, `WITH locked AS (SELECT pg_advisory_xact_lock($7, hashtext($8)))
		INSERT INTO outbox (id, kind, aggregate_id, subject, payload, created_at, available_at)
		SELECT $1, $2, $3, $4, $5, $6, $6 FROM locked`,
		msg.ID, string(msg.Kind), msg.AggregateID, msg.Subject, msg.Payload, created,
		outboxLockClass, string(msg.Kind)+"/"+msg.AggregateID)
	if err != nil {
		return fmt.Errorf("append outbox message %s: %w", msg.ID, mapError(ctxErr(ctx, err)))
	}
	return nil
}

// Claim leases up to limit heads of kind: rows that are not done, available
// at now, not leased (or whose lease ran out), and that have no earlier
// not-done row of the same aggregate. It is one UPDATE on the pool, so the
// lease is committed when it returns:
//
//   - FOR UPDATE SKIP LOCKED: of two relays claiming at once, each skips the
//     rows the other is taking, so no row is handed to both; a row a relay
//     locked and leased in between is re-checked by Postgres against the new
//     lease and dropped.
//   - Heads only: while the head of an aggregate is claimed (or waiting for
//     its retry), no later row of that aggregate can be claimed by anyone,
//     so one aggregate's rows are sent one after the other, in seq order.
func (s *OutboxStore) Claim(ctx context.Context, kind ports.OutboxKind, limit int, now time.Time,
	lease time.Duration) (ports.OutboxClaim, error) {
	if inTx(ctx, s.db) {
		return ports.OutboxClaim{}, ErrInTx
	}
	if lease <= 0 {
		return ports.OutboxClaim{}, fmt.Errorf("postgres: outbox lease %s is not positive", lease)
	}
	claim := ports.OutboxClaim{Token: uuid.NewString(), Until: dbTime(now.Add(lease)), Messages: []ports.ClaimedMessage{}}
	if limit <= 0 {
		return claim, nil
	}
	var rows []outboxRow
	err := sqlx.SelectContext(ctx, s.db, &rows, `UPDATE outbox o SET claimed_until = $4, claim_token = $5
		FROM (
			SELECT c.id FROM outbox c
			WHERE c.kind = $1 AND c.done_at IS NULL AND c.available_at <= $2
				AND (c.claimed_until IS NULL OR c.claimed_until <= $2)
				AND NOT EXISTS (
					SELECT 1 FROM outbox p
					WHERE p.kind = c.kind AND p.aggregate_id = c.aggregate_id
						AND p.done_at IS NULL AND p.seq < c.seq)
			ORDER BY c.seq
			LIMIT $3
			FOR UPDATE SKIP LOCKED
		) picked
		WHERE o.id = picked.id
		RETURNING o.id, o.seq, o.kind, o.aggregate_id, o.subject, o.payload, o.created_at, o.attempts`,
		string(kind), dbTime(now), limit, claim.Until, claim.Token)
	if err != nil {
		return ports.OutboxClaim{}, fmt.Errorf("claim %s outbox messages: %w", kind, mapError(ctxErr(ctx, err)))
	}
	// RETURNING follows no ORDER BY: put the heads back in seq order.
	sort.Slice(rows, func(i, j int) bool { return rows[i].Seq < rows[j].Seq })
	for _, r := range rows {
		m, err := r.toPort()
		if err != nil {
			// The rows stay leased until the lease ends; a corrupt row is an
			// internal error either way.
			return ports.OutboxClaim{}, err
		}
		claim.Messages = append(claim.Messages, m)
	}
	return claim, nil
}

// MarkDone sets done_at on the rows not done yet, whoever holds their lease.
func (s *OutboxStore) MarkDone(ctx context.Context, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET done_at = $2, claimed_until = NULL, claim_token = NULL
		WHERE id = ANY($1::uuid[]) AND done_at IS NULL`, pq.Array(ids), dbTime(now))
	if err != nil {
		return fmt.Errorf("mark %d outbox messages done: %w", len(ids), mapError(ctxErr(ctx, err)))
	}
	return nil
}

// MarkFailed counts a failed attempt on each row token still holds and frees
// it for a retry from its RetryAt (never before the row was created).
func (s *OutboxStore) MarkFailed(ctx context.Context, token string, failures []ports.OutboxFailure) error {
	if len(failures) == 0 {
		return nil
	}
	if !validID(token) {
		return nil // no claim has that token, so it holds nothing
	}
	ids := make([]string, len(failures))
	retry := make([]string, len(failures))
	reasons := make([]string, len(failures))
	for i, f := range failures {
		ids[i], retry[i], reasons[i] = f.ID, dbTime(f.RetryAt).Format(time.RFC3339Nano), lastError(f.Reason)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE outbox o
		SET attempts = o.attempts + 1, available_at = GREATEST(f.retry_at, o.created_at), last_error = f.reason,
			claimed_until = NULL, claim_token = NULL
		FROM unnest($2::uuid[], $3::timestamptz[], $4::text[]) AS f (id, retry_at, reason)
		WHERE o.id = f.id AND o.claim_token = $1 AND o.done_at IS NULL`,
		token, pq.Array(ids), pq.Array(retry), pq.Array(reasons))
	if err != nil {
		return fmt.Errorf("mark %d outbox messages failed: %w", len(failures), mapError(ctxErr(ctx, err)))
	}
	return nil
}

// Release frees the rows token still holds, counting no attempt.
func (s *OutboxStore) Release(ctx context.Context, token string, ids []string) error {
	if len(ids) == 0 || !validID(token) {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET claimed_until = NULL, claim_token = NULL
		WHERE id = ANY($2::uuid[]) AND claim_token = $1 AND done_at IS NULL`, token, pq.Array(ids))
	if err != nil {
		return fmt.Errorf("release %d outbox messages: %w", len(ids), mapError(ctxErr(ctx, err)))
	}
	return nil
}

// Backlog counts the rows not done per kind, every kind listed (an empty one
// with zero), so a gauge fed from it falls back to zero.
func (s *OutboxStore) Backlog(ctx context.Context) ([]ports.OutboxBacklog, error) {
	var rows []struct {
		Kind    string    `db:"kind"`
		Pending int64     `db:"pending"`
		Oldest  time.Time `db:"oldest"`
	}
	err := sqlx.SelectContext(ctx, s.db, &rows, `SELECT kind, count(*) AS pending, min(created_at) AS oldest
		FROM outbox WHERE done_at IS NULL GROUP BY kind`)
	if err != nil {
		return nil, fmt.Errorf("outbox backlog: %w", mapError(ctxErr(ctx, err)))
	}
	byKind := make(map[ports.OutboxKind]ports.OutboxBacklog, len(rows))
	for _, r := range rows {
		byKind[ports.OutboxKind(r.Kind)] = ports.OutboxBacklog{Kind: ports.OutboxKind(r.Kind), Pending: r.Pending,
			OldestCreatedAt: r.Oldest.UTC()}
	}
	out := make([]ports.OutboxBacklog, 0, len(ports.OutboxKinds()))
	for _, k := range ports.OutboxKinds() {
		b, ok := byKind[k]
		if !ok {
			b = ports.OutboxBacklog{Kind: k}
		}
		out = append(out, b)
	}
	return out, nil
}

// PurgeDone deletes up to limit rows done before before, oldest first.
// Deleting done rows never unblocks or reorders anything: a claim only looks
// at rows that are not done.
func (s *OutboxStore) PurgeDone(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM outbox WHERE id IN (
			SELECT id FROM outbox WHERE done_at < $1 ORDER BY done_at LIMIT $2)`, dbTime(before), limit)
	if err != nil {
		return 0, fmt.Errorf("purge done outbox messages: %w", mapError(ctxErr(ctx, err)))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge done outbox messages: %w", err)
	}
	return int(n), nil
}

// lastError makes a failure reason storable: valid UTF-8 without NUL bytes
// (a Postgres text cannot hold them), at most maxLastError characters.
func lastError(reason string) string {
	r := []rune(strings.ReplaceAll(strings.ToValidUTF8(reason, "?"), "\x00", ""))
	if len(r) > maxLastError {
		r = r[:maxLastError]
	}
	return string(r)
}
