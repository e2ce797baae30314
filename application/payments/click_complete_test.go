package payments_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

type clickCompleteFixture struct {
	orders      *mocks.MockOrderRepository
	clicks      *mocks.MockClickRepository
	settlements *mocks.MockSettlements
	claims      *mocks.MockClickCancelClaims
	issues      *mocks.MockReconciliationIssues
	tx          *testsupport.RecordingTx
	uc          *payments.ClickComplete
}

func newClickCompleteFixture(t *testing.T) clickCompleteFixture {
	return newClickCompleteFixtureVerifiable(t, true)
}

// newClickCompleteFixtureVerifiable: verifiable says whether Click's
// Merchant API is configured.
func newClickCompleteFixtureVerifiable(t *testing.T, verifiable bool) clickCompleteFixture {
	ctrl := gomock.NewController(t)
	f := clickCompleteFixture{
		orders: mocks.NewMockOrderRepository(ctrl), clicks: mocks.NewMockClickRepository(ctrl),
		settlements: mocks.NewMockSettlements(ctrl), claims: mocks.NewMockClickCancelClaims(ctrl),
		issues: mocks.NewMockReconciliationIssues(ctrl), tx: &testsupport.RecordingTx{},
	}
	f.uc = payments.NewClickComplete(f.tx, f.orders, f.clicks, f.settlements, payments.ClickCancelVerification{
		Claims: f.claims, Issues: f.issues, IDs: testsupport.FixedID(clickIssueID), Verifiable: verifiable,
	}, testsupport.FixedClock(clickNow))
	return f
}

const clickIssueID = "b6d767d2-f8ed-4d21-a44d-0e5886ecf5e4"

// stored makes the order and the attempt the use case finds, locked.
func (f clickCompleteFixture) stored(o *order.Order, t *payment.ClickTransaction) {
	f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(o, nil)
	f.clicks.EXPECT().GetByPrepareIDForUpdate(gomock.Any(), clickPrepID).Return(t, nil)
}

func clickCompleteInput(clickError int) payments.ClickCompleteInput {
	return payments.ClickCompleteInput{ClickTransID: clickTransID, MerchantTransID: clickOrderID, PrepareID: clickPrepID,
		Amount: clickTotal.Tiyin(), ClickError: clickError}
}

func TestClickComplete_ConfirmsAndMarksTheOrderPaidTogether(t *testing.T) {
	f := newClickCompleteFixture(t)
	o, tx := clickOrder(clickOrderID, order.StatusPendingPayment), clickAttempt(clickOrderID, payment.ClickPrepared)
	f.stored(o, tx)
	// Another attempt of the same order, prepared too: it waits for nothing now.
	other := payment.RestoreClickTransaction("70efdf2e-c9b0-4607-9795-c4f1a2b3c4d5", clickPrepID+1, clickTransID+1, 3_100_000_002,
		12345, clickOrderID, clickTotal, "50000.00", payment.ClickPrepared, nil, clickEarlier, time.Time{}, time.Time{})
	f.settlements.EXPECT().Record(gomock.Any(), clickOrderID, payment.ProviderClick, clickAttemptID).Return(nil)
	f.clicks.EXPECT().Update(gomock.Any(), tx).DoAndReturn(func(_ context.Context, tx *payment.ClickTransaction) error {
		assert.Equal(t, payment.ClickConfirmed, tx.State())
		assert.Equal(t, clickNow, tx.ConfirmedAt())
		return nil
	})
	f.orders.EXPECT().Update(gomock.Any(), o).DoAndReturn(func(_ context.Context, o *order.Order) error {
		assert.Equal(t, order.StatusPaid, o.Status())
		assert.Equal(t, clickNow, o.PaidAt())
		return nil
	})
	// The list, read after this attempt was saved, shows it confirmed.
	confirmed := clickAttempt(clickOrderID, payment.ClickConfirmed)
	f.clicks.EXPECT().ListByOrderForUpdate(gomock.Any(), clickOrderID).Return([]*payment.ClickTransaction{confirmed, other}, nil)
	f.clicks.EXPECT().Update(gomock.Any(), other).Return(nil)

	res, err := f.uc.Handle(context.Background(), clickCompleteInput(0))
	require.NoError(t, err)
	assert.False(t, f.tx.RolledBack())
	assert.Equal(t, payments.ClickCompleteResult{AttemptID: clickAttemptID, ConfirmID: clickPrepID}, res)
	assert.Equal(t, payment.ClickCancelled, other.State(), "the other prepared attempt is ended")
	assert.Nil(t, other.ClickError())
	assert.Equal(t, payment.ClickConfirmed, confirmed.State())
}

func TestClickComplete_RepeatedSuccessAnswersAlreadyPaidWithTheStoredConfirmID(t *testing.T) {
	f := newClickCompleteFixture(t)
	f.stored(clickOrder(clickOrderID, order.StatusPaid), clickAttempt(clickOrderID, payment.ClickConfirmed))
	// No writes.

	res, err := f.uc.Handle(context.Background(), clickCompleteInput(0))
	assert.ErrorIs(t, err, payment.ErrAlreadyPaid)
	assert.Equal(t, clickPrepID, res.ConfirmID)
}

func TestClickComplete_OrderPaidOtherwiseIsAlreadyPaidWithoutConfirmID(t *testing.T) {
	// Another attempt or a Payme transaction paid the order first.
	f := newClickCompleteFixture(t)
	f.stored(clickOrder(clickOrderID, order.StatusPaid), clickAttempt(clickOrderID, payment.ClickPrepared))

	res, err := f.uc.Handle(context.Background(), clickCompleteInput(0))
	assert.ErrorIs(t, err, payment.ErrAlreadyPaid)
	assert.Zero(t, res.ConfirmID)
}

func TestClickComplete_SettlementTakenByTheOtherProviderIsAlreadyPaidAndRollsBack(t *testing.T) {
	f := newClickCompleteFixture(t)
	f.stored(clickOrder(clickOrderID, order.StatusPendingPayment), clickAttempt(clickOrderID, payment.ClickPrepared))
	f.settlements.EXPECT().Record(gomock.Any(), clickOrderID, payment.ProviderClick, clickAttemptID).Return(payment.ErrAlreadyPaid)

	res, err := f.uc.Handle(context.Background(), clickCompleteInput(0))
	assert.ErrorIs(t, err, payment.ErrAlreadyPaid)
	assert.Zero(t, res.ConfirmID)
	assert.True(t, f.tx.RolledBack())
}

func TestClickComplete_UnknownOrder(t *testing.T) {
	t.Run("not a uuid", func(t *testing.T) {
		f := newClickCompleteFixture(t)
		in := clickCompleteInput(0)
		in.MerchantTransID = "1001"
		_, err := f.uc.Handle(context.Background(), in)
		assert.ErrorIs(t, err, order.ErrNotFound)
	})
	t.Run("not stored", func(t *testing.T) {
		f := newClickCompleteFixture(t)
		f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(nil, order.ErrNotFound)
		_, err := f.uc.Handle(context.Background(), clickCompleteInput(0))
		assert.ErrorIs(t, err, order.ErrNotFound)
	})
}

func TestClickComplete_UnknownOrMismatchedPrepareID(t *testing.T) {
	t.Run("unknown", func(t *testing.T) {
		f := newClickCompleteFixture(t)
		f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
		f.clicks.EXPECT().GetByPrepareIDForUpdate(gomock.Any(), clickPrepID).Return(nil, payment.ErrNotFound)
		_, err := f.uc.Handle(context.Background(), clickCompleteInput(0))
		assert.ErrorIs(t, err, payment.ErrNotFound)
	})
	t.Run("another click_trans_id", func(t *testing.T) {
		f := newClickCompleteFixture(t)
		f.stored(clickOrder(clickOrderID, order.StatusPendingPayment), clickAttempt(clickOrderID, payment.ClickPrepared))
		in := clickCompleteInput(0)
		in.ClickTransID++
		_, err := f.uc.Handle(context.Background(), in)
		assert.ErrorIs(t, err, payments.ErrClickAttemptMismatch)
		assert.ErrorIs(t, err, payment.ErrNotFound)
	})
	t.Run("another order", func(t *testing.T) {
		f := newClickCompleteFixture(t)
		f.stored(clickOrder(clickOrderID, order.StatusPendingPayment), clickAttempt(clickOtherID, payment.ClickPrepared))
		_, err := f.uc.Handle(context.Background(), clickCompleteInput(0))
		assert.ErrorIs(t, err, payments.ErrClickAttemptMismatch)
	})
	t.Run("mismatch comes before already paid", func(t *testing.T) {
		f := newClickCompleteFixture(t)
		f.stored(clickOrder(clickOrderID, order.StatusPaid), clickAttempt(clickOtherID, payment.ClickConfirmed))
		_, err := f.uc.Handle(context.Background(), clickCompleteInput(0))
		assert.ErrorIs(t, err, payments.ErrClickAttemptMismatch)
		assert.NotErrorIs(t, err, payment.ErrAlreadyPaid)
	})
}

func TestClickComplete_SuccessChecksInClicksOrder(t *testing.T) {
	cases := []struct {
		name    string
		status  order.Status
		attempt payment.ClickState
		amount  int64
		want    error
	}{
		{"order shipped", order.StatusShipped, payment.ClickPrepared, clickTotal.Tiyin(), payment.ErrAlreadyPaid},
		{"paid comes before amount", order.StatusPaid, payment.ClickConfirmed, 1, payment.ErrAlreadyPaid},
		{"amount differs", order.StatusPendingPayment, payment.ClickPrepared, clickTotal.Tiyin() - 1, payment.ErrAmountMismatch},
		{"amount zero", order.StatusPendingPayment, payment.ClickPrepared, 0, payment.ErrAmountMismatch},
		{"amount negative", order.StatusPendingPayment, payment.ClickPrepared, -1, payment.ErrAmountMismatch},
		{"amount comes before cancelled", order.StatusPendingPayment, payment.ClickCancelled, 1, payment.ErrAmountMismatch},
		{"attempt cancelled", order.StatusPendingPayment, payment.ClickCancelled, clickTotal.Tiyin(), payment.ErrClickCancelled},
		{"attempt cancelled after confirm", order.StatusRefunded, payment.ClickCancelledAfterConfirm, clickTotal.Tiyin(), payment.ErrClickCancelled},
		{"order cancelled with the attempt still prepared", order.StatusCancelled, payment.ClickPrepared, clickTotal.Tiyin(), payment.ErrClickCancelled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newClickCompleteFixture(t)
			f.stored(clickOrder(clickOrderID, tc.status), clickAttempt(clickOrderID, tc.attempt))
			in := clickCompleteInput(0)
			in.Amount = tc.amount

			_, err := f.uc.Handle(context.Background(), in)
			assert.ErrorIs(t, err, tc.want)
			for _, other := range []error{payment.ErrAlreadyPaid, payment.ErrAmountMismatch, payment.ErrClickCancelled} {
				if !errors.Is(other, tc.want) {
					assert.NotErrorIs(t, err, other, "one answer only")
				}
			}
		})
	}
}

func TestClickComplete_ClickErrorCancelsAPreparedAttempt(t *testing.T) {
	// Also when the amount is off or the order was paid by Payme meanwhile:
	// Click took no money, so the attempt simply ends.
	for _, tc := range []struct {
		name   string
		status order.Status
		amount int64
	}{
		{"plain", order.StatusPendingPayment, clickTotal.Tiyin()},
		{"amount off", order.StatusPendingPayment, 1},
		{"order paid by payme", order.StatusPaid, clickTotal.Tiyin()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newClickCompleteFixture(t)
			o, tx := clickOrder(clickOrderID, tc.status), clickAttempt(clickOrderID, payment.ClickPrepared)
			f.stored(o, tx)
			f.clicks.EXPECT().Update(gomock.Any(), tx).DoAndReturn(func(_ context.Context, tx *payment.ClickTransaction) error {
				assert.Equal(t, payment.ClickCancelled, tx.State())
				assert.Equal(t, clickIntPtr(-5017), tx.ClickError())
				assert.Equal(t, clickNow, tx.CancelledAt())
				return nil
			})
			// The order is untouched and no stock moves.
			in := clickCompleteInput(-5017)
			in.Amount = tc.amount

			res, err := f.uc.Handle(context.Background(), in)
			assert.ErrorIs(t, err, payment.ErrClickCancelled)
			assert.False(t, f.tx.RolledBack(), "the cancel is committed")
			assert.Equal(t, payments.ClickCompleteResult{AttemptID: clickAttemptID}, res)
			assert.Equal(t, tc.status, o.Status())
		})
	}
}

func TestClickComplete_ClickErrorOnACancelledAttemptChangesNothing(t *testing.T) {
	for _, state := range []payment.ClickState{payment.ClickCancelled, payment.ClickCancelledAfterConfirm} {
		f := newClickCompleteFixture(t)
		status := order.StatusPendingPayment
		if state == payment.ClickCancelledAfterConfirm {
			status = order.StatusRefunded
		}
		f.stored(clickOrder(clickOrderID, status), clickAttempt(clickOrderID, state))

		res, err := f.uc.Handle(context.Background(), clickCompleteInput(-1))
		assert.ErrorIs(t, err, payment.ErrClickCancelled)
		assert.Equal(t, payments.ClickCompleteResult{AttemptID: clickAttemptID}, res, "no second alert, no second refund")
	}
}

// The replayed-Complete attack: Click's signature does not cover error, so a
// cancel of a confirmed attempt refunds nothing. The order stays paid and the
// attempt confirmed; a claim waits for Click's Merchant API.
func TestClickComplete_ClickErrorOnAConfirmedAttemptOnlyRecordsAClaim(t *testing.T) {
	for _, status := range []order.Status{order.StatusPaid, order.StatusShipped} {
		t.Run(string(status), func(t *testing.T) {
			f := newClickCompleteFixture(t) // no order or attempt update, no stock release, no issue
			o, tx := clickOrder(clickOrderID, status), clickAttempt(clickOrderID, payment.ClickConfirmed)
			f.stored(o, tx)
			f.claims.EXPECT().Record(gomock.Any(), ports.ClickCancelClaim{AttemptID: clickAttemptID, OrderID: clickOrderID,
				ClickError: -5017, ClaimedAt: clickNow}).Return(nil)

			res, err := f.uc.Handle(context.Background(), clickCompleteInput(-5017))
			assert.ErrorIs(t, err, payment.ErrClickCancelled, "answered -9 as Click expects")
			assert.False(t, f.tx.RolledBack())
			assert.Equal(t, payments.ClickCompleteResult{AttemptID: clickAttemptID, CancelledAfterConfirm: true}, res)
			assert.Equal(t, status, o.Status())
			assert.Equal(t, payment.ClickConfirmed, tx.State())
		})
	}
}

// With CLICK_API_URL off nobody can ask Click: a click_cancel_unverified
// issue opens at once, in the same transaction.
func TestClickComplete_ClickErrorOnAConfirmedAttemptWithoutMerchantAPIOpensUnverified(t *testing.T) {
	f := newClickCompleteFixtureVerifiable(t, false)
	o, tx := clickOrder(clickOrderID, order.StatusPaid), clickAttempt(clickOrderID, payment.ClickConfirmed)
	f.stored(o, tx)
	f.claims.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil)
	f.issues.EXPECT().Open(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, i *reconciliation.Issue) (bool, error) {
		assert.Equal(t, clickIssueID, i.ID())
		assert.Equal(t, reconciliation.KindClickCancelUnverified, i.Kind())
		assert.Equal(t, "2100000001", i.Subject())
		assert.Equal(t, "2100000001", i.ProviderTransactionID())
		assert.Equal(t, "click", i.Provider())
		assert.Equal(t, clickOrderID, i.OrderID())
		assert.Equal(t, clickNow, i.DetectedAt())
		return true, nil
	})

	res, err := f.uc.Handle(context.Background(), clickCompleteInput(-1))
	assert.ErrorIs(t, err, payment.ErrClickCancelled)
	assert.Equal(t, payments.ClickCompleteResult{AttemptID: clickAttemptID, CancelledAfterConfirm: true, CancelUnverified: true}, res)
	assert.Equal(t, order.StatusPaid, o.Status())
}

// A cancel claim whose write fails is rolled back: the result must not say
// one was recorded (the edge would count and log it instead of the error).
func TestClickComplete_CancelClaimThatRollsBackReportsNothing(t *testing.T) {
	errClickDB := errors.New("connection reset")
	f := newClickCompleteFixture(t)
	f.stored(clickOrder(clickOrderID, order.StatusPaid), clickAttempt(clickOrderID, payment.ClickConfirmed))
	f.claims.EXPECT().Record(gomock.Any(), gomock.Any()).Return(errClickDB)

	res, err := f.uc.Handle(context.Background(), clickCompleteInput(-5017))
	require.ErrorIs(t, err, errClickDB)
	assert.NotErrorIs(t, err, payment.ErrClickCancelled, "an internal failure (-7), not Click's -9")
	assert.True(t, f.tx.RolledBack())
	assert.Equal(t, payments.ClickCompleteResult{AttemptID: clickAttemptID}, res)
}

func TestClickComplete_FailuresAreInternalAndRollBack(t *testing.T) {
	boom := errors.New("connection reset")
	protocol := []error{order.ErrNotFound, payment.ErrNotFound, payment.ErrAlreadyPaid, payment.ErrAmountMismatch, payment.ErrClickCancelled}
	pending := func() *order.Order { return clickOrder(clickOrderID, order.StatusPendingPayment) }
	prepared := func() *payment.ClickTransaction { return clickAttempt(clickOrderID, payment.ClickPrepared) }
	steps := map[string]struct {
		clickError int
		setup      func(f clickCompleteFixture)
	}{
		"lock order": {0, func(f clickCompleteFixture) {
			f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(nil, boom)
		}},
		"lock attempt": {0, func(f clickCompleteFixture) {
			f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(pending(), nil)
			f.clicks.EXPECT().GetByPrepareIDForUpdate(gomock.Any(), clickPrepID).Return(nil, boom)
		}},
		"settle": {0, func(f clickCompleteFixture) {
			f.stored(pending(), prepared())
			f.settlements.EXPECT().Record(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(boom)
		}},
		"save attempt": {0, func(f clickCompleteFixture) {
			f.stored(pending(), prepared())
			f.settlements.EXPECT().Record(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(nil)
			f.clicks.EXPECT().Update(gomock.Any(), gomock.Any()).Return(boom)
		}},
		"save order": {0, func(f clickCompleteFixture) {
			f.stored(pending(), prepared())
			f.settlements.EXPECT().Record(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(nil)
			f.clicks.EXPECT().Update(gomock.Any(), gomock.Any()).Return(nil)
			f.orders.EXPECT().Update(gomock.Any(), gomock.Any()).Return(boom)
		}},
		"save cancel": {-1, func(f clickCompleteFixture) {
			f.stored(pending(), prepared())
			f.clicks.EXPECT().Update(gomock.Any(), gomock.Any()).Return(boom)
		}},
		"record cancel claim": {-1, func(f clickCompleteFixture) {
			f.stored(clickOrder(clickOrderID, order.StatusPaid), clickAttempt(clickOrderID, payment.ClickConfirmed))
			f.claims.EXPECT().Record(gomock.Any(), gomock.Any()).Return(boom)
		}},
	}
	for name, step := range steps {
		t.Run(name, func(t *testing.T) {
			f := newClickCompleteFixture(t)
			step.setup(f)
			_, err := f.uc.Handle(context.Background(), clickCompleteInput(step.clickError))
			require.ErrorIs(t, err, boom)
			for _, p := range protocol {
				assert.NotErrorIs(t, err, p)
			}
			assert.True(t, f.tx.RolledBack())
		})
	}
}
