package main

// wrk (Debian package wrk, installed by deploy/bench-deps.sh) drives the
// plain GET rows: one thread with an event loop written in C, it takes a
// fraction of the CPU a goroutine per worker and net/http's client take for
// the same requests, so on a 2-core machine the server under test, not the
// generator, is what saturates. The Go driver (load.go) still runs the rows
// that need per-request logic (orders, Payme pairs, logins), where the
// server's cost per request dwarfs the generator's.

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// findWrk is the wrk binary, "" when it is not installed.
func findWrk() string {
	p, err := exec.LookPath("wrk")
	if err != nil {
		return ""
	}
	return p
}

var (
	reWrkTotal   = regexp.MustCompile(`(\d+) requests in ([0-9.]+)(us|ms|s|m|h)`)
	reWrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reWrkSockErr = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	reWrkPct     = regexp.MustCompile(`^\s*(50|99)(?:\.0+)?%\s+([0-9.]+)(us|ms|s|m|h)\s*$`)
)

// wrkUnit converts wrk's printed number and unit to a duration.
func wrkUnit(v, unit string) time.Duration {
	f, _ := strconv.ParseFloat(v, 64)
	scale := map[string]float64{"us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}[unit]
	return time.Duration(f * scale)
}

// wrkSeconds is d in whole seconds, at least 1: wrk's -d has no fraction.
func wrkSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second))) + "s"
}

// driveWrk runs `wrk -t1 -c<concurrency>` against url: an unmeasured warm-up
// run, then the measured one with the server's CPU read around it. header
// lines ("Name: value") are sent on every request.
func driveWrk(ctx context.Context, bin string, cfg driveConfig, url string, header ...string) measured {
	args := func(d time.Duration) []string {
		a := []string{"-t1", "-c" + strconv.Itoa(cfg.concurrency), "-d" + wrkSeconds(d), "--timeout", wrkSeconds(cfg.timeout), "--latency"}
		for _, h := range header {
			a = append(a, "-H", h)
		}
		return append(a, url)
	}
	if cfg.warmup > 0 {
		cmd := exec.CommandContext(ctx, bin, args(cfg.warmup)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if out, err := cmd.CombinedOutput(); err != nil {
			return measured{cut: "wrk warm-up: " + firstLine(err.Error()+": "+string(out))}
		}
	}
	cmd := exec.CommandContext(ctx, bin, args(cfg.duration)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cpu0 := takeCPU(cfg.server)
	out, err := cmd.CombinedOutput()
	cpu1 := takeCPU(cfg.server)
	if err != nil {
		if ctx.Err() != nil {
			return measured{cut: "cut short: " + context.Cause(ctx).Error()}
		}
		return measured{cut: "wrk: " + firstLine(err.Error()+": "+string(out))}
	}
	m, perr := parseWrk(string(out))
	if perr != nil {
		return measured{cut: perr.Error()}
	}
	u := cpu1.since(cpu0)
	m.busy, m.foreign = u.busy, u.foreign
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		if wall := cpu1.at.Sub(cpu0.at).Seconds(); wall > 0 {
			m.client = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9 / wall
		}
	}
	if m.ok > 0 && cfg.server != nil {
		m.serverPerOp = u.server / time.Duration(m.ok)
	}
	return m
}

// parseWrk reads the totals, the errors and the 50th and 99th percentiles
// of wrk --latency's report.
func parseWrk(out string) (measured, error) {
	var m measured
	t := reWrkTotal.FindStringSubmatch(out)
	if t == nil {
		return m, fmt.Errorf("wrk: no totals in its output: %s", firstLine(strings.TrimSpace(out)))
	}
	total, _ := strconv.Atoi(t[1])
	m.window = wrkUnit(t[2], t[3])
	bad := 0
	if n := reWrkNon2xx.FindStringSubmatch(out); n != nil {
		bad, _ = strconv.Atoi(n[1])
		m.errSamples = append(m.errSamples, fmt.Sprintf("wrk: %d answers were not 2xx/3xx", bad))
	}
	m.ok = total - bad
	m.errs = bad
	if s := reWrkSockErr.FindStringSubmatch(out); s != nil {
		sum := 0
		for _, v := range s[1:] {
			n, _ := strconv.Atoi(v)
			sum += n
		}
		if sum > 0 {
			m.errs += sum
			m.errSamples = append(m.errSamples, strings.TrimSpace(s[0]))
		}
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if p := reWrkPct.FindStringSubmatch(sc.Text()); p != nil {
			d := wrkUnit(p[2], p[3])
			if p[1] == "50" {
				m.p50 = d
			} else {
				m.p99 = d
			}
		}
	}
	return m, nil
}
