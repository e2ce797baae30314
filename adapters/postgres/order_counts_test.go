package postgres_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/adapters/system"
	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/application/outbox"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/test/testenv"
	"github.com/ultramarket/gateway/test/testsupport"
)

// TestPlaceOrderStatementCounts pins what POST /api/orders costs Postgres with
// the built-in catalog, wired as the app wires it (unpaid-order limit,
// events, an Idempotency-Key): see TestPaymeStatementCounts for how to read
// the numbers, which the README quotes.
func TestPlaceOrderStatementCounts(t *testing.T) {
	t.Parallel()
	db, log := countingDB(t, testenv.PostgresURL(t))
	c := ctx(t)
	buyer := user.Actor{ID: someUser(t, db).ID(), Role: user.RoleCustomer}
	clock := testsupport.FixedClock(time.Now().UTC().Truncate(time.Microsecond))
	ids := system.UUIDs{}
	cat := postgres.NewProductStore(db, ids, clock)
	place := orders.NewPlaceOrder(postgres.NewTxManager(db), postgres.NewOrderRepo(db), postgres.NewCartRepo(db),
		postgres.NewIdempotencyStore(db), cat, ids, clock).
		WithUnpaidLimit(postgres.NewUnpaidOrderSlots(db), 5).
		WithEvents(outbox.NewOrderEvents(postgres.NewOutboxStore(db), ids, clock))

	type cost struct{ statements, transactions int }
	measure := func(name string, products int) cost {
		t.Helper()
		items := make([]orders.ItemInput, products)
		for i := range items {
			items[i] = orders.ItemInput{ProductID: newStoredProduct(t, cat, 10).ID(), Quantity: 1}
		}
		log.reset()
		_, _, err := place.Handle(c, orders.PlaceOrderInput{Actor: buyer, Items: items, ShippingAddress: shipTo,
			IdempotencyKey: uuid.NewString(), RequestHash: uuid.NewString()})
		require.NoError(t, err, name)
		got := cost{len(log.all()), log.transactions()}
		t.Logf("%s: %d statements in %d transactions, %d round trips: %s", name, got.statements, got.transactions,
			got.statements+2*got.transactions, strings.Join(log.all(), " | "))
		return got
	}
	one := measure("one product", 1)
	three := measure("three products", 3)
	assert.Equal(t, cost{statements: 16, transactions: 3}, one, "update the README's Performance section with the new counts")
	assert.Equal(t, one, three, "the count does not grow with the number of products")
}
