package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

var (
	_ ports.RefundRepository = (*postgres.RefundRepo)(nil)
	_ ports.PaymentConsole   = (*postgres.PaymentConsole)(nil)
)

// deliveredOrder stores an order that was paid, shipped and delivered.
func deliveredOrder(t *testing.T, db *sqlx.DB) *order.Order {
	t.Helper()
	o := newOrder(t, db, someUser(t, db).ID(), t0)
	require.NoError(t, o.MarkPaid(t0.Add(time.Minute)))
	require.NoError(t, o.AdvanceTo(order.StatusShipped, t0.Add(2*time.Minute)))
	require.NoError(t, o.AdvanceTo(order.StatusDelivered, t0.Add(3*time.Minute)))
	require.NoError(t, postgres.NewOrderRepo(db).Update(ctx(t), o))
	return o
}

func TestOrderRefundAuthorizationRoundTrip(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewOrderRepo(db)
	o := deliveredOrder(t, db)

	got, err := repo.Get(ctx(t), o.ID())
	require.NoError(t, err)
	assert.True(t, got.RefundAuthorizedAt().IsZero())

	_, err = got.AuthorizeRefund(t0.Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, repo.Update(ctx(t), got))
	require.NoError(t, got.Refund(t0.Add(2*time.Hour)))
	require.NoError(t, repo.Update(ctx(t), got))

	back, err := repo.Get(ctx(t), o.ID())
	require.NoError(t, err)
	assert.Equal(t, order.StatusRefunded, back.Status())
	assert.Equal(t, t0.Add(time.Hour), back.RefundAuthorizedAt())
	assert.Equal(t, t0.Add(3*time.Minute), back.DeliveredAt(), "the shipping history stays")
}

// TestOrderRefundAfterShippingNeedsAnAuthorizationInTheDatabase: the status
// CHECK agrees with the domain, so no write behind its back can refund an
// order whose goods left without an admin's authorization.
func TestOrderRefundAfterShippingNeedsAnAuthorizationInTheDatabase(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	o := deliveredOrder(t, db)
	_, err := db.ExecContext(ctx(t), `UPDATE orders SET status = 'refunded', refunded_at = now() WHERE id = $1`, o.ID())
	require.ErrorContains(t, err, "orders_status_times_check")

	pending := newOrder(t, db, someUser(t, db).ID(), t0)
	_, err = db.ExecContext(ctx(t), `UPDATE orders SET refund_authorized_at = now() WHERE id = $1`, pending.ID())
	require.ErrorContains(t, err, "orders_refund_authorized_check", "an unpaid order has nothing to refund")
}

func TestRefundRepoAddAndList(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewRefundRepo(db)
	o := deliveredOrder(t, db)
	adminUser := someUser(t, db)

	list, err := repo.ListByOrder(ctx(t), o.ID())
	require.NoError(t, err)
	assert.Empty(t, list)

	second, err := payment.NewRefund(uuid.NewString(), o.ID(), payment.ProviderClick, payment.RefundReversed, "Broken", adminUser.ID(), t0.Add(2*time.Hour))
	require.NoError(t, err)
	first, err := payment.NewRefund(uuid.NewString(), o.ID(), payment.ProviderPayme, payment.RefundAuthorized, "Returned", adminUser.ID(), t0.Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, repo.Add(ctx(t), second))
	require.NoError(t, repo.Add(ctx(t), first))

	list, err = repo.ListByOrder(ctx(t), o.ID())
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, first, list[0], "oldest first, read back as written")
	assert.Equal(t, second, list[1])

	unknownOrder, _ := payment.NewRefund(uuid.NewString(), uuid.NewString(), payment.ProviderClick, payment.RefundReversed, "r", adminUser.ID(), t0)
	assert.ErrorIs(t, repo.Add(ctx(t), unknownOrder), order.ErrNotFound)
	unknownAdmin, _ := payment.NewRefund(uuid.NewString(), o.ID(), payment.ProviderClick, payment.RefundReversed, "r", uuid.NewString(), t0)
	assert.ErrorIs(t, repo.Add(ctx(t), unknownAdmin), user.ErrNotFound)
	badID, _ := payment.NewRefund("not-a-uuid", o.ID(), payment.ProviderClick, payment.RefundReversed, "r", adminUser.ID(), t0)
	assert.ErrorIs(t, repo.Add(ctx(t), badID), domain.ErrValidation)
	list, err = repo.ListByOrder(ctx(t), "not-a-uuid")
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestPaymentConsoleListsBothProviders(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	c := ctx(t)
	console := postgres.NewPaymentConsole(db)
	paymeRepo, clickRepo := postgres.NewPaymeRepo(db), postgres.NewClickRepo(db)

	o1 := newOrder(t, db, someUser(t, db).ID(), t0)
	o2 := newOrder(t, db, someUser(t, db).ID(), t0)
	// Payme: created at t0 (ms), performed a minute later.
	pt, err := payment.NewPaymeTransaction(uuid.NewString(), "payme-console-1", t0.UnixMilli(), o1.ID(), o1.Total(),
		map[string]string{"order_id": o1.ID()}, t0)
	require.NoError(t, err)
	require.NoError(t, paymeRepo.Insert(c, pt))
	_, err = pt.Perform(t0.Add(time.Minute))
	require.NoError(t, err)
	require.NoError(t, paymeRepo.Update(c, pt))
	// Click: prepared an hour later, cancelled by Click with -5017.
	ct, err := payment.NewClickTransaction(uuid.NewString(), 2_100_000_777, 3_100_000_777, 12345, o2.ID(), o2.Total(),
		o2.Total().SomString(), t0.Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, clickRepo.Insert(c, ct))
	_, err = ct.Cancel(-5017, t0.Add(2*time.Hour))
	require.NoError(t, err)
	require.NoError(t, clickRepo.Update(c, ct))

	all, total, err := console.List(c, ports.PaymentFilter{Page: 1, PageSize: 20})
	require.NoError(t, err)
	assert.Equal(t, 2, total)
	require.Len(t, all, 2)
	reason := -5017
	assert.Equal(t, ports.PaymentRecord{ID: ct.ID(), Provider: payment.ProviderClick, ProviderTransactionID: "2100000777",
		OrderID: o2.ID(), Amount: o2.Total(), State: payment.ClientCancelled, CreatedAt: t0.Add(time.Hour),
		CancelledAt: t0.Add(2 * time.Hour), CancelReason: &reason}, all[0], "newest first")
	assert.Equal(t, ports.PaymentRecord{ID: pt.ID(), Provider: payment.ProviderPayme, ProviderTransactionID: "payme-console-1",
		OrderID: o1.ID(), Amount: o1.Total(), State: payment.ClientCompleted, CreatedAt: t0.Truncate(time.Millisecond),
		PerformedAt: t0.Add(time.Minute).Truncate(time.Millisecond)}, all[1], "Payme's millisecond times, exactly")

	count := func(f ports.PaymentFilter) int {
		n, err := console.Count(c, f)
		require.NoError(t, err)
		var streamed int
		require.NoError(t, console.Each(c, f, func(ports.PaymentRecord) error { streamed++; return nil }))
		assert.Equal(t, n, streamed, "Each streams what Count counts")
		return n
	}
	assert.Equal(t, 1, count(ports.PaymentFilter{Provider: payment.ProviderPayme}))
	assert.Equal(t, 1, count(ports.PaymentFilter{State: payment.ClientCancelled}))
	assert.Equal(t, 0, count(ports.PaymentFilter{State: payment.ClientRefunded}))
	assert.Equal(t, 1, count(ports.PaymentFilter{OrderID: o2.ID()}))
	assert.Equal(t, 0, count(ports.PaymentFilter{OrderID: "not-a-uuid"}))
	assert.Equal(t, 1, count(ports.PaymentFilter{From: t0.Add(time.Millisecond)}), "from is inclusive, to the microsecond")
	assert.Equal(t, 2, count(ports.PaymentFilter{From: t0.Truncate(time.Millisecond)}))
	assert.Equal(t, 1, count(ports.PaymentFilter{To: t0.Add(time.Hour)}), "to is exclusive")

	stop := context.Canceled
	assert.ErrorIs(t, console.Each(c, ports.PaymentFilter{}, func(ports.PaymentRecord) error { return stop }), stop)
}
