package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
)

// ErrCorrupt means a stored value is outside what the domain allows (an
// unknown status, a negative amount, unparsable JSON). It is an internal
// error: the database was changed behind the application's back.
var ErrCorrupt = errors.New("postgres: stored value out of range")

// Constraint names from migrations/ that mean something to the domain.
const (
	conUsersEmail         = "users_email_key"
	conUsersVerifiedPhone = "users_verified_phone_key"
	conPaymeLiveTx        = "payme_one_live_tx_per_order"
	conPaymeID            = "payme_transactions_payme_id_key"
	conClickTransID       = "click_transactions_click_trans_id_key"
	conClickOneConfirmed  = "click_one_confirmed_per_order"
	conSettlementsPkey    = "order_settlements_pkey"
	conSettlementsTx      = "order_settlements_provider_tx_key"
	conOrdersPkey         = "orders_pkey"
	conOrdersUser         = "orders_user_id_fkey"
	conPaymeOrder         = "payme_transactions_order_id_fkey"
	conClickOrder         = "click_transactions_order_id_fkey"
	conSettlementsOrder   = "order_settlements_order_id_fkey"
	conOrdersTotalMatches = "orders_total_matches_items"
	conRefundsOrder       = "order_refunds_order_id_fkey"
	conRefundsAdmin       = "order_refunds_admin_id_fkey"
)

// uniqueErrors maps unique constraints to the domain error a caller acts on.
var uniqueErrors = map[string]error{
	conUsersEmail:         user.ErrEmailTaken,
	conUsersVerifiedPhone: user.ErrPhoneTaken,
	conPaymeLiveTx:        payment.ErrOrderHeld,
	conPaymeID:            payment.ErrDuplicate,
	conClickTransID:       payment.ErrDuplicate,
	conClickOneConfirmed:  payment.ErrAlreadyPaid,
	conSettlementsPkey:    payment.ErrAlreadyPaid,
	conSettlementsTx:      payment.ErrAlreadyPaid,
}

// foreignKeyErrors maps a reference to a missing row to that row's not-found.
var foreignKeyErrors = map[string]error{
	conOrdersUser:       user.ErrNotFound,
	conPaymeOrder:       order.ErrNotFound,
	conClickOrder:       order.ErrNotFound,
	conSettlementsOrder: order.ErrNotFound,
	conRefundsOrder:     order.ErrNotFound,
	conRefundsAdmin:     user.ErrNotFound,
}

// ErrConflict is a unique violation no domain error names (a duplicate id).
var ErrConflict = fmt.Errorf("postgres: duplicate key: %w", domain.ErrConflict)

// mapError is the one place that turns driver errors into domain errors:
//
//   - 23505 unique_violation: by constraint name (uniqueErrors), else ErrConflict;
//   - 23503 foreign_key_violation: by constraint name (foreignKeyErrors), else validation;
//   - 23514 check_violation, 23502 not_null, 22001/22003/22P02 bad values: a
//     *domain.ValidationError (the domain should have refused the value first);
//   - connection failures: wrap domain.ErrUnavailable.
//
// The pq error stays in the chain (errors.As finds it) for logs and for
// TxManager's retry of serialization failures and deadlocks, which are
// returned unchanged.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	pe := pq.As(err)
	if pe == nil {
		return unavailable(err)
	}
	switch pe.Code {
	case pqerror.UniqueViolation:
		if de, ok := uniqueErrors[pe.Constraint]; ok {
			return fmt.Errorf("%w [%s] (%w)", de, pe.Constraint, err)
		}
		return fmt.Errorf("%w [%s] (%w)", ErrConflict, pe.Constraint, err)
	case pqerror.ForeignKeyViolation:
		if de, ok := foreignKeyErrors[pe.Constraint]; ok {
			return fmt.Errorf("%w [%s] (%w)", de, pe.Constraint, err)
		}
		return fmt.Errorf("%w (%w)", domain.Invalid(fieldOf(pe), domain.MsgMissingRecord), err)
	case pqerror.CheckViolation:
		return fmt.Errorf("%w (%w)", domain.Invalid(fieldOf(pe), domain.MsgOutOfRange), err)
	case pqerror.NotNullViolation:
		return fmt.Errorf("%w (%w)", domain.Invalid(fieldOf(pe), domain.MsgRequired), err)
	case pqerror.StringDataRightTruncation, pqerror.NumericValueOutOfRange, pqerror.InvalidTextRepresentation:
		return fmt.Errorf("%w (%w)", domain.Invalid(fieldOf(pe), domain.MsgInvalid), err)
	}
	return unavailable(err)
}

// fieldOf guesses the input field a constraint is about from its name
// (products_price_check → "price", orders_shipping_phone_check →
// "shipping_phone"), so the edge can name something better than nothing.
func fieldOf(pe *pq.Error) string {
	if pe.Column != "" {
		return pe.Column
	}
	name := pe.Constraint
	if name == conOrdersTotalMatches {
		return "total"
	}
	if pe.Table != "" {
		name = strings.TrimPrefix(name, pe.Table+"_")
	}
	for _, suffix := range []string{"_check", "_fkey", "_key"} {
		name = strings.TrimSuffix(name, suffix)
	}
	if name == "" {
		return pe.Table
	}
	return name
}

// unavailable wraps err with domain.ErrUnavailable when it means the server
// could not be reached or refused to work (connection refused or reset,
// shutdown, too many connections), so the edge answers 503 rather than 500.
func unavailable(err error) error {
	if err == nil || errors.Is(err, domain.ErrUnavailable) {
		return err
	}
	if pe := pq.As(err); pe != nil {
		switch {
		case pe.Code.Class() == pqerror.ClassConnectionException,
			pe.Code.Class() == pqerror.ClassInsufficientResources,
			pe.Code == pqerror.AdminShutdown, pe.Code == pqerror.CrashShutdown,
			pe.Code == pqerror.CannotConnectNow:
			return fmt.Errorf("%w: %w", domain.ErrUnavailable, err)
		}
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) {
		return fmt.Errorf("%w: %w", domain.ErrUnavailable, err)
	}
	return err
}

// retryable reports a transaction that failed only because of concurrency and
// may succeed when run again from the start.
func retryable(err error) bool {
	return pq.As(err, pqerror.TRSerializationFailure, pqerror.TRDeadlockDetected) != nil
}

// ctxErr prefers the context's error when the context ended, so a cancelled
// request is reported as such rather than as a driver error.
func ctxErr(ctx context.Context, err error) error {
	if ce := ctx.Err(); ce != nil && !errors.Is(err, ce) {
		return fmt.Errorf("%w (%w)", ce, err)
	}
	return err
}
