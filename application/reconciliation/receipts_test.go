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
	domrecon "github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

const receiptID = "c9f0f895-fb98-4b9b-99cf-5ac0d5b4b1a2"

func TestReceiptFailed_OpensAnIssueAboutTheReceipt(t *testing.T) {
	ctrl := gomock.NewController(t)
	receipts, issues := mocks.NewMockReceiptChecks(ctrl), mocks.NewMockReconciliationIssues(ctrl)
	check := reconciliation.NewReceiptFailed(receipts, issues, testsupport.FixedID(issueID))

	receipts.EXPECT().FailedReceipts(gomock.Any(), gomock.Any()).DoAndReturn(
		func(_ context.Context, limit int) ([]ports.FailedReceipt, error) {
			assert.Positive(t, limit, "a pass reads a bounded batch")
			return []ports.FailedReceipt{{ID: receiptID, OrderID: orderID, Provider: "click", Kind: "sale",
				ProviderTransactionID: "4100000001", Reason: "submit_items: error -5017"}}, nil
		})
	var got *domrecon.Issue
	issues.EXPECT().Open(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, i *domrecon.Issue) (bool, error) {
		got = i
		return true, nil
	})

	opened, err := check.Run(context.Background(), now)
	require.NoError(t, err)
	assert.Equal(t, map[domrecon.Kind]int{domrecon.KindReceiptFailed: 1}, opened)
	require.NotNil(t, got)
	assert.Equal(t, domrecon.KindReceiptFailed, got.Kind())
	assert.Equal(t, receiptID, got.Subject())
	assert.Equal(t, orderID, got.OrderID())
	assert.Equal(t, "click", got.Provider())
	assert.Equal(t, "4100000001", got.ProviderTransactionID())
	assert.Contains(t, got.Detail(), "-5017")
	assert.Equal(t, now, got.DetectedAt())
}

// An issue that exists already (Open reports false) is not counted, and one
// receipt failing to open does not stop the next.
func TestReceiptFailed_CountsOnlyWhatItOpenedAndGoesOn(t *testing.T) {
	ctrl := gomock.NewController(t)
	receipts, issues := mocks.NewMockReceiptChecks(ctrl), mocks.NewMockReconciliationIssues(ctrl)
	check := reconciliation.NewReceiptFailed(receipts, issues, testsupport.FixedID(issueID))

	receipts.EXPECT().FailedReceipts(gomock.Any(), gomock.Any()).Return([]ports.FailedReceipt{
		{ID: "r1", OrderID: orderID, Provider: "payme", Kind: "sale"},
		{ID: "r2", OrderID: orderID, Provider: "payme", Kind: "refund"},
		{ID: "r3", OrderID: orderID, Provider: "payme", Kind: "sale"},
	}, nil)
	boom := errors.New("boom")
	gomock.InOrder(
		issues.EXPECT().Open(gomock.Any(), gomock.Any()).Return(false, boom),
		issues.EXPECT().Open(gomock.Any(), gomock.Any()).Return(false, nil),
		issues.EXPECT().Open(gomock.Any(), gomock.Any()).Return(true, nil),
	)

	opened, err := check.Run(context.Background(), now)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 1, opened[domrecon.KindReceiptFailed])
}

func TestReceiptMissing_AsksForOrdersPaidMoreThanAnHourAgo(t *testing.T) {
	ctrl := gomock.NewController(t)
	receipts, issues := mocks.NewMockReceiptChecks(ctrl), mocks.NewMockReconciliationIssues(ctrl)
	check := reconciliation.NewReceiptMissing(receipts, issues, testsupport.FixedID(issueID))

	paidAt := now.Add(-2 * time.Hour)
	receipts.EXPECT().UnreceiptedOrders(gomock.Any(), now.Add(-time.Hour), gomock.Any()).DoAndReturn(
		func(_ context.Context, _ time.Time, limit int) ([]ports.UnreceiptedOrder, error) {
			assert.Positive(t, limit, "a pass reads a bounded batch")
			return []ports.UnreceiptedOrder{{OrderID: orderID, PaidAt: paidAt, Provider: "payme", ProviderTransactionID: "6741"}}, nil
		})
	var got *domrecon.Issue
	issues.EXPECT().Open(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, i *domrecon.Issue) (bool, error) {
		got = i
		return true, nil
	})

	opened, err := check.Run(context.Background(), now)
	require.NoError(t, err)
	assert.Equal(t, map[domrecon.Kind]int{domrecon.KindReceiptMissing: 1}, opened)
	require.NotNil(t, got)
	assert.Equal(t, domrecon.KindReceiptMissing, got.Kind())
	assert.Equal(t, orderID, got.Subject())
	assert.Equal(t, orderID, got.OrderID())
	assert.Equal(t, "payme", got.Provider())
	assert.Equal(t, "6741", got.ProviderTransactionID())
}

func TestReceiptChecks_ReturnTheStoreError(t *testing.T) {
	ctrl := gomock.NewController(t)
	receipts, issues := mocks.NewMockReceiptChecks(ctrl), mocks.NewMockReconciliationIssues(ctrl)
	boom := errors.New("boom")
	receipts.EXPECT().FailedReceipts(gomock.Any(), gomock.Any()).Return(nil, boom)
	receipts.EXPECT().UnreceiptedOrders(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, boom)

	_, err := reconciliation.NewReceiptFailed(receipts, issues, testsupport.FixedID(issueID)).Run(context.Background(), now)
	require.ErrorIs(t, err, boom)
	_, err = reconciliation.NewReceiptMissing(receipts, issues, testsupport.FixedID(issueID)).Run(context.Background(), now)
	require.ErrorIs(t, err, boom)
}
