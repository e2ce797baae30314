package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

var _ ports.CartRepository = (*postgres.CartRepo)(nil)

func TestCartSetLinesRemoveClear(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewCartRepo(db)
	c := ctx(t)
	u, other := someUser(t, db), someUser(t, db)
	p1, p2, p3 := uuid.NewString(), uuid.NewString(), uuid.NewString()

	lines, err := repo.Lines(c, u.ID())
	require.NoError(t, err)
	assert.Equal(t, []ports.CartLine{}, lines, "an empty cart is an empty list")

	require.NoError(t, repo.Set(c, u.ID(), p2, 2, t0))
	require.NoError(t, repo.Set(c, u.ID(), p1, 1, t0.Add(time.Minute)))
	require.NoError(t, repo.Set(c, u.ID(), p3, 100, t0.Add(2*time.Minute)))
	require.NoError(t, repo.Set(c, other.ID(), p1, 7, t0))
	// Changing a quantity keeps the line where it was.
	require.NoError(t, repo.Set(c, u.ID(), p2, 5, t0.Add(time.Hour)))

	lines, err = repo.Lines(c, u.ID())
	require.NoError(t, err)
	assert.Equal(t, []ports.CartLine{
		{ProductID: p2, Quantity: 5, AddedAt: t0},
		{ProductID: p1, Quantity: 1, AddedAt: t0.Add(time.Minute)},
		{ProductID: p3, Quantity: 100, AddedAt: t0.Add(2 * time.Minute)},
	}, lines)

	require.NoError(t, repo.Remove(c, u.ID(), p1))
	require.NoError(t, repo.Remove(c, u.ID(), p1), "removing what is not there is no error")
	require.NoError(t, repo.Remove(c, u.ID(), "not-a-uuid"))
	lines, err = repo.Lines(c, u.ID())
	require.NoError(t, err)
	require.Len(t, lines, 2)
	assert.Equal(t, p2, lines[0].ProductID)
	assert.Equal(t, p3, lines[1].ProductID)

	require.NoError(t, repo.Clear(c, u.ID()))
	lines, err = repo.Lines(c, u.ID())
	require.NoError(t, err)
	assert.Empty(t, lines)

	lines, err = repo.Lines(c, other.ID())
	require.NoError(t, err)
	assert.Equal(t, []ports.CartLine{{ProductID: p1, Quantity: 7, AddedAt: t0}}, lines, "another user's cart is untouched")
}

func TestCartRefusesWhatTheDomainWould(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewCartRepo(db)
	c := ctx(t)
	u := someUser(t, db)

	for _, q := range []int64{0, 101, -1} {
		err := repo.Set(c, u.ID(), uuid.NewString(), q, t0)
		assert.ErrorIs(t, err, domain.ErrValidation, q)
		var verr *domain.ValidationError
		require.ErrorAs(t, err, &verr)
		assert.Equal(t, "quantity", verr.Fields[0].Field)
	}
	assert.ErrorIs(t, repo.Set(c, uuid.NewString(), uuid.NewString(), 1, t0), user.ErrNotFound, "unknown user")
	assert.ErrorIs(t, repo.Set(c, "user-1", uuid.NewString(), 1, t0), user.ErrNotFound)
	assert.ErrorIs(t, repo.Set(c, u.ID(), "product-1", 1, t0), product.ErrNotFound)

	lines, err := repo.Lines(c, "user-1")
	require.NoError(t, err)
	assert.Empty(t, lines)
	require.NoError(t, repo.Clear(c, "user-1"))
}

func TestCartJoinsTheCallersTransaction(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewCartRepo(db)
	c := ctx(t)
	u := someUser(t, db)
	p := uuid.NewString()
	require.NoError(t, repo.Set(c, u.ID(), p, 1, t0))

	rollback := errors.New("rollback")
	err := postgres.NewTxManager(db).WithinTx(c, func(ctx context.Context) error {
		require.NoError(t, repo.Clear(ctx, u.ID()))
		lines, err := repo.Lines(ctx, u.ID())
		require.NoError(t, err)
		assert.Empty(t, lines, "seen inside the transaction")
		return rollback
	})
	require.ErrorIs(t, err, rollback)

	lines, err := repo.Lines(c, u.ID())
	require.NoError(t, err)
	assert.Len(t, lines, 1, "rolled back with the transaction")
}

func TestCartReadBackRechecksQuantities(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewCartRepo(db)
	c := ctx(t)
	u := someUser(t, db)
	require.NoError(t, repo.Set(c, u.ID(), uuid.NewString(), 1, t0))
	_, err := db.ExecContext(c, `ALTER TABLE cart_items DROP CONSTRAINT cart_items_quantity_check`)
	require.NoError(t, err)
	_, err = db.ExecContext(c, `UPDATE cart_items SET quantity = 1000`)
	require.NoError(t, err)

	_, err = repo.Lines(c, u.ID())
	assert.ErrorIs(t, err, postgres.ErrCorrupt)
}
