package postgres_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/adapters/system"
	"github.com/ultramarket/gateway/application/outbox"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/test/testenv"
	"github.com/ultramarket/gateway/test/testsupport"
)

// TestPaymeStatementCounts pins what each Payme method costs Postgres, wired
// as the app wires it (events on: the outbox row is part of Perform). A
// statement is one round trip (binary parameters, see postgres.Open); a
// transaction adds two more, BEGIN and COMMIT. The README's Performance
// section quotes these numbers: a change that adds a statement fails here
// and has to say so there.
func TestPaymeStatementCounts(t *testing.T) {
	t.Parallel()
	db, log := countingDB(t, testenv.PostgresURL(t))
	c := ctx(t)
	u := someUser(t, db)
	now := time.Now().UTC().Truncate(time.Microsecond)
	clock := testsupport.FixedClock(now)
	ids := system.UUIDs{}
	tm, orders, repo := postgres.NewTxManager(db), postgres.NewOrderRepo(db), postgres.NewPaymeRepo(db)
	events := outbox.NewOrderEvents(postgres.NewOutboxStore(db), ids, clock)
	check := payments.NewPaymeCheckPerformTransaction(orders, repo, clock)
	create := payments.NewPaymeCreateTransaction(tm, orders, repo, ids, clock)
	perform := payments.NewPaymePerformTransaction(tm, orders, repo, postgres.NewClickRepo(db),
		postgres.NewSettlementRepo(db), clock).WithEvents(events)
	cancel := payments.NewPaymeCancelTransaction(tm, orders, repo, postgres.NewProductStore(db, ids, clock), clock).
		WithEvents(events)
	checkTx, statement := payments.NewPaymeCheckTransaction(repo), payments.NewPaymeGetStatement(repo)

	type cost struct{ statements, transactions int }
	measure := func(name string, run func() error) cost {
		t.Helper()
		log.reset()
		require.NoError(t, run(), name)
		got := cost{len(log.all()), log.transactions()}
		t.Logf("%s: %d statements in %d transactions, %d round trips: %s", name, got.statements, got.transactions,
			got.statements+2*got.transactions, strings.Join(log.all(), " | "))
		return got
	}
	paid := newOrder(t, db, u.ID(), now)
	account := map[string]string{payments.PaymeAccountOrderID: paid.ID()}
	paymeID := "counts-" + paid.ID()
	costs := map[string]cost{
		"CheckPerformTransaction": measure("CheckPerformTransaction", func() error {
			_, err := check.Handle(c, payments.PaymeCheckPerformInput{Amount: paid.Total(), Account: account})
			return err
		}),
		"CreateTransaction": measure("CreateTransaction", func() error {
			_, err := create.Handle(c, payments.PaymeCreateInput{PaymeID: paymeID, Time: now.UnixMilli(), Amount: paid.Total(), Account: account})
			return err
		}),
		"CreateTransaction replay": measure("CreateTransaction replay", func() error {
			_, err := create.Handle(c, payments.PaymeCreateInput{PaymeID: paymeID, Time: now.UnixMilli(), Amount: paid.Total(), Account: account})
			return err
		}),
		"PerformTransaction": measure("PerformTransaction", func() error {
			_, err := perform.Handle(c, paymeID)
			return err
		}),
		"PerformTransaction replay": measure("PerformTransaction replay", func() error {
			_, err := perform.Handle(c, paymeID)
			return err
		}),
		"CheckTransaction": measure("CheckTransaction", func() error {
			_, err := checkTx.Handle(c, paymeID)
			return err
		}),
		"GetStatement": measure("GetStatement", func() error {
			_, err := statement.Handle(c, now.Add(-time.Minute).UnixMilli(), now.Add(time.Minute).UnixMilli())
			return err
		}),
	}
	// Cancel of a created (not performed) transaction: the usual cancel.
	open := newOrder(t, db, u.ID(), now)
	openID := "counts-" + open.ID()
	_, err := create.Handle(c, payments.PaymeCreateInput{PaymeID: openID, Time: now.UnixMilli(), Amount: open.Total(),
		Account: map[string]string{payments.PaymeAccountOrderID: open.ID()}})
	require.NoError(t, err)
	costs["CancelTransaction"] = measure("CancelTransaction", func() error {
		res, err := cancel.Handle(c, openID, payment.ReasonTransactionFailed)
		_ = res.StockReleaseErr // the fixture's products are not in the catalog; the statements are counted
		return err
	})

	assert.Equal(t, map[string]cost{
		"CheckPerformTransaction":   {statements: 2, transactions: 0},
		"CreateTransaction":         {statements: 4, transactions: 1},
		"CreateTransaction replay":  {statements: 2, transactions: 1},
		"PerformTransaction":        {statements: 7, transactions: 1},
		"PerformTransaction replay": {statements: 2, transactions: 1},
		"CheckTransaction":          {statements: 1, transactions: 0},
		"GetStatement":              {statements: 1, transactions: 0},
		"CancelTransaction":         {statements: 3, transactions: 1},
	}, costs, "update the README's Performance section with the new counts")
}
