package payments_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

const receiptPaymentID = int64(4710103925)

var receiptNow = time.Date(2026, 1, 1, 7, 0, 0, 0, time.UTC)

type receiptMocks struct {
	outbox   *mocks.MockOutbox
	receipts *mocks.MockClickReceipts
	orders   *mocks.MockOrderRepository
	merchant *mocks.MockClickMerchant
}

// newReceiptWorker claims one receipt row with attempts earlier failures.
func newReceiptWorker(t *testing.T, attempts, maxTries int) (*payments.ClickReceiptWorker, receiptMocks) {
	ctrl := gomock.NewController(t)
	m := receiptMocks{mocks.NewMockOutbox(ctrl), mocks.NewMockClickReceipts(ctrl), mocks.NewMockOrderRepository(ctrl),
		mocks.NewMockClickMerchant(ctrl)}
	payload, err := json.Marshal(map[string]any{"order_id": paymeOrderID, "payment_id": receiptPaymentID})
	require.NoError(t, err)
	m.outbox.EXPECT().Claim(gomock.Any(), ports.OutboxClickReceipt, gomock.Any(), receiptNow, gomock.Any()).Return(ports.OutboxClaim{
		Token: "tok", Messages: []ports.ClaimedMessage{{OutboxMessage: ports.OutboxMessage{ID: "m1",
			Kind: ports.OutboxClickReceipt, AggregateID: paymeOrderID, Payload: payload}, Attempts: attempts}},
	}, nil)
	return payments.NewClickReceiptWorker(m.outbox, m.receipts, m.orders, m.merchant, testsupport.FixedClock(receiptNow),
		maxTries, fiscal.Principal{}), m
}

func TestClickReceiptWorker_SubmittedOnceIsNeverSubmittedAgain(t *testing.T) {
	w, m := newReceiptWorker(t, 1, 5)
	m.receipts.EXPECT().Get(gomock.Any(), receiptPaymentID).Return(ports.ClickReceiptState{OrderID: paymeOrderID,
		Status: fiscal.StatusPending, Submitted: true, Attempts: 1}, nil)
	// No SubmitFiscalItems: only the link is asked for.
	m.merchant.EXPECT().FiscalData(gomock.Any(), receiptPaymentID).Return(ports.ClickFiscalData{PaymentID: receiptPaymentID}, nil)
	m.receipts.EXPECT().RecordFailure(gomock.Any(), receiptPaymentID, gomock.Any(), false, receiptNow).Return(nil)
	m.outbox.EXPECT().MarkFailed(gomock.Any(), "tok", []ports.OutboxFailure{{ID: "m1", RetryAt: receiptNow.Add(2 * time.Second),
		Reason: "submitted; no receipt link yet"}}).Return(nil)

	n, err := w.Pass(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestClickReceiptWorker_ALinkClickHasAlreadyIsRecordedWithoutSubmitting(t *testing.T) {
	w, m := newReceiptWorker(t, 0, 5)
	link := "https://ofd.soliq.uz/epi?t=EZ1&r=1234&c=20260101120000&s=1"
	m.receipts.EXPECT().Get(gomock.Any(), receiptPaymentID).Return(ports.ClickReceiptState{Status: fiscal.StatusPending}, nil)
	m.merchant.EXPECT().FiscalData(gomock.Any(), receiptPaymentID).Return(ports.ClickFiscalData{QRCodeURL: link}, nil)
	m.receipts.EXPECT().MarkIssued(gomock.Any(), receiptPaymentID, fiscal.ReceiptData{QRCodeURL: link,
		IssuedAt: time.Date(2026, 1, 1, 7, 0, 0, 0, time.UTC)}, receiptNow).Return(nil)
	m.outbox.EXPECT().MarkDone(gomock.Any(), []string{"m1"}, receiptNow).Return(nil)

	_, err := w.Pass(context.Background())
	require.NoError(t, err)
}

func TestClickReceiptWorker_LastTryFailsTheReceipt(t *testing.T) {
	w, m := newReceiptWorker(t, 2, 3)
	m.receipts.EXPECT().Get(gomock.Any(), receiptPaymentID).Return(ports.ClickReceiptState{Status: fiscal.StatusPending}, nil)
	m.merchant.EXPECT().FiscalData(gomock.Any(), receiptPaymentID).Return(ports.ClickFiscalData{}, errors.New("click down"))
	m.receipts.EXPECT().RecordFailure(gomock.Any(), receiptPaymentID, gomock.Any(), true, receiptNow).Return(nil)
	m.outbox.EXPECT().MarkDone(gomock.Any(), []string{"m1"}, receiptNow).Return(nil)

	_, err := w.Pass(context.Background())
	require.NoError(t, err)
}

func TestClickReceiptWorker_LinesWithoutCodesFailAtOnce(t *testing.T) {
	w, m := newReceiptWorker(t, 0, 20)
	m.receipts.EXPECT().Get(gomock.Any(), receiptPaymentID).Return(ports.ClickReceiptState{OrderID: paymeOrderID,
		Status: fiscal.StatusPending}, nil)
	m.merchant.EXPECT().FiscalData(gomock.Any(), receiptPaymentID).Return(ports.ClickFiscalData{}, nil)
	m.orders.EXPECT().Get(gomock.Any(), paymeOrderID).Return(twoSellerOrder(t, false), nil) // a line without package code
	m.receipts.EXPECT().RecordFailure(gomock.Any(), receiptPaymentID, gomock.Any(), true, receiptNow).Return(nil)
	m.outbox.EXPECT().MarkDone(gomock.Any(), []string{"m1"}, receiptNow).Return(nil)

	_, err := w.Pass(context.Background())
	require.NoError(t, err)
}

func TestClickReceiptWorker_BackoffDoublesUpToFiveMinutes(t *testing.T) {
	for tries, want := range map[int]time.Duration{0: time.Second, 3: 8 * time.Second, 8: 256 * time.Second, 9: 5 * time.Minute, 15: 5 * time.Minute} {
		w, m := newReceiptWorker(t, tries, 100)
		m.receipts.EXPECT().Get(gomock.Any(), receiptPaymentID).Return(ports.ClickReceiptState{Status: fiscal.StatusPending, Submitted: true}, nil)
		m.merchant.EXPECT().FiscalData(gomock.Any(), receiptPaymentID).Return(ports.ClickFiscalData{}, nil)
		m.receipts.EXPECT().RecordFailure(gomock.Any(), receiptPaymentID, gomock.Any(), false, receiptNow).Return(nil)
		m.outbox.EXPECT().MarkFailed(gomock.Any(), "tok", gomock.Any()).DoAndReturn(
			func(_ context.Context, _ string, f []ports.OutboxFailure) error {
				assert.Equal(t, receiptNow.Add(want), f[0].RetryAt, "after try %d", tries+1)
				return nil
			})
		_, err := w.Pass(context.Background())
		require.NoError(t, err)
	}
}

// A confirming Complete with receipts on records the pending receipt and
// its outbox row inside the Complete's transaction, and calls nobody.
func TestClickComplete_QueuesTheReceiptInItsTransaction(t *testing.T) {
	f := newClickCompleteFixture(t)
	ctrl := gomock.NewController(t)
	receipts, outbox := mocks.NewMockClickReceipts(ctrl), mocks.NewMockOutbox(ctrl)
	f.uc.WithReceipts(receipts, outbox, testsupport.FixedID("5d1f4c3b-2a19-4e8d-9c7b-6a5f4e3d2c1b"))
	o, tx := clickOrder(clickOrderID, order.StatusPendingPayment), clickAttempt(clickOrderID, payment.ClickPrepared)
	f.stored(o, tx)
	f.settlements.EXPECT().Record(gomock.Any(), clickOrderID, payment.ProviderClick, clickAttemptID).Return(nil)
	f.clicks.EXPECT().Update(gomock.Any(), tx).Return(nil)
	f.orders.EXPECT().Update(gomock.Any(), o).Return(nil)
	f.clicks.EXPECT().ListByOrderForUpdate(gomock.Any(), clickOrderID).Return(nil, nil)
	inTx := func(ctx context.Context) { assert.True(t, testsupport.InTx(ctx), "inside the Complete's transaction") }
	receipts.EXPECT().AddPending(gomock.Any(), clickOrderID, tx.ClickPaydocID(), clickNow).DoAndReturn(
		func(ctx context.Context, _ string, _ int64, _ time.Time) error { inTx(ctx); return nil })
	outbox.EXPECT().Append(gomock.Any(), gomock.Any()).DoAndReturn(func(ctx context.Context, m ports.OutboxMessage) error {
		inTx(ctx)
		assert.Equal(t, ports.OutboxClickReceipt, m.Kind)
		assert.Equal(t, clickOrderID, m.AggregateID)
		assert.JSONEq(t, fmt.Sprintf(`{"order_id":%q,"payment_id":%d}`, clickOrderID, tx.ClickPaydocID()), string(m.Payload))
		return nil
	})

	_, err := f.uc.Handle(context.Background(), clickCompleteInput(0))
	require.NoError(t, err)
	assert.False(t, f.tx.RolledBack())
}
