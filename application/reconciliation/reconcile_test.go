package reconciliation_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/reconciliation"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	domrecon "github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

const (
	orderID   = "8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01"
	attemptID = "1679091c-5a88-4faf-9fb5-e6087eb1b2dc"
	issueID   = "b6d767d2-f8ed-4d21-a44d-0e5886ecf5e4"
	paydocID  = int64(3_100_000_001)
)

type fakeCheck struct {
	name   string
	opened map[domrecon.Kind]int
	err    error
	ran    int
}

func (c *fakeCheck) Name() string { return c.name }
func (c *fakeCheck) Run(ctx context.Context, _ time.Time) (map[domrecon.Kind]int, error) {
	c.ran++
	if _, ok := ctx.Deadline(); !ok {
		return nil, errors.New("a check must run within the pass's budget")
	}
	return c.opened, c.err
}

func TestReconciler_SkipsWhileAnotherInstanceHoldsTheJob(t *testing.T) {
	ctrl := gomock.NewController(t)
	leases, issues := mocks.NewMockJobLeases(ctrl), mocks.NewMockReconciliationIssues(ctrl)
	check := &fakeCheck{name: "c"}
	r := reconciliation.NewReconciler(leases, issues, testsupport.FixedClock(now), 10*time.Minute, check)

	leases.EXPECT().Claim(gomock.Any(), reconciliation.JobName, now, reconciliation.DefaultLease, 5*time.Minute).Return("", false, nil)
	n, err := r.Scheduled(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)

	leases.EXPECT().Claim(gomock.Any(), reconciliation.JobName, now, reconciliation.DefaultLease, time.Duration(0)).Return("", false, nil)
	rep, err := r.Once(context.Background())
	require.NoError(t, err)
	assert.True(t, rep.Skipped)
	assert.Zero(t, check.ran)
}

// One failing check does not stop the next; the lease is given back even
// when the caller's context has ended.
func TestReconciler_RunsEveryCheckAndReleases(t *testing.T) {
	ctrl := gomock.NewController(t)
	leases, issues := mocks.NewMockJobLeases(ctrl), mocks.NewMockReconciliationIssues(ctrl)
	boom := errors.New("click down")
	first := &fakeCheck{name: "first", opened: map[domrecon.Kind]int{domrecon.KindClickCancelUnverified: 1}, err: boom}
	second := &fakeCheck{name: "second", opened: map[domrecon.Kind]int{domrecon.KindClickCancelDisputed: 2}}
	r := reconciliation.NewReconciler(leases, issues, testsupport.FixedClock(now), 10*time.Minute, first, second)

	ctx, cancel := context.WithCancel(context.Background())
	leases.EXPECT().Claim(gomock.Any(), reconciliation.JobName, now, reconciliation.DefaultLease, time.Duration(0)).Return("tok", true, nil)
	issues.EXPECT().CountOpen(gomock.Any()).DoAndReturn(func(context.Context) (map[domrecon.Kind]int64, error) {
		cancel() // shutdown arrives as the pass ends
		return map[domrecon.Kind]int64{domrecon.KindClickCancelDisputed: 3}, nil
	})
	leases.EXPECT().Release(gomock.Any(), reconciliation.JobName, "tok", now).DoAndReturn(
		func(ctx context.Context, _, _ string, _ time.Time) error { return ctx.Err() })

	rep, err := r.Once(ctx)
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "first")
	assert.Equal(t, 1, second.ran)
	assert.Equal(t, 3, rep.OpenedTotal())
	assert.EqualValues(t, 3, rep.Open[domrecon.KindClickCancelDisputed])
}

type cancelsFixture struct {
	orders   *mocks.MockOrderRepository
	clicks   *mocks.MockClickRepository
	claims   *mocks.MockClickCancelClaims
	issues   *mocks.MockReconciliationIssues
	merchant *mocks.MockClickMerchant
	catalog  *mocks.MockCatalog
	tx       *testsupport.RecordingTx
	check    *reconciliation.ClickCancels
}

func newCancelsFixture(t *testing.T) cancelsFixture {
	ctrl := gomock.NewController(t)
	f := cancelsFixture{orders: mocks.NewMockOrderRepository(ctrl), clicks: mocks.NewMockClickRepository(ctrl),
		claims: mocks.NewMockClickCancelClaims(ctrl), issues: mocks.NewMockReconciliationIssues(ctrl),
		merchant: mocks.NewMockClickMerchant(ctrl), catalog: mocks.NewMockCatalog(ctrl), tx: &testsupport.RecordingTx{}}
	f.check = reconciliation.NewClickCancels(f.tx, f.orders, f.clicks, f.claims, f.issues, f.merchant, f.catalog,
		testsupport.FixedID(issueID))
	return f
}

var claim = ports.ClickCancelClaim{AttemptID: attemptID, OrderID: orderID, ClickError: -5017, ClaimedAt: now.Add(-time.Minute)}

func confirmedAttempt() *payment.ClickTransaction {
	return payment.RestoreClickTransaction(attemptID, 7, 2_100_000_001, paydocID, 12345, orderID, money.MustTiyin(5_000_000),
		"50000.00", payment.ClickConfirmed, nil, now.Add(-time.Hour), now.Add(-time.Hour), time.Time{})
}

func paidOrder() *order.Order {
	items := []order.Item{{ProductID: "a87ff679-a2f3-471d-8181-a67b7542122c", Name: "Rishton lagan",
		UnitPrice: money.MustTiyin(2_500_000), Quantity: 2}}
	at := now.Add(-time.Hour)
	return order.Restore(orderID, "45c48cce-2e2d-4fbd-8a1c-5b6d7e8f9a03", order.StatusPaid, items, money.MustTiyin(5_000_000),
		order.Address{Region: "Toshkent", City: "Toshkent", Street: "Amir Temur 1", Phone: "+998901234567"}, "",
		at, at, at, time.Time{}, time.Time{}, time.Time{}, time.Time{})
}

func (f cancelsFixture) pending(a *payment.ClickTransaction) {
	f.claims.EXPECT().ListPending(gomock.Any(), gomock.Any()).Return([]ports.ClickCancelClaim{claim}, nil)
	f.clicks.EXPECT().ListByOrder(gomock.Any(), orderID).Return([]*payment.ClickTransaction{a}, nil)
}

func TestClickCancels_ClickSaysCancelledRefunds(t *testing.T) {
	f := newCancelsFixture(t)
	a, o := confirmedAttempt(), paidOrder()
	f.pending(a)
	f.merchant.EXPECT().PaymentStatus(gomock.Any(), paydocID).Return(ports.ClickPaymentStatus{PaymentID: paydocID, Status: -1}, nil)
	f.orders.EXPECT().GetForUpdate(gomock.Any(), orderID).Return(o, nil)
	f.clicks.EXPECT().ListByOrderForUpdate(gomock.Any(), orderID).Return([]*payment.ClickTransaction{a}, nil)
	f.claims.EXPECT().Settle(gomock.Any(), attemptID, claim.ClaimedAt, ports.ClickCancelConfirmed, now).Return(true, nil)
	f.clicks.EXPECT().Update(gomock.Any(), a).Return(nil)
	f.orders.EXPECT().Update(gomock.Any(), o).Return(nil)
	f.issues.EXPECT().FindOpenForUpdate(gomock.Any(), domrecon.KindClickCancelUnverified, "2100000001").Return(nil, domrecon.ErrNotFound)
	f.catalog.EXPECT().Release(gomock.Any(), orderID, user.Actor{}).Return(nil)

	opened, err := f.check.Run(context.Background(), now)
	require.NoError(t, err)
	assert.Empty(t, opened)
	assert.Equal(t, order.StatusRefunded, o.Status())
	assert.Equal(t, payment.ClickCancelledAfterConfirm, a.State())
	assert.Equal(t, -5017, *a.ClickError())
}

// A claim renewed (or settled by another pass) between the question and
// the answer is left alone: nothing changes in this pass.
func TestClickCancels_ClaimChangedMeanwhileChangesNothing(t *testing.T) {
	f := newCancelsFixture(t)
	a, o := confirmedAttempt(), paidOrder()
	f.pending(a)
	f.merchant.EXPECT().PaymentStatus(gomock.Any(), paydocID).Return(ports.ClickPaymentStatus{PaymentID: paydocID, Status: -1}, nil)
	f.orders.EXPECT().GetForUpdate(gomock.Any(), orderID).Return(o, nil)
	f.clicks.EXPECT().ListByOrderForUpdate(gomock.Any(), orderID).Return([]*payment.ClickTransaction{a}, nil)
	f.claims.EXPECT().Settle(gomock.Any(), attemptID, claim.ClaimedAt, ports.ClickCancelConfirmed, now).Return(false, nil)

	_, err := f.check.Run(context.Background(), now)
	require.NoError(t, err)
	assert.Equal(t, order.StatusPaid, o.Status())
	assert.Equal(t, payment.ClickConfirmed, a.State())
}

func TestClickCancels_ClickSaysItStandsOpensADispute(t *testing.T) {
	f := newCancelsFixture(t)
	a := confirmedAttempt()
	f.pending(a)
	f.merchant.EXPECT().PaymentStatus(gomock.Any(), paydocID).Return(ports.ClickPaymentStatus{PaymentID: paydocID, Status: 2}, nil)
	f.claims.EXPECT().Settle(gomock.Any(), attemptID, claim.ClaimedAt, ports.ClickCancelStands, now).Return(true, nil)
	f.issues.EXPECT().Open(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, i *domrecon.Issue) (bool, error) {
		assert.Equal(t, domrecon.KindClickCancelDisputed, i.Kind())
		assert.Equal(t, "2100000001", i.Subject())
		assert.Equal(t, orderID, i.OrderID())
		return true, nil
	})
	unverified, err := domrecon.NewIssue(issueID, domrecon.KindClickCancelUnverified, "2100000001", orderID, "click", "2100000001", "d", now)
	require.NoError(t, err)
	f.issues.EXPECT().FindOpenForUpdate(gomock.Any(), domrecon.KindClickCancelUnverified, "2100000001").Return(unverified, nil)
	f.issues.EXPECT().Update(gomock.Any(), unverified).Return(nil)

	opened, err := f.check.Run(context.Background(), now)
	require.NoError(t, err)
	assert.Equal(t, map[domrecon.Kind]int{domrecon.KindClickCancelDisputed: 1}, opened)
	assert.Equal(t, domrecon.StatusResolved, unverified.Status())
	assert.Empty(t, unverified.ResolvedBy(), "the job, not a person")
}

func TestClickCancels_ClickUnreachableOrUndecidedIsUnverified(t *testing.T) {
	for name, answer := range map[string]struct {
		status ports.ClickPaymentStatus
		err    error
	}{
		"unreachable": {err: domain.ErrUnavailable},
		"processing":  {status: ports.ClickPaymentStatus{PaymentID: paydocID, Status: 1}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newCancelsFixture(t) // no transaction, no settlement
			f.pending(confirmedAttempt())
			f.merchant.EXPECT().PaymentStatus(gomock.Any(), paydocID).Return(answer.status, answer.err)
			f.issues.EXPECT().Open(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, i *domrecon.Issue) (bool, error) {
				assert.Equal(t, domrecon.KindClickCancelUnverified, i.Kind())
				return true, nil
			})
			f.claims.EXPECT().NoteAsked(gomock.Any(), attemptID, now).Return(nil)

			opened, err := f.check.Run(context.Background(), now)
			require.NoError(t, err, "recorded as an issue, not a failed pass")
			assert.Equal(t, map[domrecon.Kind]int{domrecon.KindClickCancelUnverified: 1}, opened)
			assert.Zero(t, f.tx.Runs())
		})
	}
}

func TestResolveIssue(t *testing.T) {
	ctrl := gomock.NewController(t)
	issues := mocks.NewMockReconciliationIssues(ctrl)
	uc := reconciliation.NewResolveIssue(testsupport.InlineTx{}, issues, testsupport.FixedClock(now))
	admin := user.Actor{ID: "45c48cce-2e2d-4fbd-8a1c-5b6d7e8f9a03", Role: user.RoleAdmin}

	_, err := uc.Handle(context.Background(), user.Actor{ID: admin.ID, Role: user.RoleCustomer}, issueID, "note")
	require.ErrorIs(t, err, user.ErrNotAllowed)

	open, err := domrecon.NewIssue(issueID, domrecon.KindClickPaidUnconfirmed, orderID, orderID, "click", "1", "d", now.Add(-time.Hour))
	require.NoError(t, err)
	issues.EXPECT().GetForUpdate(gomock.Any(), issueID).Return(open, nil)
	issues.EXPECT().Update(gomock.Any(), open).Return(nil)
	got, err := uc.Handle(context.Background(), admin, issueID, "reversed in the cabinet")
	require.NoError(t, err)
	assert.Equal(t, admin.ID, got.ResolvedBy())
	assert.Equal(t, now, got.ResolvedAt())

	issues.EXPECT().GetForUpdate(gomock.Any(), issueID).Return(open, nil)
	_, err = uc.Handle(context.Background(), admin, issueID, "again")
	require.ErrorIs(t, err, domrecon.ErrAlreadyResolved)
}
