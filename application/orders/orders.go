// Package orders holds the order use cases: placing an order (priced by the
// catalog, stock reserved, idempotent per Idempotency-Key), listing and
// showing orders, cancelling, the admin's fulfilment steps, and the job that
// cancels orders left unpaid.
package orders

import (
	"context"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/ports"
)

var (
	// ErrIdempotencyInProgress: the first request with this Idempotency-Key
	// is still being processed (409 conflict).
	ErrIdempotencyInProgress = fmt.Errorf("orders: a request with this Idempotency-Key is still in progress: %w", domain.ErrConflict)
	// ErrIdempotencyKeyReused: the key was used before with another request
	// body (409, API code idempotency_key_reused). It wraps the conflict
	// category, so it must be matched before it.
	ErrIdempotencyKeyReused = fmt.Errorf("orders: Idempotency-Key reused with another request: %w", domain.ErrConflict)
	// ErrNotAllowed: the caller's role may not do this (403 forbidden).
	ErrNotAllowed = fmt.Errorf("orders: not allowed: %w", domain.ErrForbidden)
)

const (
	// IdempotencyTTL is how long a completed Idempotency-Key answers with
	// its first order.
	IdempotencyTTL = 24 * time.Hour
	// IdempotencyLease is how long a key's claim in progress outlives its
	// request's last sign of life: API.md frees the key of a request that
	// died mid-way (its process crashed) after at most 60 s. A running
	// request renews the lease every DefaultLeaseRenewal, so however long it
	// takes it keeps its key: renewing, rather than a lease longer than any
	// request, because nothing bounds a request's duration (the HTTP
	// server's write timeout does not stop a handler, and a database wait
	// under contention has no deadline), and a lease over 60 s would break
	// the contract. Leases are written with this instance's clock and
	// compared with the next claimant's: clocks that disagree by less than
	// the 40 s between a renewal and the lease's end do no harm, and beyond
	// that the claim names its holder, so a request whose key was taken over
	// cannot complete it (409 conflict) and no order is made twice.
	IdempotencyLease = 60 * time.Second
	// DefaultLeaseRenewal is how often a running request renews its lease: a
	// third of it, so one failed renewal (a database hiccup) costs nothing.
	DefaultLeaseRenewal = IdempotencyLease / 3
	// MaxIdempotencyKeyChars is the longest Idempotency-Key accepted.
	MaxIdempotencyKeyChars = 255
	// IdempotencyKeyField names the header in validation errors.
	IdempotencyKeyField = "Idempotency-Key"

	// UnpaidHold is how long a placement keeps its unpaid-order slot
	// (ORDER_MAX_UNPAID) before the order is stored. Far longer than placing
	// an order takes (a catalog lookup and a reservation, each bounded by
	// CATALOG_TIMEOUT, and two short transactions), and short enough that a
	// process dying mid-placement costs its buyer one slot for two minutes.
	UnpaidHold = 2 * time.Minute

	// cleanupTimeout bounds the compensations of a failed placement
	// (releasing its stock and its Idempotency-Key), also when the request's
	// context has ended: leaving them undone would hold stock or block the
	// key for a day. Stock released after a committed cancel, expiry or
	// refund goes through holds.ReleaseStock instead.
	cleanupTimeout = 10 * time.Second
)

// recordEvent records o's status event in the transaction ctx carries, when
// the use case was given a recorder (WithEvents: EVENTS_URL set). Without one
// no event is written: no relay would ever publish it.
func recordEvent(ctx context.Context, events ports.OrderEvents, o *order.Order) error {
	if events == nil {
		return nil
	}
	return events.Record(ctx, o)
}

// cleanupContext keeps ctx's values (request id, logger) but not its
// cancellation, so compensations still run after the client has gone.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

// alsoFailed adds a compensation's failure to err's message without adding
// it to the chain: the client is answered for err, the log shows both.
func alsoFailed(err error, what string, cerr error) error {
	if cerr == nil {
		return err
	}
	return fmt.Errorf("%w (and %s failed: %v)", err, what, cerr) //nolint:errorlint // cerr is for the log only, see above
}
