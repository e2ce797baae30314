package redis_test

import (
	"os"
	"testing"

	"github.com/ultramarket/gateway/test/testenv"
)

// TestMain runs the package on the Redis TEST_SCALEOUT names: with
// redis-cluster, every store here runs on a private 3-master Redis Cluster
// (`make test` does both runs).
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
