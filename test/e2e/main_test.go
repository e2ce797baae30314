package e2e

import (
	"os"
	"testing"

	"github.com/ultramarket/gateway/test/testenv"
)

// TestMain runs the suite on the engines TEST_SCALEOUT names (testenv.Main):
// `make test` runs the order and payment flows with the app's DATABASE_URL
// through PgBouncer, and the identity flows on a Redis Cluster.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
