package postgres_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

var _ ports.FiscalStore = (*postgres.PaymeRepo)(nil)

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
	require.NoError(t, repo.SaveFiscalData(c, tx.PaymeID(), ports.FiscalPerform, []byte(receipt)))
	perform, cancel = fiscal()
	require.True(t, perform.Valid)
	assert.JSONEq(t, receipt, perform.String)
	assert.False(t, cancel.Valid)

	refund := `{"receipt_id":122,"status_code":0}`
	require.NoError(t, repo.SaveFiscalData(c, tx.PaymeID(), ports.FiscalCancel, []byte(refund)))
	perform, cancel = fiscal()
	assert.JSONEq(t, receipt, perform.String, "the perform receipt stays")
	assert.JSONEq(t, refund, cancel.String)

	// Payme may send it again: the last one is kept.
	again := `{"receipt_id":121,"status_code":1}`
	require.NoError(t, repo.SaveFiscalData(c, tx.PaymeID(), ports.FiscalPerform, []byte(again)))
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
		require.NoError(t, repo.SaveFiscalData(c2, tx.PaymeID(), ports.FiscalPerform, []byte(`{"a":1}`)))
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

	err := repo.SaveFiscalData(c, "no-such-payme-id", ports.FiscalPerform, []byte(`{}`))
	assert.ErrorIs(t, err, payment.ErrNotFound)
	assert.ErrorIs(t, err, domain.ErrNotFound)

	assert.ErrorIs(t, repo.SaveFiscalData(c, tx.PaymeID(), "REFUND", []byte(`{}`)), domain.ErrValidation)
	for _, data := range []string{``, `[]`, `null`, `"x"`, `{`, `{"a":1}x`} {
		assert.ErrorIs(t, repo.SaveFiscalData(c, tx.PaymeID(), ports.FiscalCancel, []byte(data)), domain.ErrValidation, "data %q", data)
	}
	// JSONB cannot hold NUL; the edge refuses it, the adapter reports it as invalid, not as a crash.
	err = repo.SaveFiscalData(c, tx.PaymeID(), ports.FiscalCancel, []byte(`{"a":"\u0000"}`))
	assert.ErrorIs(t, err, domain.ErrValidation)
}
