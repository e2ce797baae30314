package main

// make profile SCENARIO=<name>: a CPU and an allocation profile of the
// gateway while one scenario runs, read from its ops listener
// (/debug/pprof/, never on the public one). Both cover the measured window:
// they start when the warm-up ends and last as long as the window, in whole
// seconds. The allocation profile is a delta (allocs?seconds=N): what was
// allocated during the window, not since the process started.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// profileScenarios are the scenarios -profile accepts (report.go's keys).
var profileScenarios = []string{keyHealth, keyMe, keyProducts, keyProductsCached, keyOrders, keyOrdersWide, keyPayme, keyLogin}

// captureProfiles starts fetching the profiles of the gateway whose ops
// listener is ops into dir/<scenario>: after delay, for dur. The returned
// function waits for both and reports the first failure.
func captureProfiles(ctx context.Context, ops, dir string, delay, dur time.Duration) func() error {
	secs := strconv.Itoa(max(1, int(dur/time.Second)))
	errc := make(chan error, 2)
	fetch := func(path, file string) {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			errc <- ctx.Err()
			return
		}
		errc <- fetchProfile(ctx, ops+path+"?seconds="+secs, file)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return func() error { return err }
	}
	go fetch("/debug/pprof/profile", filepath.Join(dir, "cpu.pprof"))
	go fetch("/debug/pprof/allocs", filepath.Join(dir, "allocs.pprof"))
	return func() error { return errors.Join(<-errc, <-errc) }
}

func fetchProfile(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return f.Close()
}
