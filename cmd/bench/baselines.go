package main

// Baselines measured in the same run: nginx proxy_pass in front of the fake
// upstream, and pgbench -N on the bench database (its tables in a schema of
// their own, "pgbench", so they never mix with the gateway's).

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// findNginx is the nginx binary, "" when it is not installed.
func findNginx() string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// startNginx runs nginx in the foreground (a child, in its own process
// group) with a config, pid, logs and temp paths under dir, proxying
// 127.0.0.1:<free port> to upstream with keep-alive connections both ways,
// and a second port doing the same through a 1 s proxy_cache (microcaching,
// one request per key refreshing it: proxy_cache_lock). It returns the two
// base URLs.
func startNginx(ctx context.Context, procs *procSet, bin, dir, upstream string) (*proc, string, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", "", err
	}
	cacheAddr, err := freeAddr()
	if err != nil {
		return nil, "", "", err
	}
	up := strings.TrimPrefix(upstream, "http://")
	ndir := filepath.Join(dir, "nginx")
	for _, d := range []string{"", "client_body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"} {
		if err := os.MkdirAll(filepath.Join(ndir, d), 0o755); err != nil {
			return nil, "", "", err
		}
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the temp paths are root's; nginx would switch workers to nobody
	}
	conf := fmt.Sprintf(`# written by cmd/bench for one run of make bench
%[1]s
daemon off;
master_process on;
worker_processes auto;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[2]s/client_body;
  proxy_temp_path %[2]s/proxy;
  fastcgi_temp_path %[2]s/fastcgi;
  uwsgi_temp_path %[2]s/uwsgi;
  scgi_temp_path %[2]s/scgi;
  keepalive_requests 10000000;
  proxy_cache_path %[2]s/cache levels=1:2 keys_zone=micro:10m max_size=64m inactive=60s use_temp_path=off;
  upstream catalog {
    server %[3]s;
    keepalive 128;
    keepalive_requests 10000000;
  }
  server {
    listen %[4]s;
    location / {
      proxy_pass http://catalog;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
  server {
    listen %[5]s;
    location / {
      proxy_pass http://catalog;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache micro;
      proxy_cache_valid 200 1s;
      proxy_cache_lock on;
      proxy_cache_use_stale updating;
    }
  }
}
`, user, ndir, up, addr, cacheAddr)
	confPath := filepath.Join(ndir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, "", "", err
	}
	cmd := exec.CommandContext(context.Background(), bin, "-e", filepath.Join(ndir, "error.log"), "-p", ndir, "-c", confPath)
	p, _, err := procs.start("nginx", cmd, filepath.Join(ndir, "stderr.log"), false)
	if err != nil {
		return nil, "", "", err
	}
	for _, a := range []string{addr, cacheAddr} {
		if err := waitTCP(ctx, p, a, 10*time.Second); err != nil {
			errLog, _ := os.ReadFile(filepath.Join(ndir, "error.log"))
			return nil, "", "", fmt.Errorf("%w\n%s", err, errLog)
		}
	}
	return p, "http://" + addr, "http://" + cacheAddr, nil
}

// pgbenchResult is one pgbench -N run.
type pgbenchResult struct {
	tps        float64
	processed  int
	failed     int
	p50, p99   time.Duration
	avg        string
	busy, self float64 // cores busy machine-wide, cores used by pgbench itself
	foreign    float64 // cores used outside the bench
	cut        string
}

var (
	reTPS       = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	reProcessed = regexp.MustCompile(`number of transactions actually processed: (\d+)`)
	reFailed    = regexp.MustCompile(`number of failed transactions: (\d+)`)
	reAvg       = regexp.MustCompile(`latency average = ([0-9.]+ ms)`)
)

// runPgbench initialises scale into schema pgbench of database db and runs
// pgbench -N (simple-update: BEGIN; UPDATE accounts; SELECT; INSERT history;
// END) with clients for dur (whole seconds, at least 1).
func runPgbench(ctx context.Context, bin, dir, db string, scale, clients int, dur time.Duration) (*pgbenchResult, error) {
	conn, err := sql.Open("postgres", dbURL(db))
	if err != nil {
		return nil, err
	}
	_, err = conn.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS pgbench`)
	_ = conn.Close()
	if err != nil {
		return nil, fmt.Errorf("create schema pgbench: %w", err)
	}
	env := append(os.Environ(), "PGOPTIONS=-c search_path=pgbench", "PGHOST=127.0.0.1", "PGPORT=5432", "PGUSER=postgres")
	common := []string{"-h", "127.0.0.1", "-p", "5432", "-U", "postgres"}

	initCmd := exec.CommandContext(ctx, bin, append(common, "-i", "-q", "-s", strconv.Itoa(scale), db)...)
	initCmd.Env = env
	initCmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if out, err := initCmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgbench -i: %w: %s", err, lastLines(string(out), 5))
	}

	secs := int((dur + time.Second - 1) / time.Second)
	secs = max(secs, 1)
	threads := max(1, min(clients, runtime.NumCPU()))
	logPrefix := filepath.Join(dir, "pgbench-log")
	args := append(common, "-N", "-n", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(threads),
		"-T", strconv.Itoa(secs), "-l", "--log-prefix", logPrefix, db)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	before := takeCPU(nil)
	out, err := cmd.CombinedOutput()
	after := takeCPU(nil)
	if err != nil {
		return nil, fmt.Errorf("pgbench -N: %w: %s", err, lastLines(string(out), 5))
	}
	r := &pgbenchResult{}
	use := after.since(before)
	r.busy = use.busy
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		if wall := after.at.Sub(before.at).Seconds(); wall > 0 {
			r.self = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9 / wall
		}
	}
	r.foreign = use.foreign
	text := string(out)
	if m := reTPS.FindStringSubmatch(text); m != nil {
		r.tps, _ = strconv.ParseFloat(m[1], 64)
	} else {
		return nil, fmt.Errorf("pgbench -N: no tps in its output: %s", lastLines(text, 8))
	}
	if m := reProcessed.FindStringSubmatch(text); m != nil {
		r.processed, _ = strconv.Atoi(m[1])
	}
	if m := reFailed.FindStringSubmatch(text); m != nil {
		r.failed, _ = strconv.Atoi(m[1])
	}
	if m := reAvg.FindStringSubmatch(text); m != nil {
		r.avg = m[1]
	}
	if secs != int(dur/time.Second) || dur%time.Second != 0 {
		r.cut = fmt.Sprintf("-T %d (whole seconds)", secs)
	}
	r.p50, r.p99 = pgbenchPercentiles(logPrefix)
	return r, nil
}

// pgbenchPercentiles reads the per-transaction logs (-l): the third field of
// each line is the transaction's latency in microseconds.
func pgbenchPercentiles(prefix string) (p50, p99 time.Duration) {
	files, _ := filepath.Glob(prefix + ".*")
	var lat []time.Duration
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			us, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil {
				continue // a failed transaction
			}
			lat = append(lat, time.Duration(us)*time.Microsecond)
		}
		_ = fh.Close()
	}
	if len(lat) == 0 {
		return 0, 0
	}
	slices.Sort(lat)
	m := measured{lat: lat}
	return m.pct(0.50), m.pct(0.99)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
