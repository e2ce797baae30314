package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/test/testenv"
)

// The production recipe behind PgBouncer (README, "Scale-out"): the service
// starts on a database that does not exist yet, MIGRATE_ON_START creates and
// migrates it on MIGRATE_DATABASE_URL (Postgres itself), and the service
// serves on DATABASE_URL, which in a TEST_SCALEOUT=pgbouncer run goes through
// PgBouncer in transaction pooling mode.
func TestScaleout_MigrateOnStartDirectlyThenServeThroughThePool(t *testing.T) {
	t.Parallel()
	direct := testenv.EmptyDatabaseURL(t)
	s := newShop(t, builtinCatalog, func(c *config.Config) {
		c.MigrateOnStart = true
		c.MigrateDatabaseURL = direct
		c.DatabaseURL = testenv.AppURL(direct)
	})
	if testenv.ThroughPgBouncer() {
		assert.NotEqual(t, direct, s.Config.DatabaseURL, "the app must reach the database through PgBouncer in this run")
	}

	product := s.newProduct(t, 150000, 5)
	o := s.mustOrder(t, s.customer.Access, item(product, 2))
	assert.Equal(t, "pending_payment", o["status"])
	assert.Equal(t, int64(3), s.stockOf(t, product), "the order reserved its stock")
}
