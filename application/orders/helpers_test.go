package orders_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	buyerID    = "44444444-0000-4000-8000-000000000004"
	strangerID = "55555555-0000-4000-8000-000000000005"
	adminID    = "33333333-0000-4000-8000-000000000003"
	orderID    = "99999999-0000-4000-8000-000000000009"
)

var (
	buyer    = user.Actor{ID: buyerID, Role: user.RoleCustomer}
	stranger = user.Actor{ID: strangerID, Role: user.RoleSeller}
	admin    = user.Actor{ID: adminID, Role: user.RoleAdmin}
	super    = user.Actor{ID: adminID, Role: user.RoleSuperAdmin}
)

var shipTo = order.Address{Region: "Toshkent", City: "Toshkent", Street: "Amir Temur 1", Phone: "+998901234567"}

// ctxMatcher matches a context by a predicate.
type ctxMatcher struct {
	desc string
	ok   func(context.Context) bool
}

func (m ctxMatcher) Matches(x any) bool {
	ctx, isCtx := x.(context.Context)
	return isCtx && m.ok(ctx)
}
func (m ctxMatcher) String() string { return m.desc }

var (
	inTx    = ctxMatcher{"a context inside the transaction", func(c context.Context) bool { return testsupport.InTx(c) }}
	outOfTx = ctxMatcher{"a context outside any transaction", func(c context.Context) bool { return !testsupport.InTx(c) }}
	// live is a context that has not ended: compensations must still run
	// after the request's context was cancelled.
	live = ctxMatcher{"a live context outside any transaction", func(c context.Context) bool {
		return c.Err() == nil && !testsupport.InTx(c)
	}}
	// detachedBounded is how stock is released after a committed change
	// (holds.ReleaseStock): alive although the caller's context ended, and
	// bounded in time.
	detachedBounded = ctxMatcher{"a live, bounded context outside any transaction", func(c context.Context) bool {
		_, bounded := c.Deadline()
		return c.Err() == nil && bounded && !testsupport.InTx(c)
	}}
)

type fixture struct {
	orders  *mocks.MockOrderRepository
	carts   *mocks.MockCartRepository
	keys    *mocks.MockIdempotencyStore
	catalog *mocks.MockCatalog
	payme   *mocks.MockPaymeRepository
	clicks  *mocks.MockClickRepository
	slots   *mocks.MockUnpaidOrderSlots
}

func newFixture(t *testing.T) fixture {
	ctrl := gomock.NewController(t)
	return fixture{
		orders:  mocks.NewMockOrderRepository(ctrl),
		carts:   mocks.NewMockCartRepository(ctrl),
		keys:    mocks.NewMockIdempotencyStore(ctrl),
		catalog: mocks.NewMockCatalog(ctrl),
		payme:   mocks.NewMockPaymeRepository(ctrl),
		clicks:  mocks.NewMockClickRepository(ctrl),
		slots:   mocks.NewMockUnpaidOrderSlots(ctrl),
	}
}

func prod(id string, price, stock int64, active bool) *product.Product {
	return product.Restore(id, "Product "+id, "", "misc", "seller-1", money.MustTiyin(price), stock, active, now, now)
}

// pendingOrder is an order of the buyer created at createdAt.
func pendingOrder(t *testing.T, id string, createdAt time.Time) *order.Order {
	t.Helper()
	o, err := order.New(id, buyerID, []order.Item{
		{ProductID: "p1", Name: "Product p1", UnitPrice: money.MustTiyin(1000), Quantity: 2},
	}, shipTo, "", createdAt)
	require.NoError(t, err)
	return o
}

func paidOrder(t *testing.T, id string) *order.Order {
	t.Helper()
	o := pendingOrder(t, id, now.Add(-time.Hour))
	require.NoError(t, o.MarkPaid(now.Add(-time.Minute)))
	return o
}

var clickSeq int64

func clickAttempt(t *testing.T, o *order.Order, state payment.ClickState) *payment.ClickTransaction {
	t.Helper()
	clickSeq++
	tx, err := payment.NewClickTransaction(fmt.Sprintf("00000000-0000-4000-8000-%012d", clickSeq), clickSeq, 1000+clickSeq, 7, o.ID(), o.Total(), o.Total().SomString(), now.Add(-time.Hour))
	require.NoError(t, err)
	tx.SetPrepareID(clickSeq)
	switch state {
	case payment.ClickConfirmed:
		require.NoError(t, tx.Confirm(now.Add(-time.Minute)))
	case payment.ClickCancelled:
		_, err := tx.Cancel(-5017, now.Add(-time.Minute))
		require.NoError(t, err)
	}
	return tx
}

func intp(n int) *int { return &n }
