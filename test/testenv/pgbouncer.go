package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
)

// PgBouncerOptions shape a private PgBouncer.
type PgBouncerOptions struct {
	// PoolSize is default_pool_size: server connections per (database, user).
	// Small on purpose in tests (default 4), so many client connections share
	// few server connections, as they do in production.
	PoolSize int
}

// PgBouncer is a private pgbouncer process in transaction pooling mode in
// front of the test Postgres server (TEST_DATABASE_URL): every database of
// that server, the per-test ones included, is reachable through it under the
// same name. It listens on a free loopback port and writes its config and log
// to a temporary directory that Stop removes.
//
// Its configuration is the production one that matters here: pool_mode
// transaction and no ignore_startup_parameters, so a client that sends a
// startup parameter PgBouncer does not know is refused, as it would be in
// production.
type PgBouncer struct {
	port int
	dir  string
	log  string
	cmd  *exec.Cmd
	done <-chan struct{}
	// stopping is set by Stop: an exit before it is a failure to report.
	stopping atomic.Bool
}

// PgBouncerBinary is PGBOUNCER_BIN, or pgbouncer on PATH, or Debian's
// /usr/sbin/pgbouncer.
func PgBouncerBinary() (string, error) {
	candidates := []string{"/usr/sbin/pgbouncer"}
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		candidates = []string{p}
	}
	if v := os.Getenv("PGBOUNCER_BIN"); v != "" {
		candidates = []string{v}
	}
	if _, err := os.Stat(candidates[0]); err != nil {
		return "", fmt.Errorf("no pgbouncer binary (%s): install it with `apt-get install pgbouncer` "+
			"(`make test` does, through deploy/test-deps.sh) or set PGBOUNCER_BIN", candidates[0])
	}
	return candidates[0], nil
}

// StartPgBouncer starts a PgBouncer in front of the test Postgres server and
// waits until a query passes through it. The caller stops it (StartPgBouncerT
// does so when the test ends).
func StartPgBouncer(opts PgBouncerOptions) (_ *PgBouncer, err error) {
	if opts.PoolSize <= 0 {
		opts.PoolSize = 4
	}
	bin, err := PgBouncerBinary()
	if err != nil {
		return nil, err
	}
	target, err := pq.NewConfig(PostgresAdminURL())
	if err != nil {
		return nil, fmt.Errorf("testenv: pgbouncer: TEST_DATABASE_URL: %w", err)
	}
	port, err := pickFreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ultramarket-pgbouncer-")
	if err != nil {
		return nil, fmt.Errorf("testenv: pgbouncer dir: %w", err)
	}
	b := &PgBouncer{port: port, dir: dir, log: filepath.Join(dir, "pgbouncer.log")}
	defer func() {
		if err != nil {
			b.Stop()
		}
	}()

	host := target.Host
	if host == "" {
		host = "127.0.0.1"
	}
	serverPort := target.Port
	if serverPort == 0 {
		serverPort = 5432
	}
	conn := fmt.Sprintf("host=%s port=%d", host, serverPort)
	if target.Password != "" {
		// PgBouncer logs in to Postgres as the client's user; with a password
		// it needs that password too. Clients themselves are trusted.
		conn += " password=" + target.Password
	}
	ini := strings.Join([]string{
		"[databases]",
		// The fallback entry: any database name is the same name on the server.
		"* = " + conn,
		"[pgbouncer]",
		"listen_addr = 127.0.0.1",
		"listen_port = " + strconv.Itoa(port),
		"unix_socket_dir =",
		"auth_type = trust",
		"auth_file = " + filepath.Join(dir, "users.txt"),
		"pool_mode = transaction",
		"default_pool_size = " + strconv.Itoa(opts.PoolSize),
		"max_client_conn = 2000",
		// A client waiting longer than this for a server connection gets an
		// error instead of hanging the test run.
		"query_wait_timeout = 60",
		"",
	}, "\n")
	userName := target.User
	if userName == "" {
		userName = "postgres"
	}
	users := fmt.Sprintf("%q %q\n", userName, "")
	// World-readable: run by root, PgBouncer reads them as another user.
	if err := os.WriteFile(filepath.Join(dir, "pgbouncer.ini"), []byte(ini), 0o644); err != nil {
		return nil, fmt.Errorf("testenv: pgbouncer config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.txt"), []byte(users), 0o644); err != nil {
		return nil, fmt.Errorf("testenv: pgbouncer auth file: %w", err)
	}
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		// PgBouncer refuses to run as root; it drops to this user itself.
		u, err := unprivilegedUser()
		if err != nil {
			return nil, err
		}
		args = append([]string{"-u", u}, args...)
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, fmt.Errorf("testenv: pgbouncer dir: %w", err)
		}
	}
	logFile, err := os.OpenFile(b.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("testenv: pgbouncer log: %w", err)
	}
	defer logFile.Close()
	// Not tied to a context: it lives until Stop.
	cmd := exec.CommandContext(context.Background(), bin, args...) // #nosec G204 -- the binary the test environment names
	// Its log goes to stderr (no logfile setting), into a file this process
	// opened, so the unprivileged user needs no write access to it.
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Killed with the test binary even if Stop never runs (a panic, a kill).
	done, err := startChild(cmd)
	if err != nil {
		return nil, fmt.Errorf("testenv: start pgbouncer: %w", err)
	}
	b.cmd, b.done = cmd, done

	if err := b.waitReady(target.Database, userName); err != nil {
		return nil, err
	}
	// Every test through it fails if it dies mid-run ("connection
	// refused"): say so once, with its log and how it ended.
	go func() {
		<-done
		if !b.stopping.Load() {
			fmt.Fprintf(os.Stderr, "testenv: pgbouncer on port %d exited during the run (%v); its log:\n%s\n", b.port, cmd.ProcessState, b.Log())
		}
	}()
	return b, nil
}

// StartPgBouncerT is StartPgBouncer for one test: a PgBouncer that cannot
// start fails the test (with how to get one), and it is stopped when the test
// ends.
func StartPgBouncerT(t testing.TB, opts PgBouncerOptions) *PgBouncer {
	t.Helper()
	b, err := StartPgBouncer(opts)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(b.Stop)
	return b
}

// waitReady polls until a query on database passes through PgBouncer.
func (b *PgBouncer) waitReady(database, userName string) error {
	if database == "" {
		database = "postgres"
	}
	u := &url.URL{Scheme: "postgres", User: url.User(userName), Host: b.Addr(), Path: "/" + database,
		RawQuery: "sslmode=disable&connect_timeout=2"}
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := pingOnce(u.String())
		if err == nil {
			return nil
		}
		select {
		case <-b.done:
			return fmt.Errorf("testenv: pgbouncer exited at start: %w\n%s", err, b.Log())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testenv: pgbouncer on port %d did not pass a query through: %w\n%s", b.port, err, b.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func pingOnce(dsn string) error {
	connector, err := pq.NewConnector(dsn)
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var one int
	return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Addr is PgBouncer's host:port.
func (b *PgBouncer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)) }

// URL returns directURL (a postgres:// URL or a key=value DSN of the test
// server) with its host and port replaced by PgBouncer's: the same database
// and user, through the pooler. TLS is off: this PgBouncer has none.
func (b *PgBouncer) URL(directURL string) string {
	if strings.HasPrefix(directURL, "postgres://") || strings.HasPrefix(directURL, "postgresql://") {
		u, err := url.Parse(directURL)
		if err == nil {
			u.Host = b.Addr()
			q := u.Query()
			q.Set("sslmode", "disable")
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	// The last value of a key wins in a DSN.
	return directURL + " host=127.0.0.1 port=" + strconv.Itoa(b.port) + " sslmode=disable"
}

// Log is what PgBouncer logged so far.
func (b *PgBouncer) Log() string {
	out, err := os.ReadFile(b.log)
	if err != nil {
		return "(no pgbouncer log: " + err.Error() + ")"
	}
	return string(out)
}

// Stop stops PgBouncer (SIGINT: at once, dropping its connections) and
// removes its directory. Safe to call more than once.
func (b *PgBouncer) Stop() {
	b.stopping.Store(true)
	if b.cmd != nil && b.cmd.Process != nil {
		_ = b.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			_ = b.cmd.Process.Kill()
			<-b.done
		}
		b.cmd = nil
	}
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
		b.dir = ""
	}
}

// unprivilegedUser is who root runs PgBouncer as: PGBOUNCER_USER, or postgres,
// or nobody.
func unprivilegedUser() (string, error) {
	if v := os.Getenv("PGBOUNCER_USER"); v != "" {
		return v, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		if _, err := user.Lookup(name); err == nil {
			return name, nil
		}
	}
	return "", errors.New("testenv: pgbouncer refuses to run as root and there is no postgres or nobody user to run it as: set PGBOUNCER_USER")
}

// pickFreePort is freePort without a test: the kernel's choice of a free
// loopback port (another process could take it before the server binds it;
// the server then fails to start and says so).
func pickFreePort() (int, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testenv: free port: %w", err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("testenv: free port: unexpected address %v", l.Addr())
	}
	return addr.Port, nil
}
