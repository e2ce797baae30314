// Command bench is the load harness behind `make bench`.
//
// It makes a fresh database, starts two gateway processes (the built-in
// catalog; CATALOG_URL = a fake upstream catalog it also starts), prepares
// data through the API, drives each scenario with a fixed number of
// closed-loop workers for a bounded time, measures baselines in the same run
// (a bare Go httputil.ReverseProxy and nginx in front of the same upstream,
// pgbench -N on the same Postgres) and prints one table: requests/s, p50,
// p99 and errors per scenario, with ratios to the baselines beside them.
//
// Everything it starts is its child, on 127.0.0.1 only, and is stopped on
// exit, on Ctrl-C, and at the global deadline. It exits 0 once it has printed
// the table, 1 when a gateway (or what a gateway needs) failed to start, 2 on
// bad settings and 130 when interrupted (after printing what it had).
//
// Settings (environment, or the flags of the same meaning):
//
//	BENCH_DURATION=6s        measured window of each scenario (after BENCH_WARMUP)
//	BENCH_WARMUP=1s          unmeasured warm-up of each scenario
//	BENCH_CONCURRENCY=32     closed-loop workers per scenario (pgbench clients too)
//	BENCH_LOGIN_BURST=200    workers of the login phase whose gateway RSS is reported
//	BENCH_DEADLINE=5m        the whole run, preparation included
//	BENCH_DB=ultramarket_bench          database dropped and recreated each run
//	BENCH_REDIS_URL=redis://127.0.0.1:6379/15
//	BENCH_PGBENCH_SCALE=1    pgbench -i scale
//	BENCH_KEEP=1             keep the temp dir (logs, nginx.conf, pgbench logs)
//
// With -profile <scenario> (make profile SCENARIO=<scenario>) it runs only
// that scenario (and what it needs) and saves a CPU and an allocation profile
// of the gateway under it, read from the ops listener's /debug/pprof/, into
// -profile-dir.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ultramarket/gateway/adapters/crypto"
)

type settings struct {
	binary      string
	database    string
	redisURL    string
	results     string
	tmp         string
	duration    time.Duration
	warmup      time.Duration
	deadline    time.Duration
	concurrency int
	loginBurst  int
	pgScale     int
	keep        bool
	profile     string // the scenario to profile ("" for a full run)
	profileDir  string
	idleOnly    bool // only the idle and start-up measurement (make bench-idle)
}

var (
	errInterrupted = errors.New("interrupted")
	errDeadline    = errors.New("global deadline (BENCH_DEADLINE) reached")
)

func main() {
	os.Exit(run())
}

func envOr(k, def string) string {
	if v, ok := os.LookupEnv(k); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func run() int {
	var s settings
	var role, upstream, duration, warmup, deadline string
	flag.StringVar(&role, "role", "", "internal: run as a child (upstream | revproxy)")
	flag.StringVar(&upstream, "upstream", "", "internal: the upstream of -role revproxy")
	flag.StringVar(&s.binary, "binary", "bin/ultramarket", "the gateway binary (make build)")
	flag.StringVar(&s.results, "results", "cmd/bench/results", "folder for latest.txt, a copy of the report (\"\" for none)")
	flag.StringVar(&duration, "duration", envOr("BENCH_DURATION", "6s"), "measured window per scenario (BENCH_DURATION)")
	flag.StringVar(&warmup, "warmup", envOr("BENCH_WARMUP", "1s"), "warm-up per scenario (BENCH_WARMUP)")
	flag.StringVar(&deadline, "deadline", envOr("BENCH_DEADLINE", "5m"), "bound on the whole run (BENCH_DEADLINE)")
	flag.StringVar(&s.database, "db", envOr("BENCH_DB", "ultramarket_bench"), "database, dropped and recreated (BENCH_DB)")
	flag.StringVar(&s.redisURL, "redis", envOr("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"), "Redis of the gateways (BENCH_REDIS_URL)")
	conc := flag.Int("concurrency", atoiOr(envOr("BENCH_CONCURRENCY", "32")), "workers per scenario (BENCH_CONCURRENCY)")
	burst := flag.Int("login-burst", atoiOr(envOr("BENCH_LOGIN_BURST", "200")), "workers of the RSS login phase (BENCH_LOGIN_BURST)")
	scale := flag.Int("pgbench-scale", atoiOr(envOr("BENCH_PGBENCH_SCALE", "1")), "pgbench -i scale (BENCH_PGBENCH_SCALE)")
	flag.BoolVar(&s.keep, "keep", envOr("BENCH_KEEP", "") != "", "keep the temp dir (BENCH_KEEP)")
	flag.StringVar(&s.profile, "profile", "", "run only this scenario and profile the gateway under it: "+strings.Join(profileScenarios, ", "))
	flag.StringVar(&s.profileDir, "profile-dir", "profiles", "where -profile writes <scenario>/cpu.pprof and allocs.pprof, and the idle measurement idle/heap.pprof")
	flag.BoolVar(&s.idleOnly, "idle", false, "only measure start-up time and idle memory (make bench-idle)")
	flag.Parse()

	switch role {
	case "upstream":
		return runUpstream()
	case "revproxy":
		return runReverseProxy(upstream)
	case "":
	default:
		fmt.Fprintln(os.Stderr, "bench: unknown -role", role)
		return 2
	}

	var bad []string
	parseDur := func(name, v string, min time.Duration) time.Duration {
		d, err := time.ParseDuration(v)
		if err != nil || d < min {
			bad = append(bad, fmt.Sprintf("%s=%q must be a duration ≥ %s", name, v, min))
		}
		return d
	}
	s.duration = parseDur("BENCH_DURATION", duration, 100*time.Millisecond)
	s.warmup = parseDur("BENCH_WARMUP", warmup, 0)
	s.deadline = parseDur("BENCH_DEADLINE", deadline, 10*time.Second)
	s.concurrency, s.loginBurst, s.pgScale = *conc, *burst, *scale
	if s.concurrency < 1 || s.concurrency > 1000 {
		bad = append(bad, "BENCH_CONCURRENCY must be 1..1000")
	}
	if s.loginBurst < 1 || s.loginBurst > 2000 {
		bad = append(bad, "BENCH_LOGIN_BURST must be 1..2000")
	}
	if s.pgScale < 1 || s.pgScale > 100 {
		bad = append(bad, "BENCH_PGBENCH_SCALE must be 1..100")
	}
	if u, err := url.Parse(s.redisURL); err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		bad = append(bad, "BENCH_REDIS_URL must be a redis:// URL on 127.0.0.1 (the harness sends traffic to loopback only)")
	}
	if s.database == "" || strings.ContainsAny(s.database, "/?# \"") {
		bad = append(bad, "BENCH_DB must be a plain database name")
	}
	if s.profile != "" && !slices.Contains(profileScenarios, s.profile) {
		bad = append(bad, fmt.Sprintf("-profile %q: one of %s", s.profile, strings.Join(profileScenarios, ", ")))
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintln(os.Stderr, "bench:", b)
		}
		return 2
	}
	if _, err := os.Stat(s.binary); err != nil {
		fmt.Fprintf(os.Stderr, "bench: gateway binary %s: %v (run make build)\n", s.binary, err)
		return 1
	}
	if abs, err := filepath.Abs(s.binary); err == nil {
		s.binary = abs
	}
	return bench(s)
}

func atoiOr(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// bench is the whole run once the settings are good.
func bench(s settings) (code int) {
	begun := time.Now()
	root, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	ctx, cancelDeadline := context.WithTimeoutCause(root, s.deadline, errDeadline)
	defer cancelDeadline()

	procs := &procSet{}
	defer procs.stopAll(3 * time.Second)
	benchGroups = procs.groups

	// Ctrl-C (or SIGTERM): stop the scenario in progress, print what was
	// measured, stop the children. A second one stops them at once and exits.
	sigc := make(chan os.Signal, 2)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigc)
	go func() {
		<-sigc
		logf("interrupted: stopping")
		cancel(errInterrupted)
		<-sigc
		procs.stopAll(0)
		os.Exit(130)
	}()
	defer func() {
		if r := recover(); r != nil {
			procs.stopAll(0)
			panic(r)
		}
	}()

	tmp, err := os.MkdirTemp("", "ultramarket-bench-")
	if err != nil {
		logf("temp dir: %v", err)
		return 1
	}
	s.tmp = tmp
	keep := s.keep
	defer func() {
		procs.stopAll(3 * time.Second)
		if keep {
			logf("logs kept in %s", tmp)
		} else {
			_ = os.RemoveAll(tmp)
		}
	}()
	fail := func(format string, args ...any) int {
		logf(format, args...)
		keep = true
		if errors.Is(context.Cause(root), errInterrupted) {
			return 130
		}
		return 1
	}

	cfg := driveConfig{concurrency: s.concurrency, warmup: s.warmup, duration: s.duration, timeout: 30 * time.Second}
	r := &report{s: s, rows: map[string]*row{}}
	// What else the machine is doing: one second of /proc/stat before
	// anything of the harness runs.
	idle0 := takeCPU(nil)
	time.Sleep(time.Second)
	if others := takeCPU(nil).since(idle0).busy; others >= 0.25 {
		r.otherLoad = fmt.Sprintf("other processes kept %.2f of %d cores busy just before the run: numbers are lower and noisier than on an idle machine",
			others, runtime.NumCPU())
		logf("%s", r.otherLoad)
	}

	if s.idleOnly {
		res, err := measureIdle(ctx, s, procs, s.database+"_idle", s.profileDir)
		if err != nil {
			return fail("idle: %v", err)
		}
		fmt.Printf("idle and start-up (make run's settings, existing database): %s\n", res)
		if res.profile != "" {
			fmt.Printf("heap profile at rest: %s\n", res.profile)
		}
		return 0
	}

	// The cost of one password hash at the production parameters, measured
	// here while nothing else runs: the ceiling of logins is cores / that.
	hash, hashWall, err := measureHash()
	if err != nil {
		return fail("argon2id: %v", err)
	}
	r.hashTime = hash
	logf("argon2id %s: one hash takes %s of CPU (%s wall); %d cores → at most %.1f logins/s",
		paramsText(), fmtDur(hash), fmtDur(hashWall), runtime.NumCPU(), float64(runtime.NumCPU())/hash.Seconds())

	if err := recreateDatabase(ctx, s.database); err != nil {
		return fail("%v (is Postgres up? make services)", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fail("own executable: %v", err)
	}
	upProc, upURL, err := procs.start("fake upstream", exec.CommandContext(context.Background(), self, "-role", "upstream"), filepath.Join(tmp, "upstream.log"), true)
	if err != nil {
		return fail("fake upstream: %v", err)
	}
	gwA, err := startGateway(ctx, s, procs, "builtin", nil)
	if err != nil {
		return fail("gateway failed to start: %v", err)
	}
	// Started after A has migrated the shared database.
	gwB, err := startGateway(ctx, s, procs, "upstream", map[string]string{"CATALOG_URL": upURL})
	if err != nil {
		return fail("gateway failed to start: %v", err)
	}
	gwC, err := startGateway(ctx, s, procs, "upstream-cached", map[string]string{"CATALOG_URL": upURL, "CATALOG_CACHE_TTL": "1s"})
	if err != nil {
		return fail("gateway failed to start: %v", err)
	}
	logf("gateways: built-in catalog %s (pid %d), upstream catalog %s (pid %d), the same with CATALOG_CACHE_TTL=1s %s (pid %d) → %s",
		gwA.base, gwA.p.pid(), gwB.base, gwB.p.pid(), gwC.base, gwC.p.pid(), upURL)

	var rpProc, nginxProc *proc
	rpURL, rpErr := "", error(nil)
	if rpProc, rpURL, rpErr = procs.start("reverseproxy", exec.CommandContext(context.Background(), self, "-role", "revproxy", "-upstream", upURL),
		filepath.Join(tmp, "reverseproxy.log"), true); rpErr != nil {
		logf("Go ReverseProxy baseline: %v", rpErr)
	}
	nginxURL, nginxCacheURL, nginxNA := "", "", ""
	if bin := findNginx(); bin == "" {
		nginxNA = "nginx not installed (deploy/bench-deps.sh installs it)"
	} else if nginxProc, nginxURL, nginxCacheURL, err = startNginx(ctx, procs, bin, tmp, upURL); err != nil {
		nginxNA = "nginx did not start: " + firstLine(err.Error())
		logf("nginx: %v", err)
	}

	// Data: buyers through the API, a product with stock. One buyer per
	// worker of the login burst too: the gateway lets at most 5 logins of one
	// (email, client IP) pair be checked at once (API.md's lockout), so 200
	// workers sharing 32 accounts would mostly be told 429.
	fx, prepErr := prepare(ctx, s, gwA, max(s.concurrency, s.loginBurst))
	if prepErr == nil {
		prepErr = fx.createProduct(ctx, gwA)
		if prepErr != nil {
			prepErr = fmt.Errorf("create product: %w", prepErr)
		} else if prepErr = fx.createWideProducts(ctx, gwA); prepErr != nil {
			prepErr = fmt.Errorf("create the wide order's products: %w", prepErr)
		}
	}
	if prepErr != nil {
		logf("preparing data: %v", prepErr)
	}
	prepNA := func() string {
		if prepErr != nil {
			return "no data: " + firstLine(prepErr.Error())
		}
		return ""
	}
	logf("prepared in %s; each scenario: %s warm-up + %s measured, %d workers", time.Since(begun).Round(time.Millisecond), s.warmup, s.duration, s.concurrency)

	on := func(p *proc) driveConfig { c := cfg; c.server = group(p); return c }
	var profErr error
	// run measures one scenario with gen (the Go driver or wrk) and logs it.
	run := func(key string, gen func() measured) *row {
		rw := r.row(key)
		if ctx.Err() != nil {
			rw.na = "not run: " + context.Cause(ctx).Error()
			return rw
		}
		var captured func() error
		if key == s.profile {
			g := gwA
			switch key {
			case keyProducts:
				g = gwB
			case keyProductsCached:
				g = gwC
			}
			captured = captureProfiles(ctx, g.ops, filepath.Join(s.profileDir, key), s.warmup, s.duration)
		}
		m := gen()
		if captured != nil {
			if err := captured(); err != nil {
				profErr = err
			}
		}
		rw.set(m)
		if !rw.ran {
			logf("%-44s %s", rowTitle[key], rw.na)
			return rw
		}
		logf("%-44s %9.1f/s  p50 %-9s p99 %-9s errors %d %s", rowTitle[key], rw.rate, fmtDur(rw.p50), fmtDur(rw.p99), rw.errs, m.cut)
		if len(m.errSamples) > 0 {
			keep = true
		}
		return rw
	}
	scenario := func(key string, c driveConfig, op opFunc) *row {
		return run(key, func() measured { return drive(ctx, c, op) })
	}
	// httpGet is a GET row that must answer 200: driven by wrk when it is
	// installed, else by the Go driver (and the report says so).
	wrkBin := findWrk()
	if wrkBin == "" {
		r.notes = append(r.notes, "wrk not installed (deploy/bench-deps.sh installs it): the GET rows were driven by the Go driver, which on a small machine is the bottleneck of the fastest rows")
	}
	httpGet := func(key string, p *proc, url string, header ...string) *row {
		if wrkBin == "" {
			h := map[string]string{}
			for _, kv := range header {
				k, v, _ := strings.Cut(kv, ": ")
				h[k] = v
			}
			return scenario(key, on(p), getOp(url, func(*worker) map[string]string { return h }))
		}
		rw := run(key, func() measured { return driveWrk(ctx, wrkBin, on(p), url, header...) })
		rw.wrk = true
		return rw
	}
	want := func(key string) bool { return s.profile == "" || s.profile == key }

	if want(keyHealth) {
		httpGet(keyHealth, gwA.p, gwA.base+"/health")
	}
	switch {
	case !want(keyMe):
	case fx == nil:
		r.row(keyMe).na = prepNA()
	default:
		httpGet(keyMe, gwA.p, gwA.base+"/api/auth/me", "Authorization: Bearer "+fx.buyers[0].token)
	}
	if want(keyProducts) {
		httpGet(keyProducts, gwB.p, gwB.base+"/api/products")
	}
	if want(keyProductsCached) {
		httpGet(keyProductsCached, gwC.p, gwC.base+"/api/products")
	}
	if s.profile == "" {
		httpGet(keyUpstream, upProc, upURL+"/products")
		if wrkBin != "" {
			// The same URL with the Go driver: how far it is from wrk's.
			scenario(keyUpstreamGo, on(upProc), getOp(upURL+"/products", nil))
		}
		if rpErr != nil {
			r.row(keyRevProxy).na = "did not start: " + firstLine(rpErr.Error())
		} else {
			httpGet(keyRevProxy, rpProc, rpURL+"/products")
		}
		if nginxNA != "" {
			r.row(keyNginx).na, r.row(keyNginxCache).na = nginxNA, nginxNA
		} else {
			httpGet(keyNginx, nginxProc, nginxURL+"/products")
			if wrkBin != "" {
				scenario(keyNginxGo, on(nginxProc), getOp(nginxURL+"/products", nil))
			}
			httpGet(keyNginxCache, nginxProc, nginxCacheURL+"/products")
		}
	}

	pool := &orderPool{}
	switch na := prepNA(); {
	case !want(keyOrders) && !want(keyOrdersWide) && !want(keyPayme):
	case na != "":
		r.row(keyOrders).na, r.row(keyOrdersWide).na, r.row(keyPayme).na = na, na, na
	default:
		if want(keyOrders) || want(keyPayme) {
			scenario(keyOrders, on(gwA.p), placeOrderOp(gwA.base, fx, []string{fx.productID}, pool))
		}
		if want(keyOrdersWide) {
			// Not in the pool: Payme pays one-line orders, like the row.
			scenario(keyOrdersWide, on(gwA.p), placeOrderOp(gwA.base, fx, fx.wide, nil))
		}
		// More orders for Payme, unmeasured: a pair may well run faster than
		// an order is placed, and every pair needs a fresh order.
		if pool.len() > 0 && ctx.Err() == nil {
			placed := pool.len()
			top := cfg
			top.warmup = 0
			top.duration = s.warmup + s.duration
			drive(ctx, top, placeOrderOp(gwA.base, fx, []string{fx.productID}, pool))
			logf("placed %d more orders for Payme (unmeasured): pool %d", pool.len()-placed, pool.len())
		}
		switch n := pool.len(); {
		case !want(keyPayme):
		case ctx.Err() != nil:
			r.row(keyPayme).na = "not run: " + context.Cause(ctx).Error()
		case n == 0:
			r.row(keyPayme).na = "no orders to pay: POST /api/orders placed none"
		default:
			rw := scenario(keyPayme, on(gwA.p), paymePairOp(gwA.base, pool))
			if rw.cut == "ran out of work" {
				rw.extra = append(rw.extra, fmt.Sprintf("all %d orders paid: measured over %s", n, fmtDur(rw.window)))
			}
		}
	}

	// pgbench -N on the same Postgres, same client count and duration.
	pg := r.row(keyPgbench)
	switch bin, err := exec.LookPath("pgbench"); {
	case s.profile != "":
		pg.na = "not run (make profile)"
	case err != nil:
		pg.na = "pgbench not installed (deploy/bench-deps.sh installs it)"
	case ctx.Err() != nil:
		pg.na = "not run: " + context.Cause(ctx).Error()
	default:
		res, err := runPgbench(ctx, bin, tmp, s.database, s.pgScale, s.concurrency, s.duration)
		if err != nil && ctx.Err() != nil {
			pg.na = "cut short: " + context.Cause(ctx).Error()
			break
		}
		if err != nil {
			pg.na = firstLine(err.Error())
			logf("%v", err)
			break
		}
		pg.ran = true
		pg.rate, pg.p50, pg.p99, pg.errs = res.tps, res.p50, res.p99, res.failed
		pg.busy, pg.client, pg.foreign = res.busy, res.self, res.foreign
		pg.extra = append(pg.extra, fmt.Sprintf("scale %d, -c %d, avg %s", s.pgScale, s.concurrency, res.avg))
		if res.cut != "" {
			pg.extra = append(pg.extra, res.cut)
		}
		logf("%-44s %9.1f/s  p50 %-9s p99 %-9s failed %d", rowTitle[keyPgbench], res.tps, fmtDur(res.p50), fmtDur(res.p99), res.failed)
	}

	switch {
	case !want(keyLogin):
	case fx == nil:
		r.row(keyLogin).na, r.row(keyLoginBurst).na = prepNA(), prepNA()
	default:
		// The hash again, now that the gateways idle between scenarios: the
		// best of both measurements is the ceiling's.
		if again, _, err := measureHash(); err == nil && again < r.hashTime {
			r.hashTime, hash = again, again
		}
		lc := on(gwA.p)
		lc.timeout = 60 * time.Second
		rw := scenario(keyLogin, lc, loginOp(gwA.base, fx))
		if rw.rate > 0 {
			ceil := float64(runtime.NumCPU()) / hash.Seconds()
			rw.extra = append(rw.extra, fmt.Sprintf("%.0f%% of ceiling", 100*rw.rate/ceil))
		}
		// The burst: as many logins at once as BENCH_LOGIN_BURST, while the
		// gateway's peak RSS is watched (clear_refs resets VmHWM first).
		pid := gwA.p.pid()
		resetErr := resetHWM(pid)
		_, rssBefore, _ := memStatus(pid)
		lc.concurrency = s.loginBurst // VmHWM covers its warm-up too
		rw = scenario(keyLoginBurst, lc, loginOp(gwA.base, fx))
		if hwm, _, err := memStatus(pid); err == nil && rw.ran {
			what := "peak"
			if resetErr != nil {
				what = "peak since start"
			}
			r.rssNote = fmt.Sprintf("gateway (built-in) VmHWM %s during %d concurrent logins (%s; VmRSS %s before)",
				mib(hwm), s.loginBurst, what, mib(rssBefore))
			rw.extra = append(rw.extra, fmt.Sprintf("VmHWM %s (VmRSS before %s)", mib(hwm), mib(rssBefore)))
		}
	}

	if s.profile != "" {
		if profErr != nil {
			r.notes = append(r.notes, "profiles: "+profErr.Error())
		} else {
			r.notes = append(r.notes, fmt.Sprintf("profiles of the gateway during %q: %s/{cpu,allocs}.pprof", rowTitle[s.profile], filepath.Join(s.profileDir, s.profile)))
		}
	}
	if s.profile == "" && ctx.Err() == nil {
		if res, err := measureIdle(ctx, s, procs, s.database+"_idle", ""); err != nil {
			r.idle = "idle and start-up: not measured: " + firstLine(err.Error())
		} else {
			r.idle = "idle and start-up (make run's settings, existing database): " + res.String()
		}
		logf("%s", r.idle)
	}
	for _, g := range []*gateway{gwA, gwB, gwC} {
		if !g.p.alive() {
			keep = true
			r.notes = append(r.notes, fmt.Sprintf("gateway (%s) EXITED during the run: %v; log %s", g.name, g.p.err, g.p.logPath))
		}
	}
	r.elapsed = time.Since(begun)
	out := r.render()
	fmt.Print(out)
	if s.results != "" && s.profile == "" {
		if err := os.MkdirAll(s.results, 0o755); err == nil {
			_ = os.WriteFile(filepath.Join(s.results, "latest.txt"), []byte(out), 0o644)
		}
	}
	if errors.Is(context.Cause(root), errInterrupted) {
		return 130
	}
	return 0
}

// measureHash is the time one argon2id hash at DefaultParams takes (what
// registration and login pay): the process's CPU time (the harness runs
// nothing else meanwhile) and the wall time, each the best of 7 runs after a
// warm-up. Best, not median: on a shared machine other work only ever adds
// (argon2id is memory-bound, and 2 vCPUs are often one core's two hardware
// threads), and the ceiling is a best case.
func measureHash() (cpu, wall time.Duration, err error) {
	h, err := crypto.NewPasswordHasher(crypto.DefaultParams, 1)
	if err != nil {
		return 0, 0, err
	}
	ctx := context.Background()
	if _, err := h.Hash(ctx, benchPassword); err != nil {
		return 0, 0, err
	}
	var cpus, walls []time.Duration
	for range 7 {
		c0, t0 := takeCPU(nil).self, time.Now()
		if _, err := h.Hash(ctx, benchPassword); err != nil {
			return 0, 0, err
		}
		walls = append(walls, time.Since(t0))
		cpus = append(cpus, takeCPU(nil).self-c0)
	}
	return slices.Min(cpus), slices.Min(walls), nil
}

func paramsText() string {
	p := crypto.DefaultParams
	return fmt.Sprintf("m=%d MiB t=%d p=%d", p.Memory/1024, p.Iterations, p.Parallelism)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	if len(l) > 140 {
		l = l[:140] + "..."
	}
	return l
}
