package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// IdempotencyStore implements ports.IdempotencyStore on idempotency_keys.
//
// The port remembers what the first request created (its id), not a response
// body, so a completed row stores status_code 201 (Created, the only answer
// that is remembered) and the resource id as the bytes of response; an
// in-progress row has both NULL. Which of several concurrent requests claims
// a key is decided by the primary key (user_id, key): exactly one INSERT
// wins.
//
// An in-progress row carries its claim (a random UUID, the holder's name)
// and lease_until. Renew, Complete and Release match the claim, so a request
// whose lease ended and whose key another request took over changes nothing
// of the new holder's.
type IdempotencyStore struct {
	db *sqlx.DB
}

var _ ports.IdempotencyStore = (*IdempotencyStore)(nil)

// NewIdempotencyStore returns an IdempotencyStore on db.
func NewIdempotencyStore(db *sqlx.DB) *IdempotencyStore { return &IdempotencyStore{db: db} }

const (
	conIdempotencyUser = "idempotency_keys_user_id_fkey"
	// completedStatus is the status_code of a completed key: the request
	// created something.
	completedStatus = 201
	// beginAttempts bounds Begin's retries when the row it saw vanished
	// (released by its request) before it could be read.
	beginAttempts = 3
)

// ErrNotClaimed is returned by Complete and Renew when the claim does not
// hold the key in progress (it was released, completed already, or taken
// over after its lease ended): what the request did must not be committed
// as that key's answer.
var ErrNotClaimed = fmt.Errorf("postgres: idempotency key has no claim in progress: %w", domain.ErrConflict)

type idempotencyRow struct {
	RequestHash string        `db:"request_hash"`
	StatusCode  sql.NullInt32 `db:"status_code"`
	Response    []byte        `db:"response"`
}

// Begin claims the key for a request. In order, each step a single statement
// that is atomic on its own:
//  1. INSERT … ON CONFLICT DO NOTHING: a new key is claimed (a concurrent
//     INSERT of the same key waits for the first and then does nothing);
//  2. UPDATE … WHERE expires_at < now, or in progress with lease_until <
//     now: a record whose ttl has passed, or a claim whose request died, is
//     reclaimed for this request; of concurrent reclaimers the row lock lets
//     one through and the others, re-checking the WHERE on the updated row,
//     find it no longer expired;
//  3. SELECT: otherwise the record of the request that holds the key is
//     returned, unclaimed. If it vanished meanwhile (its request failed and
//     released it), Begin starts over.
//
// An unknown user returns user.ErrNotFound.
func (s *IdempotencyStore) Begin(ctx context.Context, userID, key, requestHash string, now time.Time, ttl, lease time.Duration) (ports.IdempotencyRecord, bool, error) {
	if !validID(userID) {
		return ports.IdempotencyRecord{}, false, fmt.Errorf("begin idempotency key of user %s: %w", userID, user.ErrNotFound)
	}
	if ttl <= 0 || lease <= 0 || lease > ttl {
		return ports.IdempotencyRecord{}, false, fmt.Errorf("begin idempotency key of user %s: ttl %s and lease %s must be positive, the lease no longer", userID, ttl, lease)
	}
	q := ext(ctx, s.db)
	created, expires, leased := dbTime(now), dbTime(now.Add(ttl)), dbTime(now.Add(lease))
	claimed := ports.IdempotencyRecord{RequestHash: requestHash, Claim: uuid.NewString()}
	for range beginAttempts {
		won, err := execOne(ctx, q, `INSERT INTO idempotency_keys (user_id, key, request_hash, created_at, expires_at, claim, lease_until)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (user_id, key) DO NOTHING`, userID, key, requestHash, created, expires, claimed.Claim, leased)
		if err != nil {
			return ports.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency key of user %s: %w", userID, mapUserRef(err, conIdempotencyUser))
		}
		if won {
			return claimed, true, nil
		}

		won, err = execOne(ctx, q, `UPDATE idempotency_keys
			SET request_hash = $3, status_code = NULL, response = NULL, created_at = $4, expires_at = $5,
			    claim = $6, lease_until = $7
			WHERE user_id = $1 AND key = $2
			  AND (expires_at < $4 OR (status_code IS NULL AND lease_until < $4))`,
			userID, key, requestHash, created, expires, claimed.Claim, leased)
		if err != nil {
			return ports.IdempotencyRecord{}, false, fmt.Errorf("reclaim expired idempotency key of user %s: %w", userID, mapError(err))
		}
		if won {
			return claimed, true, nil
		}

		var row idempotencyRow
		err = sqlx.GetContext(ctx, q, &row, `SELECT request_hash, status_code, response
			FROM idempotency_keys WHERE user_id = $1 AND key = $2`, userID, key)
		if errors.Is(err, sql.ErrNoRows) {
			continue // released since the INSERT saw it
		}
		if err != nil {
			return ports.IdempotencyRecord{}, false, fmt.Errorf("select idempotency key of user %s: %w", userID, mapError(err))
		}
		rec, err := row.toRecord(userID)
		return rec, false, err
	}
	return ports.IdempotencyRecord{}, false, fmt.Errorf("begin idempotency key of user %s: the key kept changing: %w", userID, domain.ErrConflict)
}

// execOne runs a statement and reports whether it changed exactly one row.
func execOne(ctx context.Context, q sqlx.ExtContext, query string, args ...any) (bool, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

func (r idempotencyRow) toRecord(userID string) (ports.IdempotencyRecord, error) {
	switch {
	case !r.StatusCode.Valid:
		return ports.IdempotencyRecord{RequestHash: r.RequestHash}, nil
	case r.StatusCode.Int32 == completedStatus && len(r.Response) > 0:
		return ports.IdempotencyRecord{RequestHash: r.RequestHash, ResourceID: string(r.Response)}, nil
	}
	return ports.IdempotencyRecord{}, fmt.Errorf("idempotency key of user %s: status %d with %d bytes: %w",
		userID, r.StatusCode.Int32, len(r.Response), ErrCorrupt)
}

// Renew moves the claim's lease to until (never back). It returns
// ErrNotClaimed when claim no longer holds the key in progress.
func (s *IdempotencyStore) Renew(ctx context.Context, userID, key, claim string, until time.Time) error {
	if !validID(userID) || !validID(claim) {
		return fmt.Errorf("renew idempotency key of user %s: %w", userID, ErrNotClaimed)
	}
	res, err := ext(ctx, s.db).ExecContext(ctx, `UPDATE idempotency_keys SET lease_until = GREATEST(lease_until, $4)
		WHERE user_id = $1 AND key = $2 AND claim = $3 AND status_code IS NULL`, userID, key, claim, dbTime(until))
	if err != nil {
		return fmt.Errorf("renew idempotency key of user %s: %w", userID, mapError(err))
	}
	return mustAffect(res, "renew idempotency key of user "+userID, ErrNotClaimed)
}

// Complete stores what the claimed request created. It returns ErrNotClaimed
// when claim does not hold the key in progress, so the caller's transaction
// rolls back rather than commit an answer no key will replay. A lease that
// ended is no obstacle as long as nobody took the key over: the request did
// finish, and its answer is the key's.
func (s *IdempotencyStore) Complete(ctx context.Context, userID, key, claim, resourceID string) error {
	if resourceID == "" {
		return fmt.Errorf("complete idempotency key of user %s: %w", userID, domain.Invalid("resource_id", domain.MsgNotEmpty))
	}
	if !validID(userID) || !validID(claim) {
		return fmt.Errorf("complete idempotency key of user %s: %w", userID, ErrNotClaimed)
	}
	res, err := ext(ctx, s.db).ExecContext(ctx, `UPDATE idempotency_keys SET status_code = $4, response = $5, lease_until = NULL
		WHERE user_id = $1 AND key = $2 AND claim = $3 AND status_code IS NULL`,
		userID, key, claim, completedStatus, []byte(resourceID))
	if err != nil {
		return fmt.Errorf("complete idempotency key of user %s: %w", userID, mapError(err))
	}
	return mustAffect(res, "complete idempotency key of user "+userID, ErrNotClaimed)
}

// Release forgets claim's claim in progress so a retry runs again. A
// completed key is never forgotten this way, nor another claim's, and
// releasing an unknown key is not an error.
func (s *IdempotencyStore) Release(ctx context.Context, userID, key, claim string) error {
	if !validID(userID) || !validID(claim) {
		return nil
	}
	_, err := ext(ctx, s.db).ExecContext(ctx, `DELETE FROM idempotency_keys
		WHERE user_id = $1 AND key = $2 AND claim = $3 AND status_code IS NULL`, userID, key, claim)
	if err != nil {
		return fmt.Errorf("release idempotency key of user %s: %w", userID, mapError(err))
	}
	return nil
}
