package postgres_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

// paidOrder stores an order paid at paidAt, without a settlement (settle
// adds one).
func paidOrder(t *testing.T, db *sqlx.DB, paidAt time.Time) *order.Order {
	t.Helper()
	o := newOrder(t, db, someUser(t, db).ID(), t0.Add(-time.Minute))
	settle(t, db, o, order.StatusPaid, paidAt)
	return o
}

func settleBy(t *testing.T, db *sqlx.DB, orderID, provider, txID string) {
	t.Helper()
	_, err := db.ExecContext(ctx(t), `INSERT INTO order_settlements (order_id, provider, provider_tx_id) VALUES ($1, $2, $3)`,
		orderID, provider, txID)
	require.NoError(t, err)
}

func addReceipt(t *testing.T, db *sqlx.DB, orderID, provider, kind, status, ref string, at time.Time) string {
	t.Helper()
	var id string
	require.NoError(t, db.GetContext(ctx(t), &id, `INSERT INTO fiscal_receipts
			(order_id, provider, kind, status, provider_ref, last_error, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7, $7) RETURNING id`,
		orderID, provider, kind, status, ref, map[bool]string{true: "gave up after 5 tries"}[status == "failed"], at))
	return id
}

func TestReceiptChecks_FailedReceiptsNotYetReported(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewReconciliationStore(db)

	byClick := paidOrder(t, db, t0)
	attempt := newClick(t, byClick, 41)
	require.NoError(t, postgres.NewClickRepo(db).Insert(ctx(t), attempt))
	clickFailed := addReceipt(t, db, byClick.ID(), "click", "sale", "failed", strconv.FormatInt(attempt.ClickPaydocID(), 10), t0)

	byPayme := paidOrder(t, db, t0)
	addReceipt(t, db, byPayme.ID(), "payme", "sale", "issued", "payme-sale-1", t0)
	paymeFailed := addReceipt(t, db, byPayme.ID(), "payme", "refund", "failed", "payme-sale-1", t0.Add(time.Minute))
	addReceipt(t, db, paidOrder(t, db, t0).ID(), "click", "sale", "pending", "3100000999", t0)

	got, err := store.FailedReceipts(ctx(t), 10)
	require.NoError(t, err)
	require.Len(t, got, 2, "only failed receipts")
	assert.Equal(t, ports.FailedReceipt{ID: clickFailed, OrderID: byClick.ID(), Provider: "click", Kind: "sale",
		ProviderTransactionID: "41", Reason: "gave up after 5 tries"}, got[0], "a Click receipt names the attempt's click_trans_id")
	assert.Equal(t, paymeFailed, got[1].ID)
	assert.Equal(t, "payme-sale-1", got[1].ProviderTransactionID)
	assert.Equal(t, "refund", got[1].Kind)

	got, err = store.FailedReceipts(ctx(t), 1)
	require.NoError(t, err)
	require.Len(t, got, 1, "the limit bounds the batch")
	assert.Equal(t, clickFailed, got[0].ID, "failed longest ago first")

	ok, err := store.Open(ctx(t), newIssue(t, reconciliation.KindReceiptFailed, clickFailed, byClick.ID(), t0))
	require.NoError(t, err)
	require.True(t, ok)
	// An issue of another kind about the same subject does not count.
	ok, err = store.Open(ctx(t), newIssue(t, reconciliation.KindReceiptMissing, paymeFailed, byPayme.ID(), t0))
	require.NoError(t, err)
	require.True(t, ok)
	got, err = store.FailedReceipts(ctx(t), 10)
	require.NoError(t, err)
	require.Len(t, got, 1, "a reported receipt is not listed again")
	assert.Equal(t, paymeFailed, got[0].ID)
}

func TestReceiptChecks_UnreceiptedOrdersPaidBeforeTheCutoff(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewReconciliationStore(db)
	cutoff := t0.Add(30 * time.Minute)

	byClick := paidOrder(t, db, t0)
	attempt := newClick(t, byClick, 42)
	require.NoError(t, postgres.NewClickRepo(db).Insert(ctx(t), attempt))
	settleBy(t, db, byClick.ID(), "click", attempt.ID())
	addReceipt(t, db, byClick.ID(), "click", "sale", "failed", strconv.FormatInt(attempt.ClickPaydocID(), 10), t0)

	byPayme := paidOrder(t, db, t0.Add(time.Minute))
	tx := newPayme(t, byPayme, liveAt(0).UnixMilli())
	require.NoError(t, postgres.NewPaymeRepo(db).Insert(ctx(t), tx))
	settleBy(t, db, byPayme.ID(), "payme", tx.ID())
	addReceipt(t, db, byPayme.ID(), "payme", "refund", "issued", tx.PaymeID(), t0) // a refund receipt is not the sale's

	unsettled := paidOrder(t, db, t0.Add(2*time.Minute))

	withReceipt := paidOrder(t, db, t0)
	addReceipt(t, db, withReceipt.ID(), "payme", "sale", "issued", "payme-issued", t0)
	paidOrder(t, db, cutoff.Add(time.Second)) // too recent
	newOrder(t, db, someUser(t, db).ID(), t0) // never paid

	got, err := store.UnreceiptedOrders(ctx(t), cutoff, 10)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, ports.UnreceiptedOrder{OrderID: byClick.ID(), PaidAt: t0, Provider: "click", ProviderTransactionID: "42"}, got[0])
	assert.Equal(t, ports.UnreceiptedOrder{OrderID: byPayme.ID(), PaidAt: t0.Add(time.Minute), Provider: "payme",
		ProviderTransactionID: tx.PaymeID()}, got[1])
	assert.Equal(t, ports.UnreceiptedOrder{OrderID: unsettled.ID(), PaidAt: t0.Add(2 * time.Minute)}, got[2])

	got, err = store.UnreceiptedOrders(ctx(t), cutoff, 1)
	require.NoError(t, err)
	require.Len(t, got, 1, "the limit bounds the batch")
	assert.Equal(t, byClick.ID(), got[0].OrderID, "paid longest ago first")

	ok, err := store.Open(ctx(t), newIssue(t, reconciliation.KindReceiptMissing, byClick.ID(), byClick.ID(), t0))
	require.NoError(t, err)
	require.True(t, ok)
	got, err = store.UnreceiptedOrders(ctx(t), cutoff, 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, byPayme.ID(), got[0].OrderID, "a reported order is not listed again: the next batch moves on")
}
