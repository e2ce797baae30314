package main

// The one table make bench prints, with the ratios to the baselines beside
// the rows they compare.

import (
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	keyHealth         = "health"
	keyMe             = "me"
	keyProducts       = "products"
	keyProductsCached = "products-cached"
	keyUpstream       = "upstream"
	keyUpstreamGo     = "upstream-go"
	keyRevProxy       = "revproxy"
	keyNginx          = "nginx"
	keyNginxGo        = "nginx-go"
	keyNginxCache     = "nginx-cache"
	keyOrders         = "orders"
	keyOrdersWide     = "orders-wide"
	keyPayme          = "payme"
	keyLogin          = "login"
	keyLoginBurst     = "login-burst"
	keyPgbench        = "pgbench"
)

// foreignFlag is the foreign CPU (cores) from which a row is flagged.
const foreignFlag = 0.15

var rowOrder = []string{
	keyHealth, keyMe, keyProducts, keyProductsCached, keyUpstream, keyUpstreamGo, keyRevProxy, keyNginx, keyNginxGo, keyNginxCache,
	keyOrders, keyOrdersWide, keyPayme, keyPgbench, keyLogin, keyLoginBurst,
}

var rowTitle = map[string]string{
	keyHealth:         "GET /health",
	keyMe:             "GET /api/auth/me (bearer)",
	keyProducts:       "GET /api/products via gateway → upstream",
	keyProductsCached: "same, CATALOG_CACHE_TTL=1s",
	keyUpstream:       "· base: GET /products, upstream direct",
	keyUpstreamGo:     "· same, Go driver instead of wrk",
	keyRevProxy:       "· base: Go ReverseProxy → upstream",
	keyNginx:          "· base: nginx proxy_pass → upstream",
	keyNginxGo:        "· same, Go driver instead of wrk",
	keyNginxCache:     "· base: nginx proxy_cache 1s → upstream",
	keyOrders:         "POST /api/orders (built-in catalog)",
	keyOrdersWide:     "POST /api/orders, 100 distinct products",
	keyPayme:          "Payme Create+Perform pairs/s",
	keyPgbench:        "· base: pgbench -N (tps)",
	keyLogin:          "POST /api/auth/login (argon2id)",
	keyLoginBurst:     "POST /api/auth/login, burst",
}

type row struct {
	key          string
	ran          bool
	wrk          bool // driven by wrk rather than the Go driver
	na           string
	rate         float64
	p50, p99     time.Duration
	errs         int
	busy, client float64
	foreign      float64
	cpuPerOp     time.Duration
	window       time.Duration
	cut          string
	extra        []string
	samples      []string
}

func (rw *row) set(m measured) {
	if m.window <= 0 {
		rw.na = "not measured: " + m.cut
		return
	}
	rw.ran = true
	rw.rate, rw.p50, rw.p99, rw.errs = m.rate(), m.pct(0.50), m.pct(0.99), m.errs
	rw.busy, rw.client, rw.foreign, rw.window, rw.cut = m.busy, m.client, m.foreign, m.window, m.cut
	rw.samples = m.errSamples
	rw.cpuPerOp = m.serverPerOp
	if m.cut != "" && m.cut != "ran out of work" {
		rw.extra = append(rw.extra, fmt.Sprintf("%s after %s", m.cut, fmtDur(m.window)))
	}
}

type report struct {
	s         settings
	rows      map[string]*row
	hashTime  time.Duration
	rssNote   string
	idle      string
	otherLoad string
	notes     []string
	elapsed   time.Duration
}

func (r *report) row(key string) *row {
	if rw, ok := r.rows[key]; ok {
		return rw
	}
	rw := &row{key: key}
	r.rows[key] = rw
	return rw
}

// ratio is a's rate over b's, when both ran.
func (r *report) ratio(a, b string) (float64, bool) {
	ra, rb := r.rows[a], r.rows[b]
	if ra == nil || rb == nil || !ra.ran || !rb.ran || rb.rate <= 0 {
		return 0, false
	}
	return ra.rate / rb.rate, true
}

// cpuRatio is a's server CPU per operation over b's, when both have one.
func (r *report) cpuRatio(a, b string) string {
	ra, rb := r.rows[a], r.rows[b]
	if ra == nil || rb == nil || ra.cpuPerOp <= 0 || rb.cpuPerOp <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f×", float64(ra.cpuPerOp)/float64(rb.cpuPerOp))
}

func (r *report) ratioText(label, a, b string) string {
	if v, ok := r.ratio(a, b); ok {
		return fmt.Sprintf("%s %.2f", label, v)
	}
	return label + " n/a"
}

func (r *report) render() string {
	cores := runtime.NumCPU()
	ceiling := float64(cores) / r.hashTime.Seconds()
	notes := map[string][]string{
		keyMe: {r.ratioText("me/health =", keyMe, keyHealth)},
		keyProducts: {r.ratioText("÷ ReverseProxy =", keyProducts, keyRevProxy), r.ratioText("÷ nginx =", keyProducts, keyNginx),
			"CPU/op " + r.cpuRatio(keyProducts, keyRevProxy) + " ReverseProxy's, " + r.cpuRatio(keyProducts, keyNginx) + " nginx's"},
		keyProductsCached: {r.ratioText("÷ nginx =", keyProductsCached, keyNginx), r.ratioText("÷ nginx proxy_cache =", keyProductsCached, keyNginxCache)},
		keyUpstream:       {"no proxy: what the upstream gives"},
		keyUpstreamGo:     {r.ratioText("÷ wrk's =", keyUpstreamGo, keyUpstream)},
		keyNginxGo:        {r.ratioText("÷ wrk's =", keyNginxGo, keyNginx)},
		keyOrders:         {"1 unit of one product each"},
		keyOrdersWide:     {fmt.Sprintf("1 unit of each of the same %d products", wideProducts)},
		keyPayme:          {r.ratioText("÷ pgbench tps =", keyPayme, keyPgbench), "each on a fresh order"},
		keyLogin:          {fmt.Sprintf("ceiling %d cores ÷ %s = %.1f/s", cores, fmtDur(r.hashTime), ceiling)},
	}
	title := func(key string) string {
		if key == keyLoginBurst {
			return fmt.Sprintf("POST /api/auth/login, %d concurrent", r.s.loginBurst)
		}
		return rowTitle[key]
	}

	header := []string{"scenario", "requests/s", "p50", "p99", "errors", "server CPU/op", "CPU busy (load gen)", "vs baseline / notes"}
	var cells [][]string
	flagged := 0
	for _, key := range rowOrder {
		rw := r.rows[key]
		if rw == nil {
			if r.s.profile != "" {
				continue // make profile runs one scenario
			}
			rw = &row{key: key, na: "not run"}
		}
		note := append(append([]string{}, notes[key]...), rw.extra...)
		if rw.wrk {
			note = append(note, "wrk")
		}
		if rw.ran && rw.foreign >= foreignFlag {
			note = append(note, fmt.Sprintf("⚠ foreign CPU %.2f", rw.foreign))
			flagged++
		}
		if !rw.ran {
			na := rw.na
			if na == "" {
				na = "not run"
			}
			cells = append(cells, []string{title(key), "n/a", "-", "-", "-", "-", "-", na})
			continue
		}
		cpu := "-"
		if rw.busy > 0 || rw.client > 0 {
			cpu = fmt.Sprintf("%.2f (%.2f)", rw.busy, rw.client)
		}
		cells = append(cells, []string{
			title(key), fmt.Sprintf("%.1f", rw.rate), fmtDur(rw.p50), fmtDur(rw.p99),
			fmt.Sprintf("%d", rw.errs), fmtDur(rw.cpuPerOp), cpu, strings.Join(note, "; "),
		})
	}

	width := make([]int, len(header))
	for _, line := range append([][]string{header}, cells...) {
		for i, c := range line {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	line := func(c []string) {
		b.WriteString("|")
		for i, v := range c {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(v))
			if i >= 1 && i <= 5 { // numbers right-aligned
				b.WriteString(" " + pad + v + " |")
			} else {
				b.WriteString(" " + v + pad + " |")
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\nmake bench: %s, %d cores, %s %s/%s; each scenario %s warm-up + %s measured, %d closed-loop workers (wrk -t1 connections on the rows marked wrk), keep-alive HTTP/1.1 on 127.0.0.1; whole run %s\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), cores, runtime.Version(), runtime.GOOS, runtime.GOARCH,
		r.s.warmup, r.s.duration, r.s.concurrency, r.elapsed.Round(100*time.Millisecond))
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	b.WriteString("|")
	for i, s := range sep {
		if i >= 1 && i <= 5 {
			b.WriteString("-" + s + ":|")
		} else {
			b.WriteString("-" + s + "-|")
		}
	}
	b.WriteString("\n")
	for _, c := range cells {
		line(c)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "- login ceiling: %d cores ÷ one argon2id hash at DefaultParams (%s, measured in-process: best CPU time of 14 hashes, %s) = %.1f logins/s\n",
		cores, paramsText(), fmtDur(r.hashTime), ceiling)
	if r.otherLoad != "" {
		b.WriteString("- " + r.otherLoad + "\n")
	}
	if r.rssNote != "" {
		b.WriteString("- " + r.rssNote + "\n")
	}
	if r.idle != "" {
		b.WriteString("- " + r.idle + "\n")
	}
	if flagged > 0 {
		fmt.Fprintf(&b, "- ⚠ foreign CPU x: processes outside the bench (another build or test run) used x cores during that row's window; its numbers are low and noisy\n")
	}
	b.WriteString("- requests/s counts successful answers in the measured window; p50/p99 are theirs; server CPU/op = CPU time of the process under test (gateway, proxy or upstream; not Postgres, Redis, nor the upstream behind a proxy) per successful operation; CPU busy = cores busy machine-wide (cores used by the load generator)\n")
	for _, n := range r.notes {
		b.WriteString("- " + n + "\n")
	}
	for _, key := range rowOrder {
		if rw := r.rows[key]; rw != nil {
			for _, s := range rw.samples {
				fmt.Fprintf(&b, "- error in %q: %s\n", title(key), s)
			}
		}
	}
	return b.String()
}
