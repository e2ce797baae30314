package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// UnpaidOrderSlots implements ports.UnpaidOrderSlots on orders and
// order_placements.
//
// The per-user lock is the user's row, taken FOR NO KEY UPDATE: it
// serialises the counts of one user (two placements at the limit cannot both
// see room) and nothing else, since it does not conflict with the FOR KEY
// SHARE locks that inserting a row referencing the user takes (their cart
// lines, Idempotency-Keys, orders).
type UnpaidOrderSlots struct {
	db *sqlx.DB
}

var _ ports.UnpaidOrderSlots = (*UnpaidOrderSlots)(nil)

// NewUnpaidOrderSlots returns an UnpaidOrderSlots on db.
func NewUnpaidOrderSlots(db *sqlx.DB) *UnpaidOrderSlots { return &UnpaidOrderSlots{db: db} }

const conPlacementsUser = "order_placements_user_id_fkey"

// CountUnpaid locks the user's row, forgets the user's placements whose hold
// has ended, and counts the rest with the pending_payment orders. Under READ
// COMMITTED each statement sees what committed before it started, so the
// counts after the lock include everything the previous holder of the lock
// committed. It needs the transaction in ctx (ErrNoTx otherwise): without it
// the lock would end with the statement.
func (s *UnpaidOrderSlots) CountUnpaid(ctx context.Context, userID, exceptOrderID string, now time.Time) (int, error) {
	if !inTx(ctx, s.db) {
		return 0, fmt.Errorf("count unpaid orders of user %s: %w", userID, ErrNoTx)
	}
	if !validID(userID) {
		return 0, fmt.Errorf("count unpaid orders of user %s: %w", userID, user.ErrNotFound)
	}
	q := ext(ctx, s.db)
	var one int
	err := sqlx.GetContext(ctx, q, &one, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("count unpaid orders of user %s: %w", userID, user.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("lock user %s to count unpaid orders: %w", userID, mapError(err))
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM order_placements WHERE user_id = $1 AND hold_until <= $2`,
		userID, dbTime(now)); err != nil {
		return 0, fmt.Errorf("forget ended placements of user %s: %w", userID, mapError(err))
	}
	except := sql.NullString{String: exceptOrderID, Valid: validID(exceptOrderID)}
	var n int
	err = sqlx.GetContext(ctx, q, &n, `SELECT
		    (SELECT count(*) FROM orders WHERE user_id = $1 AND status = 'pending_payment')
		  + (SELECT count(*) FROM order_placements WHERE user_id = $1 AND ($2::uuid IS NULL OR order_id <> $2::uuid))`,
		userID, except)
	if err != nil {
		return 0, fmt.Errorf("count unpaid orders of user %s: %w", userID, mapError(err))
	}
	return n, nil
}

// Hold records a placement. An unknown user returns user.ErrNotFound.
func (s *UnpaidOrderSlots) Hold(ctx context.Context, userID, orderID string, now, until time.Time) error {
	if !validID(userID) {
		return fmt.Errorf("hold placement of order %s: %w", orderID, user.ErrNotFound)
	}
	_, err := ext(ctx, s.db).ExecContext(ctx, `INSERT INTO order_placements (order_id, user_id, created_at, hold_until)
		VALUES ($1, $2, $3, $4)`, orderID, userID, dbTime(now), dbTime(until))
	if err != nil {
		return fmt.Errorf("hold placement of order %s: %w", orderID, mapUserRef(err, conPlacementsUser))
	}
	return nil
}

// Drop forgets a placement; an unknown one (or a malformed id, which names
// none) is not an error.
func (s *UnpaidOrderSlots) Drop(ctx context.Context, orderID string) error {
	if !validID(orderID) {
		return nil
	}
	_, err := ext(ctx, s.db).ExecContext(ctx, `DELETE FROM order_placements WHERE order_id = $1`, orderID)
	if err != nil {
		return fmt.Errorf("drop placement of order %s: %w", orderID, mapError(err))
	}
	return nil
}
