package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
)

// t0 is the fixtures' "now": microseconds only, as Postgres keeps them.
var t0 = time.Date(2025, 6, 1, 9, 30, 0, 123456000, time.UTC)

var seq atomic.Int64

func newUser(t *testing.T, db *sqlx.DB, email string) *user.User {
	t.Helper()
	u, err := user.New(uuid.NewString(), email, "argon2id$hash", "Ali Valiyev", "", t0)
	require.NoError(t, err)
	// The columns of 00001 only, not the repository: tests of older
	// migrations make users with the schema rolled back.
	_, err = db.ExecContext(context.Background(), `INSERT INTO users (id, email, password_hash, full_name, role, status,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
		u.ID(), u.Email(), u.PasswordHash(), u.FullName(), string(u.Role()), string(u.Status()), t0)
	require.NoError(t, err)
	return u
}

func someUser(t *testing.T, db *sqlx.DB) *user.User {
	t.Helper()
	return newUser(t, db, fmt.Sprintf("buyer%d@example.uz", seq.Add(1)))
}

var shipTo = order.Address{Region: "Toshkent", City: "Toshkent", Street: "Amir Temur ko'chasi 1", Phone: "+998901234567"}

// buildOrder makes an order with two lines: 2 × 150 000.00 and 1 × 25 000.50 so'm.
func buildOrder(t *testing.T, userID string, createdAt time.Time) *order.Order {
	t.Helper()
	o, err := order.New(uuid.NewString(), userID, []order.Item{
		{ProductID: uuid.NewString(), Name: "Rishton lagan", UnitPrice: money.MustTiyin(15_000_000), Quantity: 2},
		{ProductID: uuid.NewString(), Name: "Ko'k choy", UnitPrice: money.MustTiyin(2_500_050), Quantity: 1},
	}, shipTo, "call before delivery", createdAt)
	require.NoError(t, err)
	return o
}

func newOrder(t *testing.T, db *sqlx.DB, userID string, createdAt time.Time) *order.Order {
	t.Helper()
	o := buildOrder(t, userID, createdAt)
	require.NoError(t, postgres.NewOrderRepo(db).Create(context.Background(), o))
	return o
}

func newPayme(t *testing.T, o *order.Order, paymeTime int64) *payment.PaymeTransaction {
	t.Helper()
	tx, err := payment.NewPaymeTransaction(uuid.NewString(), fmt.Sprintf("payme-%d", seq.Add(1)), paymeTime,
		o.ID(), o.Total(), map[string]string{"order_id": o.ID()}, t0)
	require.NoError(t, err)
	return tx
}

func newClick(t *testing.T, o *order.Order, clickTransID int64) *payment.ClickTransaction {
	t.Helper()
	tx, err := payment.NewClickTransaction(uuid.NewString(), clickTransID, 3_100_000_000+clickTransID, 12345, o.ID(), o.Total(),
		o.Total().SomString(), t0)
	require.NoError(t, err)
	return tx
}

// locking runs read, a locking read, the way the use cases do: inside a
// transaction of its own (the lock ends with it).
func locking[T any](t *testing.T, db *sqlx.DB, read func(context.Context) (T, error)) (T, error) {
	t.Helper()
	var out T
	var readErr error
	require.NoError(t, postgres.NewTxManager(db).WithinTx(ctx(t), func(c context.Context) error {
		out, readErr = read(c)
		return nil
	}))
	return out, readErr
}

// liveAt is the moment at which a state-1 transaction with Payme time since
// is exactly 12 hours old: still live, one millisecond later timed out.
func liveAt(since int64) time.Time {
	return time.UnixMilli(since).Add(payment.PaymeTimeout)
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
