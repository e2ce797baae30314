package payments_test

import (
	"context"
	"errors"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

// inTxEvent expects one event of orderID in status want, recorded inside
// the webhook's transaction.
func inTxEvent(events *mocks.MockOrderEvents, orderID string, want order.Status) *gomock.Call {
	return events.EXPECT().Record(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, o *order.Order) error {
		if !testsupport.InTx(ctx) || o.ID() != orderID || o.Status() != want {
			return errors.New("event of order " + o.ID() + " in status " + string(o.Status()) + " outside the expected transaction")
		}
		return nil
	})
}

func TestPaymePerform_RecordsPaid(t *testing.T) {
	m := newPaymeMocks(t)
	events := mocks.NewMockOrderEvents(gomock.NewController(t))
	uc := payments.NewPaymePerformTransaction(m.tx, m.orders, m.payme, m.clicks, m.settlements, m.clock).WithEvents(events)
	o, tx := m.expectLocked(order.StatusPendingPayment, payment.PaymeCreated, paymeFresh)
	m.settlements.EXPECT().Record(paymeAny, paymeOrderID, payment.ProviderPayme, paymeTxID).Return(nil)
	gomock.InOrder(
		m.orders.EXPECT().Update(paymeAny, o).Return(nil),
		inTxEvent(events, paymeOrderID, order.StatusPaid),
	)
	m.payme.EXPECT().Update(paymeAny, tx).Return(nil)
	m.clicks.EXPECT().ListByOrderForUpdate(paymeAny, paymeOrderID).Return(nil, nil)

	_, err := uc.Handle(context.Background(), paymeID)
	require.NoError(t, err)
	assert.True(t, m.tx.Committed())
}

func TestPaymePerform_ReplayRecordsNothing(t *testing.T) {
	m := newPaymeMocks(t)
	events := mocks.NewMockOrderEvents(gomock.NewController(t)) // no Record
	uc := payments.NewPaymePerformTransaction(m.tx, m.orders, m.payme, m.clicks, m.settlements, m.clock).WithEvents(events)
	m.expectLocked(order.StatusPaid, payment.PaymePerformed, paymeFresh)
	res, err := uc.Handle(context.Background(), paymeID)
	require.NoError(t, err)
	assert.False(t, res.Changed)
}

func TestPaymeCancel_RefundRecordsRefunded(t *testing.T) {
	m := newPaymeMocks(t)
	events := mocks.NewMockOrderEvents(gomock.NewController(t))
	uc := payments.NewPaymeCancelTransaction(m.tx, m.orders, m.payme, m.catalog, m.clock).WithEvents(events)
	o, tx := m.expectLocked(order.StatusPaid, payment.PaymePerformed, paymeFresh)
	gomock.InOrder(
		m.orders.EXPECT().Update(paymeAny, o).Return(nil),
		inTxEvent(events, paymeOrderID, order.StatusRefunded),
		m.payme.EXPECT().Update(paymeAny, tx).Return(nil),
		m.catalog.EXPECT().Release(paymeAny, paymeOrderID, user.Actor{}).Return(nil),
	)
	_, err := uc.Handle(context.Background(), paymeID, payment.ReasonRefund)
	require.NoError(t, err)
}

// Cancelling before perform leaves the order pending_payment: no event.
func TestPaymeCancel_BeforePerformRecordsNothing(t *testing.T) {
	m := newPaymeMocks(t)
	events := mocks.NewMockOrderEvents(gomock.NewController(t)) // no Record
	uc := payments.NewPaymeCancelTransaction(m.tx, m.orders, m.payme, m.catalog, m.clock).WithEvents(events)
	_, tx := m.expectLocked(order.StatusPendingPayment, payment.PaymeCreated, paymeFresh)
	m.payme.EXPECT().Update(paymeAny, tx).Return(nil)
	_, err := uc.Handle(context.Background(), paymeID, payment.ReasonTransactionFailed)
	require.NoError(t, err)
}

func TestClickComplete_ConfirmRecordsPaid(t *testing.T) {
	f := newClickCompleteFixture(t)
	events := mocks.NewMockOrderEvents(gomock.NewController(t))
	uc := payments.NewClickComplete(f.tx, f.orders, f.clicks, f.settlements, payments.ClickCancelVerification{
		Claims: f.claims, Issues: f.issues, IDs: testsupport.FixedID(clickIssueID), Verifiable: true,
	}, testsupport.FixedClock(clickNow)).
		WithEvents(events)
	o, tx := clickOrder(clickOrderID, order.StatusPendingPayment), clickAttempt(clickOrderID, payment.ClickPrepared)
	f.stored(o, tx)
	f.settlements.EXPECT().Record(gomock.Any(), clickOrderID, payment.ProviderClick, clickAttemptID).Return(nil)
	f.clicks.EXPECT().Update(gomock.Any(), tx).Return(nil)
	gomock.InOrder(
		f.orders.EXPECT().Update(gomock.Any(), o).Return(nil),
		inTxEvent(events, clickOrderID, order.StatusPaid),
	)
	f.clicks.EXPECT().ListByOrderForUpdate(gomock.Any(), clickOrderID).Return(nil, nil)

	_, err := uc.Handle(context.Background(), clickCompleteInput(0))
	require.NoError(t, err)
	assert.False(t, f.tx.RolledBack())
}

// A cancel of a confirmed payment only records a claim (the reconciliation
// job refunds once Click confirms it, and records refunded then): no event.
func TestClickComplete_CancelAfterConfirmRecordsNothing(t *testing.T) {
	f := newClickCompleteFixture(t)
	events := mocks.NewMockOrderEvents(gomock.NewController(t)) // no Record
	uc := payments.NewClickComplete(f.tx, f.orders, f.clicks, f.settlements, payments.ClickCancelVerification{
		Claims: f.claims, Issues: f.issues, IDs: testsupport.FixedID(clickIssueID), Verifiable: true,
	}, testsupport.FixedClock(clickNow)).
		WithEvents(events)
	o, tx := clickOrder(clickOrderID, order.StatusPaid), clickAttempt(clickOrderID, payment.ClickConfirmed)
	f.stored(o, tx)
	f.claims.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil)
	_, err := uc.Handle(context.Background(), clickCompleteInput(-5017))
	require.ErrorIs(t, err, payment.ErrClickCancelled)
	assert.Equal(t, order.StatusPaid, o.Status())
}

// A Click cancel of an attempt never confirmed leaves the order as it is.
func TestClickComplete_CancelOfAPreparedAttemptRecordsNothing(t *testing.T) {
	f := newClickCompleteFixture(t)
	events := mocks.NewMockOrderEvents(gomock.NewController(t)) // no Record
	uc := payments.NewClickComplete(f.tx, f.orders, f.clicks, f.settlements, payments.ClickCancelVerification{
		Claims: f.claims, Issues: f.issues, IDs: testsupport.FixedID(clickIssueID), Verifiable: true,
	}, testsupport.FixedClock(clickNow)).
		WithEvents(events)
	o, tx := clickOrder(clickOrderID, order.StatusPendingPayment), clickAttempt(clickOrderID, payment.ClickPrepared)
	f.stored(o, tx)
	f.clicks.EXPECT().Update(gomock.Any(), tx).Return(nil)
	_, err := uc.Handle(context.Background(), clickCompleteInput(-5017))
	require.ErrorIs(t, err, payment.ErrClickCancelled)
}
