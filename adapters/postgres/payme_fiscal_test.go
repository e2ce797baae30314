package postgres_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

var _ ports.FiscalStore = (*postgres.PaymeRepo)(nil)

// fiscalData is raw as the use case passes it on: an issued receipt of the
// kind, with the raw JSON's fields read by hand where a test needs them.
func fiscalData(t *testing.T, kind ports.FiscalKind, raw string) ports.PaymeFiscalData {
	t.Helper()
	k := fiscal.KindSale
	if kind == ports.FiscalCancel {
		k = fiscal.KindRefund
	}
	r, err := fiscal.NewReceipt(payment.ProviderPayme, k, fiscal.StatusIssued, fiscal.ReceiptData{})
	require.NoError(t, err)
	return ports.PaymeFiscalData{Kind: kind, Raw: []byte(raw), Receipt: r}
}

func TestPaymeSaveFiscalDataKeepsEachKindInItsColumn(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewPaymeRepo(db)
	c := ctx(t)
	tx := newPayme(t, newOrder(t, db, someUser(t, db).ID(), t0), paymeT0)
	require.NoError(t, repo.Insert(c, tx))

	fiscal := func() (perform, cancel sql.NullString) {
		t.Helper()
		require.NoError(t, db.QueryRowContext(c,
			`SELECT fiscal_perform::text, fiscal_cancel::text FROM payme_transactions WHERE payme_id = $1`,
			tx.PaymeID()).Scan(&perform, &cancel))
		return perform, cancel
	}
	perform, cancel := fiscal()
	assert.False(t, perform.Valid, "nothing until Payme sends it")
	assert.False(t, cancel.Valid)

	receipt := `{"receipt_id":121,"status_code":0,"fiscal_sign":"800031554082","qr_code_url":"https://ofd.soliq.uz/check?t=EP1&r=121"}`
	require.NoError(t, repo.SaveFiscalData(c, tx.PaymeID(), fiscalData(t, ports.FiscalPerform, receipt)))
	perform, cancel = fiscal()
	require.True(t, perform.Valid)
	assert.JSONEq(t, receipt, perform.String)
	assert.False(t, cancel.Valid)

	refund := `{"receipt_id":122,"status_code":0}`
	require.NoError(t, repo.SaveFiscalData(c, tx.PaymeID(), fiscalData(t, ports.FiscalCancel, refund)))
	perform, cancel = fiscal()
	assert.JSONEq(t, receipt, perform.String, "the perform receipt stays")
	assert.JSONEq(t, refund, cancel.String)

	// Payme may send it again: the last one is kept.
	again := `{"receipt_id":121,"status_code":1}`
	require.NoError(t, repo.SaveFiscalData(c, tx.PaymeID(), fiscalData(t, ports.FiscalPerform, again)))
	perform, _ = fiscal()
	assert.JSONEq(t, again, perform.String)

	// Saving a receipt changes nothing else of the transaction.
	got, err := repo.GetByPaymeID(c, tx.PaymeID())
	require.NoError(t, err)
	assert.Equal(t, payment.PaymeCreated, got.State())
	assert.Equal(t, tx.CreateTime(), got.CreateTime())
}

func TestPaymeSaveFiscalDataInsideATransaction(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewPaymeRepo(db)
	c := ctx(t)
	tx := newPayme(t, newOrder(t, db, someUser(t, db).ID(), t0), paymeT0)
	require.NoError(t, repo.Insert(c, tx))

	err := postgres.NewTxManager(db).WithinTx(c, func(c2 context.Context) error {
		require.NoError(t, repo.SaveFiscalData(c2, tx.PaymeID(), fiscalData(t, ports.FiscalPerform, `{"a":1}`)))
		return assert.AnError // roll back
	})
	require.ErrorIs(t, err, assert.AnError)
	var perform sql.NullString
	require.NoError(t, db.QueryRowContext(c, `SELECT fiscal_perform::text FROM payme_transactions WHERE payme_id = $1`,
		tx.PaymeID()).Scan(&perform))
	assert.False(t, perform.Valid, "it took part in the transaction that rolled back")
}

func TestPaymeSaveFiscalDataRefusals(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewPaymeRepo(db)
	c := ctx(t)
	tx := newPayme(t, newOrder(t, db, someUser(t, db).ID(), t0), paymeT0)
	require.NoError(t, repo.Insert(c, tx))

	err := repo.SaveFiscalData(c, "no-such-payme-id", fiscalData(t, ports.FiscalPerform, `{}`))
	assert.ErrorIs(t, err, payment.ErrNotFound)
	assert.ErrorIs(t, err, domain.ErrNotFound)

	assert.ErrorIs(t, repo.SaveFiscalData(c, tx.PaymeID(), fiscalData(t, "REFUND", `{}`)), domain.ErrValidation)
	for _, data := range []string{``, `[]`, `null`, `"x"`, `{`, `{"a":1}x`} {
		assert.ErrorIs(t, repo.SaveFiscalData(c, tx.PaymeID(), fiscalData(t, ports.FiscalCancel, data)), domain.ErrValidation, "data %q", data)
	}
	// JSONB cannot hold NUL; the edge refuses it, the adapter reports it as invalid, not as a crash.
	err = repo.SaveFiscalData(c, tx.PaymeID(), fiscalData(t, ports.FiscalCancel, `{"a":"\u0000"}`))
	assert.ErrorIs(t, err, domain.ErrValidation)
}

// A sale then a refund receipt appear on the order; a replay of the same
// data changes nothing, other data replaces the receipt of its kind.
func TestPaymeSaveFiscalDataShowsTheReceiptsOnTheOrder(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo, orders := postgres.NewPaymeRepo(db), postgres.NewOrderRepo(db)
	c := ctx(t)
	o := newOrder(t, db, someUser(t, db).ID(), t0)
	tx := newPayme(t, o, paymeT0)
	require.NoError(t, repo.Insert(c, tx))

	issued := time.Date(2022, 7, 6, 17, 10, 21, 0, time.UTC)
	sale, err := fiscal.NewReceipt(payment.ProviderPayme, fiscal.KindSale, fiscal.StatusIssued, fiscal.ReceiptData{
		QRCodeURL: "https://ofd.soliq.uz/epi?t=EP1&r=121", FiscalSign: "800031554082", TerminalID: "EP1", IssuedAt: issued})
	require.NoError(t, err)
	saleData := ports.PaymeFiscalData{Kind: ports.FiscalPerform, Raw: []byte(`{"receipt_id":121,"status_code":0}`),
		Receipt: sale, ReceiptID: "121", StatusCode: 0}
	require.NoError(t, repo.SaveFiscalData(c, tx.PaymeID(), saleData))

	updatedAt := func() (n int, at time.Time) {
		require.NoError(t, db.QueryRowContext(c, `SELECT count(*), max(updated_at) FROM fiscal_receipts WHERE order_id = $1`,
			o.ID()).Scan(&n, &at))
		return n, at
	}
	n, first := updatedAt()
	require.Equal(t, 1, n)
	require.NoError(t, repo.SaveFiscalData(c, tx.PaymeID(), saleData), "a replay answers success")
	n, again := updatedAt()
	assert.Equal(t, 1, n)
	assert.True(t, first.Equal(again), "a replay changes nothing")

	refund, err := fiscal.NewReceipt(payment.ProviderPayme, fiscal.KindRefund, fiscal.StatusFailed,
		fiscal.ReceiptData{QRCodeURL: "https://evil.example/check"})
	require.NoError(t, err)
	require.NoError(t, repo.SaveFiscalData(c, tx.PaymeID(), ports.PaymeFiscalData{Kind: ports.FiscalCancel,
		Raw: []byte(`{"receipt_id":"122","status_code":3}`), Receipt: refund, ReceiptID: "122", StatusCode: 3}))

	got, err := orders.Get(c, o.ID())
	require.NoError(t, err)
	rs := got.Receipts()
	require.Len(t, rs, 2)
	assert.Equal(t, fiscal.KindSale, rs[0].Kind())
	assert.Equal(t, fiscal.StatusIssued, rs[0].Status())
	assert.Equal(t, "https://ofd.soliq.uz/epi?t=EP1&r=121", rs[0].ShownQRCodeURL())
	assert.Equal(t, "800031554082", rs[0].FiscalSign())
	assert.Equal(t, "EP1", rs[0].TerminalID())
	assert.True(t, issued.Equal(rs[0].IssuedAt()))
	assert.Equal(t, fiscal.KindRefund, rs[1].Kind())
	assert.Equal(t, fiscal.StatusFailed, rs[1].Status())
	assert.Empty(t, rs[1].ShownQRCodeURL(), "stored, not shown")
	assert.Equal(t, "https://evil.example/check", rs[1].QRCodeURL())

	// The sale receipt sent again with other data replaces it.
	resent, err := fiscal.NewReceipt(payment.ProviderPayme, fiscal.KindSale, fiscal.StatusFailed, fiscal.ReceiptData{})
	require.NoError(t, err)
	require.NoError(t, repo.SaveFiscalData(c, tx.PaymeID(), ports.PaymeFiscalData{Kind: ports.FiscalPerform,
		Raw: []byte(`{"receipt_id":121,"status_code":1}`), Receipt: resent, ReceiptID: "121", StatusCode: 1}))
	got, err = orders.Get(c, o.ID())
	require.NoError(t, err)
	require.Len(t, got.Receipts(), 2)
	assert.Equal(t, fiscal.StatusFailed, got.Receipts()[0].Status())
}
