package main

// The load driver: a closed loop of a fixed number of workers, each running
// one operation after the other (a request, or a Payme Create+Perform pair)
// for a warm-up and then a measured window. An operation counts when it ends
// inside the window (in a closed loop at steady state, completions per second
// are the throughput, however long one operation takes); requests/s counts
// successful ones, errors are counted apart, p50/p99 are over the successful
// ones. Operations still running when the window closes are cancelled and not
// counted.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// errStop from an operation ends its worker: there is nothing more to do
// (the pool of orders ran dry). It is neither a success nor an error.
var errStop = errors.New("nothing left to do")

// worker is one closed-loop client.
type worker struct {
	id     int
	client *http.Client
	buf    bytes.Buffer
}

type opFunc func(ctx context.Context, w *worker) error

// measured is what one scenario's run produced.
type measured struct {
	ok, errs    int
	window      time.Duration // measured wall time (shorter than asked when cut)
	lat         []time.Duration
	errSamples  []string
	cut         string        // why the window ended early, "" if it did not
	busy        float64       // cores busy machine-wide during the window
	client      float64       // cores used by the harness (the load generator)
	foreign     float64       // cores used by processes that are not part of the bench
	serverPerOp time.Duration // CPU time of the server under test per successful operation
	p50, p99    time.Duration // set by a generator that reports percentiles instead of latencies (wrk)
}

func (m measured) rate() float64 {
	if m.window <= 0 {
		return 0
	}
	return float64(m.ok) / m.window.Seconds()
}

// pct is the nearest-rank percentile p (0..1) of the sorted latencies.
func (m measured) pct(p float64) time.Duration {
	switch {
	case p == 0.50 && m.p50 > 0:
		return m.p50
	case p == 0.99 && m.p99 > 0:
		return m.p99
	}
	if len(m.lat) == 0 {
		return 0
	}
	i := int(float64(len(m.lat))*p+0.999999) - 1
	return m.lat[max(0, min(i, len(m.lat)-1))]
}

type driveConfig struct {
	concurrency int
	warmup      time.Duration
	duration    time.Duration
	timeout     time.Duration // per operation
	server      map[int]bool  // process groups of the server under test (its CPU per operation)
}

// newClient is a keep-alive HTTP/1.1 client able to hold a connection per worker.
func newClient(conns int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil, // loopback only, never through a proxy from the environment
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// drive runs op on cfg.concurrency workers for warm-up + duration (or until
// ctx ends or every worker got errStop).
func drive(ctx context.Context, cfg driveConfig, op opFunc) measured {
	client := newClient(cfg.concurrency, cfg.timeout)
	defer client.Transport.(*http.Transport).CloseIdleConnections()

	start := time.Now()
	t0 := start.Add(cfg.warmup)
	t1 := t0.Add(cfg.duration)
	phase, cancel := context.WithDeadline(ctx, t1)
	defer cancel()

	// CPU counters at the start of the window.
	var cpu0 cpuSnap
	cpuTaken := make(chan struct{})
	go func() {
		defer close(cpuTaken)
		select {
		case <-time.After(time.Until(t0)):
		case <-phase.Done():
		}
		cpu0 = takeCPU(cfg.server)
	}()

	type stats struct {
		ok, errs int
		lat      []time.Duration
		samples  []string
		last     time.Time
	}
	all := make([]stats, cfg.concurrency)
	var wg sync.WaitGroup
	for i := range cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{id: i, client: client}
			st := &all[i]
			st.lat = make([]time.Duration, 0, 1024)
			for phase.Err() == nil {
				began := time.Now()
				err := op(phase, w)
				e := time.Now()
				if errors.Is(err, errStop) {
					return
				}
				if e.Before(t0) || e.After(t1) {
					continue // ended in the warm-up, or after the window
				}
				if err != nil {
					if phase.Err() != nil {
						continue // interrupted by the end of the window
					}
					st.errs++
					if len(st.samples) < 2 {
						st.samples = append(st.samples, err.Error())
					}
					st.last = e
					continue
				}
				st.ok++
				st.lat = append(st.lat, e.Sub(began))
				st.last = e
			}
		}()
	}
	wg.Wait()
	<-cpuTaken
	cpu1 := takeCPU(cfg.server)

	var m measured
	end := t1
	var last time.Time
	for _, st := range all {
		m.ok += st.ok
		m.errs += st.errs
		m.lat = append(m.lat, st.lat...)
		for _, s := range st.samples {
			if len(m.errSamples) < 3 && !slices.Contains(m.errSamples, s) {
				m.errSamples = append(m.errSamples, s)
			}
		}
		if st.last.After(last) {
			last = st.last
		}
	}
	if now := time.Now(); now.Before(t1) {
		// Ended early: every worker ran out of work, or ctx ended.
		end = last
		switch {
		case ctx.Err() != nil:
			m.cut = "cut short: " + context.Cause(ctx).Error()
		default:
			m.cut = "ran out of work"
		}
	}
	if end.After(t0) {
		m.window = end.Sub(t0)
	}
	slices.Sort(m.lat)
	u := cpu1.since(cpu0)
	m.busy, m.client, m.foreign = u.busy, u.self, u.foreign
	if m.ok > 0 && cfg.server != nil {
		m.serverPerOp = u.server / time.Duration(m.ok)
	}
	return m
}

// doHTTP sends one request and reads the whole answer into w.buf.
func (w *worker) doHTTP(ctx context.Context, method, url string, body []byte, header map[string]string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	w.buf.Reset()
	if _, err := w.buf.ReadFrom(resp.Body); err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, w.buf.Bytes(), nil
}

// expect turns an unexpected status into an error that shows the answer.
func expect(status, want int, body []byte, what string) error {
	if status == want {
		return nil
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return fmt.Errorf("%s: HTTP %d (want %d): %s", what, status, want, s)
}
