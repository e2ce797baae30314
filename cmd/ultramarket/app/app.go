// Package app wires the adapters to the use cases and runs the service: it is
// what `ultramarket serve` runs, and what end-to-end tests boot.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ultramarket/gateway/adapters/crypto"
	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/adapters/metrics"
	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/adapters/redis"
	"github.com/ultramarket/gateway/adapters/system"
	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/application/health"
	"github.com/ultramarket/gateway/application/jobs"
	"github.com/ultramarket/gateway/application/outbox"
	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/ports"
)

// Options are the settings that do not come from the environment.
type Options struct {
	Logger  *slog.Logger
	Version string
	// Stdout receives the one-time demo credentials (not the JSON log).
	Stdout io.Writer
	// RedisPrefix starts every Redis key; tests give each app its own.
	RedisPrefix string
	// HasherParams overrides the argon2id cost (tests use cheap parameters).
	HasherParams *crypto.Params
	// EventSubjectPrefix replaces "ultramarket" in the subjects of the
	// domain events (and in the subjects of a stream the app creates):
	// streams on one NATS server may not share subjects, so each test
	// takes its own.
	EventSubjectPrefix string
}

// App is the running service: its pools, use cases and two listeners.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	db      *sqlx.DB
	redis   goredis.UniversalClient
	metrics *metrics.Metrics
	public  *echo.Echo
	ops     *echo.Echo

	publicLn, opsLn net.Listener

	// catalog is the product catalog every feature uses: the upstream
	// microservice (CATALOG_URL) or the built-in one (see chooseCatalog).
	catalog ports.Catalog
	// authenticate checks bearer tokens for every authenticated route (set
	// by wireIdentity).
	authenticate *auth.Authenticate

	// jobs run in the background while Run serves; wiring files add them
	// with addJob (see there).
	jobs []backgroundJob
}

// backgroundJob is work that lives as long as the app serves: a periodic
// sweep (Payme timeouts, order expiry), a reconciler.
type backgroundJob struct {
	name string
	run  func(ctx context.Context)
}

// addJob registers run to be started by Run in a goroutine of its own, with
// a context that ends when the app shuts down. run must return soon after
// its context ends; Run waits for it before closing the pools. Jobs must be
// safe with several instances running them at once (SKIP LOCKED sweeps are).
// Build and its wiring helpers call it; nothing runs until Run.
func (a *App) addJob(name string, run func(ctx context.Context)) {
	a.jobs = append(a.jobs, backgroundJob{name: name, run: run})
}

// addLoop adds a job that jobs.Run paces: pass at once and then every
// interval, never two at a time, until the app shuts down. report hears each
// pass that ended, for the wiring to log what matters about it; a pass that
// panicked is logged here, with its stack, and the loop goes on. An interval
// that is not positive is logged and the job does not start.
func (a *App) addLoop(name string, interval time.Duration, pass jobs.Pass, report func(n int, err error)) {
	a.addPacedLoop(name, jobs.Config{Interval: interval}, pass, report)
}

// addPacedLoop is addLoop with the rest of jobs.Config (Full, MaxBackoff,
// WaitFirst); its Report is set here.
func (a *App) addPacedLoop(name string, cfg jobs.Config, pass jobs.Pass, report func(n int, err error)) {
	a.addJob(name, func(ctx context.Context) { a.runLoop(ctx, name, cfg, pass, report) })
}

// jobGrace is how long a background pass in flight at shutdown may finish
// before its statements are cancelled. A pass takes milliseconds; cancelling
// one costs a CancelRequest, and PgBouncer 1.18 (Debian 12's) can crash on a
// CancelRequest that races the statement's end (pgbouncer#822, fixed in
// 1.20.1), so shutdown waits for the pass instead, as it waits for requests.
const jobGrace = 5 * time.Second

// runLoop runs the loop of addPacedLoop until ctx ends, for a job that has
// more to do around it (closing what the loop used once it has stopped).
func (a *App) runLoop(ctx context.Context, name string, cfg jobs.Config, pass jobs.Pass, report func(n int, err error)) {
	if cfg.Grace == 0 {
		cfg.Grace = jobGrace
	}
	cfg.Report = func(n int, err error) {
		var p *jobs.PanicError
		if errors.As(err, &p) {
			a.log.Error("background job pass panicked", "job", name, "panic", fmt.Sprint(p.Value), "stack", string(p.Stack))
			return
		}
		report(n, err)
	}
	if err := jobs.Run(ctx, pass, cfg); err != nil {
		a.log.Error("background job not started", "job", name, "err", err)
	}
}

// sweepLog is the report of a sweep: a failed pass is logged as an error
// (failed, with what it did before failing, counted under key), and a pass
// that did something at level (did). Idle passes are not logged.
func (a *App) sweepLog(failed, did string, level slog.Level, key string) func(n int, err error) {
	return func(n int, err error) {
		switch {
		case err != nil:
			a.log.Error(failed, key, n, "err", err)
		case n > 0:
			a.log.Log(context.Background(), level, did, key, n)
		}
	}
}

// startJobs starts every job; stop cancels them and waits for them to return.
func (a *App) startJobs(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, j := range a.jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					a.log.Error("background job panicked", "job", j.name, "panic", fmt.Sprint(r))
				}
			}()
			j.run(ctx)
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// Build opens the pools (creating and migrating the database when
// MIGRATE_ON_START is set), seeds demo data when SEED_DEMO is set, and wires
// the HTTP servers. It does not listen yet.
func Build(ctx context.Context, cfg config.Config, opts Options) (_ *App, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.RedisPrefix == "" {
		opts.RedisPrefix = "um:"
	}
	if opts.EventSubjectPrefix == "" {
		opts.EventSubjectPrefix = outbox.DefaultSubjectPrefix
	}
	a := &App{cfg: cfg, log: opts.Logger}
	defer func() {
		if err != nil {
			a.closePools()
		}
	}()

	if cfg.MigrateOnStart {
		a.db = upToDate(ctx, cfg)
		if a.db == nil {
			// On MIGRATE_DATABASE_URL, before the pool on DATABASE_URL opens
			// (which may be a PgBouncer that cannot hold goose's lock): see Migrate.
			if err := Migrate(ctx, cfg, "up", io.Discard); err != nil {
				return nil, fmt.Errorf("migrate: %w", err)
			}
		}
	}
	if a.db == nil {
		if a.db, err = postgres.Open(ctx, cfg.DatabaseURL, postgres.PoolOptions{}); err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
	}
	if a.redis, err = redis.Open(cfg.RedisURL); err != nil {
		return nil, fmt.Errorf("open redis: %w", err)
	}
	// Without Redis the gateway still serves products, orders and payments;
	// readiness reports it down. So this is a warning, not a failure.
	if err := redis.NewPinger(a.redis).Ping(ctx); err != nil {
		a.log.Warn("redis is not reachable at start-up", "err", err)
	}

	params := crypto.DefaultParams
	if opts.HasherParams != nil {
		params = *opts.HasherParams
	}
	hasher, err := crypto.NewPasswordHasher(params, 0)
	if err != nil {
		return nil, err
	}
	clock, ids := system.Clock{}, system.UUIDs{}
	tx := postgres.NewTxManager(a.db)
	users := postgres.NewUserRepo(a.db)

	if cfg.SeedDemo {
		if err := seedDemo(ctx, a.db, tx, users, hasher, ids, clock, opts.Stdout); err != nil {
			return nil, fmt.Errorf("seed demo data: %w", err)
		}
	}

	a.metrics = metrics.New()
	a.metrics.WatchDBPool(a.db.Stats)
	pgPinger := postgres.NewPinger(a.db)
	catalogPinger := a.chooseCatalog(ids, clock, pgPinger)
	checker := health.NewChecker(clock, map[string]ports.Pinger{
		"postgres": pgPinger,
		"redis":    redis.NewPinger(a.redis),
		// The built-in catalog lives in Postgres; an upstream catalog brings its own pinger.
		"catalog": catalogPinger,
	})
	httpCfg := httpapi.Config{
		Env:            cfg.Env,
		CORSOrigins:    cfg.CORSOrigins,
		TrustedProxies: cfg.TrustedProxies,
		Version:        opts.Version,
		StartedAt:      clock.Now(),
		RateLimitAuth:  httpapi.RatePolicy(cfg.RateLimitAuth),
		RateLimitAPI:   httpapi.RatePolicy(cfg.RateLimitAPI),
	}
	// Rate limits live in Redis so every instance shares one budget per client.
	limiter := redis.NewRateLimiter(a.redis, opts.RedisPrefix)
	deps := httpapi.Deps{
		Metrics: a.metrics, Logger: a.log, Health: checker, DBStats: a.db.Stats,
		RateLimiter: httpapi.RateLimiterFunc(func(ctx context.Context, key string, n int, per time.Duration) (httpapi.RateDecision, error) {
			d, err := limiter.Allow(ctx, key, n, per)
			return httpapi.RateDecision(d), err // same fields: a compile error if they drift
		}),
	}
	a.public = httpapi.NewPublic(httpCfg, deps)
	a.ops = httpapi.NewOps(httpCfg, deps)
	if err := a.wireIdentity(identityDeps{users: users, tx: tx, hasher: hasher, clock: clock, ids: ids, redisPrefix: opts.RedisPrefix}); err != nil {
		return nil, fmt.Errorf("wire identity: %w", err)
	}
	events := a.wireEvents(eventsDeps{clock: clock, ids: ids, subjectPrefix: opts.EventSubjectPrefix})
	a.wirePayme(paymeDeps{tx: tx, clock: clock, ids: ids, catalog: a.catalog, events: events})
	a.wireClick(clickDeps{tx: tx, clock: clock, ids: ids, events: events})
	a.wireCommerce(commerceDeps{tx: tx, clock: clock, ids: ids, events: events})
	if err := a.wireMoney(moneyDeps{tx: tx, clock: clock, ids: ids, events: events}); err != nil {
		return nil, fmt.Errorf("wire admin money routes: %w", err)
	}
	if err := a.wireReconciliation(tx, clock, events); err != nil {
		return nil, fmt.Errorf("wire reconciliation: %w", err)
	}
	a.wireDocs()
	return a, nil
}

// upToDate is the start-up fast path of MIGRATE_ON_START: the pool on
// DATABASE_URL when that database exists and has every migration already,
// nil otherwise (it does not exist, something is pending, or the check
// failed), and then Migrate runs as before. The common start (a database a
// previous run migrated) then opens one connection and reads goose's table
// once, instead of also a maintenance connection to check that the database
// exists and a migration pool of its own: about half of the start-up time
// measured by make bench-idle. goose's check takes no lock and cannot say
// "up to date" while a migration is missing, so an instance migrating
// meanwhile is never raced: a pending migration sends this one to Migrate.
func upToDate(ctx context.Context, cfg config.Config) *sqlx.DB {
	db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.PoolOptions{})
	if err != nil {
		return nil
	}
	if pending, err := postgres.MigrationsPending(ctx, db.DB); err != nil || pending {
		_ = db.Close()
		return nil
	}
	return db
}

// Listen binds both listeners, so a caller (or a test using ":0") knows the
// addresses before serving.
func (a *App) Listen() error {
	var err error
	// Binding is immediate: there is nothing to cancel.
	var lc net.ListenConfig
	if a.publicLn, err = lc.Listen(context.Background(), "tcp", a.cfg.HTTPAddr); err != nil {
		return fmt.Errorf("listen HTTP_ADDR: %w", err)
	}
	if a.opsLn, err = lc.Listen(context.Background(), "tcp", a.cfg.OpsAddr); err != nil {
		_ = a.publicLn.Close()
		return fmt.Errorf("listen OPS_ADDR: %w", err)
	}
	return nil
}

// PublicAddr and OpsAddr are the bound addresses (after Listen).
func (a *App) PublicAddr() string { return a.publicLn.Addr().String() }
func (a *App) OpsAddr() string    { return a.opsLn.Addr().String() }

// Run serves until ctx is done, then shuts down gracefully: both listeners
// close at once (new connections are refused), in-flight requests get up to
// SHUTDOWN_TIMEOUT to finish, then the pools close. A clean shutdown returns nil.
func (a *App) Run(ctx context.Context) error {
	servers := []*http.Server{
		a.newServer(a.public, "public"),
		a.newServer(a.ops, "ops"),
	}
	listeners := []net.Listener{a.publicLn, a.opsLn}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func(srv *http.Server, ln net.Listener) {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
				return
			}
			errc <- nil
		}(srv, listeners[i])
	}
	stopJobs := a.startJobs(ctx)
	a.log.Info("serving", "http_addr", a.PublicAddr(), "ops_addr", a.OpsAddr(), "env", a.cfg.Env)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
		// A listener failed on its own; shut the other down too.
	}
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout.String())
	stopJobs()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	var shutdownErr error
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			// Requests still running past the timeout are cut off.
			_ = srv.Close()
			shutdownErr = errors.Join(shutdownErr, fmt.Errorf("shutdown: %w", err))
		}
	}
	a.closePools()
	a.log.Info("stopped")
	return errors.Join(serveErr, shutdownErr)
}

func (a *App) newServer(h http.Handler, name string) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.With("server", name).Handler(), slog.LevelWarn),
	}
}

func (a *App) closePools() {
	if a.redis != nil {
		_ = a.redis.Close()
	}
	if a.db != nil {
		_ = a.db.Close()
	}
}

// Serve is `ultramarket serve`: build, listen, run until ctx is done.
func Serve(ctx context.Context, cfg config.Config, opts Options) error {
	start := time.Now()
	a, err := Build(ctx, cfg, opts)
	if err != nil {
		return err
	}
	if err := a.Listen(); err != nil {
		a.closePools()
		return err
	}
	a.log.Info("ready", "startup_ms", time.Since(start).Milliseconds())
	return a.Run(ctx)
}

// Public is the public router, for tests that need to add a route (for
// example a slow one, to watch a graceful shutdown drain it).
func (a *App) Public() *echo.Echo { return a.public }
