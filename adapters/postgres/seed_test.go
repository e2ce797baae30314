package postgres_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/test/testenv"
)

func TestSeedDemoProductsIsIdempotent(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	c := ctx(t)
	seller := uuid.NewString()

	n, err := postgres.SeedDemoProducts(c, db, seller, t0)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, 6)

	again, err := postgres.SeedDemoProducts(c, db, seller, t0)
	require.NoError(t, err)
	assert.Zero(t, again, "seeding twice inserts nothing")

	var count, active, badPrice int
	require.NoError(t, db.GetContext(c, &count, `SELECT count(*) FROM products WHERE seller_id = $1`, seller))
	require.NoError(t, db.GetContext(c, &active, `SELECT count(*) FROM products WHERE active AND deleted_at IS NULL AND stock > 0`))
	require.NoError(t, db.GetContext(c, &badPrice, `SELECT count(*) FROM products WHERE price % 100 <> 0 OR price < 100`))
	assert.Equal(t, n, count)
	assert.Equal(t, n, active)
	assert.Zero(t, badPrice, "prices are whole so'm, in tiyin")
	var uncoded int
	require.NoError(t, db.GetContext(c, &uncoded, `SELECT count(*) FROM products WHERE ikpu_code IS NULL OR package_code IS NULL`))
	assert.Zero(t, uncoded, "demo products carry fiscal codes, so demo orders get receipts")

	_, err = postgres.SeedDemoProducts(c, db, "not-a-uuid", t0)
	require.Error(t, err)
}
