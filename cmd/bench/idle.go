package main

// Idle and start-up, measured as a new user meets them: `make run`'s binary
// and settings (APP_ENV=development: migrate on start, demo data), on a
// database that already exists and is migrated (a first run made it), with
// Redis up. Time to ready is from the process's start to the first 200 of
// /health/ready (polled every 2 ms); then, after 5 s of rest, VmRSS from
// /proc and the heap in use as the runtime reports it (the ops listener's
// /debug/pprof/heap?debug=1), and a heap profile at rest is saved beside the
// others (profiles/idle/heap.pprof) to show what holds it.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// idleRest is how long the gateway rests after ready before it is measured.
const idleRest = 5 * time.Second

type idleResult struct {
	ready     time.Duration // process start → /health/ready 200
	readyCPU  time.Duration // the process's CPU time (user + system) by then: what load on the machine does not inflate
	rss       int64         // VmRSS after idleRest
	heapInuse int64         // runtime.MemStats.HeapInuse after idleRest
	profile   string        // the heap profile at rest ("" if not saved)
}

func (r idleResult) String() string {
	// /proc counts CPU time in 10 ms ticks: none means less than one.
	cpu := fmtDur(r.readyCPU)
	if r.readyCPU <= 0 {
		cpu = "under 10 ms"
	}
	return fmt.Sprintf("ready in %s (%s of CPU); %s after: VmRSS %s, heap in use %s (targets: ready < 100 ms, RSS < 30 MiB)",
		fmtDur(r.ready), cpu, idleRest, mib(r.rss), mib(r.heapInuse))
}

var reHeapInuse = regexp.MustCompile(`(?m)^# HeapInuse = (\d+)$`)

// measureIdle runs the gateway twice on database db: once to create, migrate
// and seed it (not measured), then the measured start.
func measureIdle(ctx context.Context, s settings, procs *procSet, db, profileDir string) (idleResult, error) {
	var res idleResult
	if err := recreateDatabase(ctx, db); err != nil {
		return res, err
	}
	env := map[string]string{
		// What `make run` gives it, bar the addresses (free ports) and the
		// database (its own): development defaults, demo data included.
		"APP_ENV": "development", "DATABASE_URL": dbURL(db), "SEED_DEMO": "true", "MIGRATE_ON_START": "true",
		"RATE_LIMIT_AUTH": "", "RATE_LIMIT_API": "", "ORDER_MAX_UNPAID": "", "REFRESH_TOKEN_TTL": "",
		"PAYME_LOGIN": "", "PAYME_KEY": "", "PAYME_MERCHANT_ID": "",
	}
	start := func(name string) (*gateway, time.Duration, error) {
		httpAddr, err := freeAddr()
		if err != nil {
			return nil, 0, err
		}
		opsAddr, err := freeAddr()
		if err != nil {
			return nil, 0, err
		}
		e := map[string]string{"HTTP_ADDR": httpAddr, "OPS_ADDR": opsAddr}
		for k, v := range env {
			e[k] = v
		}
		cmd := exec.CommandContext(context.Background(), s.binary, "serve")
		var vars []string
		for _, kv := range gatewayEnv(s, e) {
			if k, v, _ := strings.Cut(kv, "="); v != "" || !hasKey(env, k) {
				vars = append(vars, kv) // an empty value above means: the binary's default
			}
		}
		cmd.Env = vars
		began := time.Now()
		p, _, err := procs.start("gateway ("+name+")", cmd, filepath.Join(s.tmp, "gateway-"+name+".log"), false)
		if err != nil {
			return nil, 0, err
		}
		g := &gateway{name: name, base: "http://" + httpAddr, ops: "http://" + opsAddr, p: p}
		client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
		for end := began.Add(60 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
			if !p.alive() {
				return nil, 0, fmt.Errorf("gateway (%s) exited: %v\n%s", name, p.err, p.tail(15)) //nolint:errorlint // p.err may be nil; the message is for a person
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.base+"/health/ready", nil)
			if resp, err := client.Do(req); err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return g, time.Since(began), nil
				}
			}
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
		}
		return nil, 0, fmt.Errorf("gateway (%s) not ready after 60s\n%s", name, p.tail(15))
	}
	stop := func(g *gateway) {
		_ = g.p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-g.p.done:
		case <-time.After(5 * time.Second):
			_ = g.p.cmd.Process.Kill()
			<-g.p.done
		}
	}

	first, _, err := start("idle-first-run")
	if err != nil {
		return res, err
	}
	stop(first)
	g, ready, err := start("idle")
	if err != nil {
		return res, err
	}
	defer stop(g)
	res.ready = ready
	res.readyCPU = procCPU(g.p.pid())
	select {
	case <-time.After(idleRest):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	if _, res.rss, err = memStatus(g.p.pid()); err != nil {
		return res, err
	}
	text, err := get(ctx, g.ops+"/debug/pprof/heap?debug=1")
	if err != nil {
		return res, err
	}
	m := reHeapInuse.FindStringSubmatch(string(text))
	if m == nil {
		return res, errors.New("no HeapInuse in /debug/pprof/heap?debug=1")
	}
	res.heapInuse, _ = strconv.ParseInt(m[1], 10, 64)
	if profileDir != "" {
		dir := filepath.Join(profileDir, "idle")
		if err := os.MkdirAll(dir, 0o755); err == nil {
			file := filepath.Join(dir, "heap.pprof")
			if fetchProfile(ctx, g.ops+"/debug/pprof/heap", file) == nil {
				res.profile = file
			}
		}
	}
	return res, nil
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}

// procCPU is pid's user + system CPU time so far (/proc/<pid>/stat, in
// clock ticks of 10 ms: USER_HZ is 100 on Linux).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	st := string(b)
	end := strings.LastIndexByte(st, ')')
	if end < 0 {
		return 0
	}
	f := strings.Fields(st[end+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+stt) * 10 * time.Millisecond
}
