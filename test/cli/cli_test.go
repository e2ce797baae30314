// Package cli runs the built ultramarket binary the way an operator does:
// migrate, create-admin, serve and SIGTERM.
package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/test/testenv"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ultramarket-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "ultramarket")
	build := exec.CommandContext(context.Background(), "go", "build", "-o", binary, "github.com/ultramarket/gateway/cmd/ultramarket")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		panic("build ultramarket: " + err.Error())
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

type runResult struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, env []string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(baseEnv(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return runResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// baseEnv keeps PATH and HOME but none of the service's own variables.
func baseEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "APP_ENV=test", "SMS_PROVIDER=console"}
}

func TestMigrateStatusUpDown(t *testing.T) {
	dbURL := testenv.EmptyDatabaseURL(t)
	env := []string{"DATABASE_URL=" + dbURL}

	r := run(t, env, "migrate", "up")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)

	r = run(t, env, "migrate", "status")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	assert.Contains(t, r.stdout, "00001_users_catalog.sql")
	assert.NotContains(t, strings.ToLower(r.stdout), "pending")

	r = run(t, env, "migrate", "down")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	r = run(t, env, "migrate", "status")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	assert.Contains(t, strings.ToLower(r.stdout), "pending")

	r = run(t, env, "migrate", "sideways")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "usage")
}

func TestCreateAdminCreatesThenPromotes(t *testing.T) {
	dbURL := testenv.EmptyDatabaseURL(t)
	env := []string{"DATABASE_URL=" + dbURL}

	r := run(t, env, "create-admin", "--email", "Boss@UltraMarket.uz", "--password", "Sufficiently-l0ng")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	assert.Contains(t, r.stdout, "created super_admin boss@ultramarket.uz")
	assert.NotContains(t, r.stdout+r.stderr, "Sufficiently-l0ng", "the password is never printed")

	// Again, with the password from the environment: promotes, does not duplicate.
	r = run(t, append(env, "ULTRAMARKET_ADMIN_PASSWORD=Another-passw0rd"), "create-admin", "--email", "boss@ultramarket.uz")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	assert.Contains(t, r.stdout, "promoted boss@ultramarket.uz")

	db := testenv.OpenURL(t, dbURL)
	var role, status string
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM users`).Scan(&n))
	require.NoError(t, db.QueryRow(`SELECT role, status FROM users WHERE email = 'boss@ultramarket.uz'`).Scan(&role, &status))
	assert.Equal(t, 1, n)
	assert.Equal(t, "super_admin", role)
	assert.Equal(t, "active", status)

	r = run(t, env, "create-admin", "--email", "weak@ultramarket.uz", "--password", "short")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout+r.stderr, "password")
	assert.NotContains(t, r.stdout+r.stderr, `"short"`)

	r = run(t, env, "create-admin", "--email", "nobody@ultramarket.uz")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "usage")
}

func TestBadConfigurationNamesTheVariable(t *testing.T) {
	r := run(t, []string{"SHUTDOWN_TIMEOUT=soon"}, "serve")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "SHUTDOWN_TIMEOUT")

	r = run(t, []string{"APP_ENV=production", "JWT_SECRET=short"}, "serve")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "JWT_SECRET")
	assert.NotContains(t, r.stderr, "=short")
}

// DESIGN.md, "Safety of the defaults": a forgotten APP_ENV plus a public
// listener on every interface would serve with the development JWT key and
// payment credentials printed in the README. serve refuses before it
// listens or touches a database, naming each such variable.
func TestServeRefusesDevelopmentSecretsOffLoopback(t *testing.T) {
	// Port 0 and a database of its own: were the refusal ever lost, the
	// process would serve on a free port and seed a throwaway database, not
	// take :5000 or seed the development database.
	dbURL := testenv.EmptyDatabaseURL(t)
	r := run(t, []string{"APP_ENV=development", "HTTP_ADDR=0.0.0.0:0", "OPS_ADDR=127.0.0.1:0",
		"DATABASE_URL=" + dbURL, "REDIS_URL=" + testenv.RedisURL()}, "serve")
	assert.Equal(t, 2, r.code, r.stderr+r.stdout)
	for _, name := range []string{"JWT_SECRET", "PAYME_KEY", "CLICK_SECRET_KEY"} {
		assert.Contains(t, r.stderr, name)
	}
	for _, value := range []string{config.DevJWTSecret, config.DevPaymeKey, config.DevClickSecretKey} {
		assert.NotContains(t, r.stderr+r.stdout, value)
	}
	assert.NotContains(t, r.stdout, "serving")

	// migrate opens no listener: it is not refused.
	r = run(t, []string{"APP_ENV=development", "HTTP_ADDR=0.0.0.0:5000", "DATABASE_URL=" + dbURL}, "migrate", "up")
	assert.Equal(t, 0, r.code, r.stderr+r.stdout)
}

func TestServeCreatesDatabaseSeedsAndStopsOnSIGTERM(t *testing.T) {
	dbURL := testenv.EmptyDatabaseURL(t) // does not exist yet: serve creates it
	cmd := exec.CommandContext(context.Background(), binary, "serve")
	cmd.Env = append(baseEnv(), "APP_ENV=development", "DATABASE_URL="+dbURL,
		"HTTP_ADDR=127.0.0.1:0", "OPS_ADDR=127.0.0.1:0", "REDIS_URL="+testenv.RedisURL())
	addr, printed, stop := startServe(t, cmd)
	all := strings.Join(printed, "\n")
	assert.Contains(t, all, "demo super_admin created: admin@ultramarket.uz")
	assert.Contains(t, all, "demo seller created: seller@ultramarket.uz")

	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+"/health/ready", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	db := testenv.OpenURL(t, dbURL)
	var products int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM products`).Scan(&products))
	assert.Greater(t, products, 0, "demo products are seeded")

	assert.NoError(t, stop(), "SIGTERM exits 0")
}

// TestReconcilePrintsALinePerKind: `ultramarket reconcile` runs one pass
// and prints, for every issue kind, what it opened and what is open.
func TestReconcilePrintsALinePerKind(t *testing.T) {
	dbURL := testenv.EmptyDatabaseURL(t)
	env := []string{"DATABASE_URL=" + dbURL}
	r := run(t, env, "migrate", "up")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	db := testenv.OpenURL(t, dbURL)
	_, err := db.Exec(`INSERT INTO reconciliation_issues (id, kind, subject, detail, detected_at)
		VALUES (gen_random_uuid(), 'click_cancel_disputed', '2100000001', 'found earlier', now())`)
	require.NoError(t, err)

	r = run(t, env, "reconcile")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	assert.Contains(t, r.stdout, "CLICK_API_URL is off")
	for _, line := range []string{"click_cancel_disputed: 0 new, 1 open", "click_cancel_unverified: 0 new, 0 open",
		"click_paid_unconfirmed: 0 new, 0 open", "receipt_missing: 0 new, 0 open", "receipt_failed: 0 new, 0 open"} {
		assert.Contains(t, r.stdout, line+"\n")
	}

	// Held by another instance right now: nothing checked, exit 1.
	_, err = db.Exec(`UPDATE job_leases SET owner = gen_random_uuid(), lease_until = now() + interval '1 minute'`)
	require.NoError(t, err)
	r = run(t, env, "reconcile")
	assert.Equal(t, 1, r.code, r.stderr+r.stdout)
	assert.Contains(t, r.stdout+r.stderr, "another instance")

	r = run(t, env, "reconcile", "now")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "usage")
}
