package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/test/testenv"
	"github.com/ultramarket/gateway/test/testsupport"
)

// Behind a transaction-pooling PgBouncer, DATABASE_URL is the pooler and
// MIGRATE_DATABASE_URL is Postgres itself: goose's session-level advisory
// lock needs one server session for the whole run. `migrate` never touches
// DATABASE_URL then; here it does not even answer.
func TestMigrateRunsOnMigrateDatabaseURL(t *testing.T) {
	dbURL := testenv.EmptyDatabaseURL(t)
	env := []string{
		"DATABASE_URL=postgres://postgres@127.0.0.1:1/pooler?sslmode=disable&connect_timeout=2",
		"MIGRATE_DATABASE_URL=" + dbURL,
	}
	r := run(t, env, "migrate", "up")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)

	r = run(t, env, "migrate", "status")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	assert.Contains(t, r.stdout, "00001_users_catalog.sql")
	assert.NotContains(t, strings.ToLower(r.stdout), "pending")

	var users int
	require.NoError(t, testenv.OpenURL(t, dbURL).QueryRow(`SELECT count(*) FROM users`).Scan(&users),
		"the database MIGRATE_DATABASE_URL names is migrated")
}

// MIGRATE_ON_START migrates on MIGRATE_DATABASE_URL too, and serves on
// DATABASE_URL. Here the two are different roles, as a least-privilege
// deployment has them: the application's may read and write rows but not
// change the schema, so migrating on DATABASE_URL would fail.
func TestServeMigratesOnMigrateDatabaseURLAndServesOnDatabaseURL(t *testing.T) {
	dbURL := testenv.EmptyDatabaseURL(t)
	c := context.Background()
	require.NoError(t, postgres.EnsureDatabase(c, dbURL))
	appURL := appRoleURL(t, dbURL)

	cmd := exec.CommandContext(context.Background(), binary, "serve")
	cmd.Env = append(baseEnv(), "MIGRATE_ON_START=true", "DATABASE_URL="+appURL, "MIGRATE_DATABASE_URL="+dbURL,
		"HTTP_ADDR=127.0.0.1:0", "OPS_ADDR=127.0.0.1:0", "REDIS_URL="+testenv.RedisURL(), "RATE_LIMIT_AUTH=off")
	addr, _, stop := startServe(t, cmd)

	body := `{"email":"owner@example.uz","password":"Plum-Orchard-Lantern-71","full_name":"Ann Owner"}`
	req, err := http.NewRequestWithContext(c, http.MethodPost, "http://"+addr+"/api/auth/register", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusCreated, resp.StatusCode, "the application's role writes through DATABASE_URL")

	var version int64
	require.NoError(t, testenv.OpenURL(t, dbURL).QueryRow(`SELECT max(version_id) FROM goose_db_version`).Scan(&version))
	assert.Positive(t, version, "migrations ran")
	assert.NoError(t, stop(), "SIGTERM exits 0")
}

// appRoleURL makes a login role of its own that may use the rows of the
// tables migrations will create in dbURL's database but may not create
// anything, and returns dbURL as that role. The role is dropped, after the
// database, when the test ends.
func appRoleURL(t *testing.T, dbURL string) string {
	t.Helper()
	c := context.Background()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	dbName := strings.TrimPrefix(u.Path, "/")
	role := "ut_app_" + strings.TrimPrefix(dbName, "ut_")

	admin := testenv.OpenURL(t, testenv.PostgresAdminURL())
	_, err = admin.ExecContext(c, `CREATE ROLE `+pq.QuoteIdentifier(role)+` LOGIN`)
	require.NoError(t, err)
	t.Cleanup(func() {
		// The database first: its default privileges name the role.
		_, err := admin.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(dbName)+` WITH (FORCE)`)
		assert.NoError(t, err)
		_, err = admin.ExecContext(context.Background(), `DROP ROLE IF EXISTS `+pq.QuoteIdentifier(role))
		assert.NoError(t, err)
	})

	owner := testenv.OpenURL(t, dbURL)
	for _, stmt := range []string{
		`REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
		`GRANT USAGE ON SCHEMA public TO ` + pq.QuoteIdentifier(role),
		`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ` + pq.QuoteIdentifier(role),
		`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ` + pq.QuoteIdentifier(role),
	} {
		_, err := owner.ExecContext(c, stmt)
		require.NoError(t, err, stmt)
	}
	u.User = url.User(role)
	return u.String()
}

// startServe starts cmd (ultramarket serve) and waits for its "serving" log
// line; it returns the public address, the lines printed up to that one, and
// a stop that sends SIGTERM and returns how the process exited.
func startServe(t *testing.T, cmd *exec.Cmd) (addr string, printed []string, stop func() error) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &testsupport.SyncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	lines := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	deadline := time.After(60 * time.Second)
	for addr == "" {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "serve exited early: %s\n%s", stderr.String(), strings.Join(printed, "\n"))
			printed = append(printed, line)
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) == nil && entry["msg"] == "serving" {
				addr, _ = entry["http_addr"].(string)
			}
		case <-deadline:
			t.Fatalf("serve did not start: %s", strings.Join(printed, "\n"))
		}
	}
	go func() {
		for range lines { // drain, so the process never blocks on a full pipe
		}
	}()
	return addr, printed, func() error {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			return err
		}
		return cmd.Wait()
	}
}
