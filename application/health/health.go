// Package health answers "can this instance do its job right now?" by pinging
// the dependencies it needs.
//
// Pings run concurrently, each under its own timeout, and the report comes
// back within that timeout even when a dependency ignores its context: a
// readiness probe that hangs is worse than one that says "down".
//
// Check errors are reduced to a short, fixed vocabulary ("timeout",
// "unreachable", ...). A driver error can quote a DSN with its password, and
// /health/ready is public, so the raw error never leaves this package.
package health

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/ultramarket/gateway/ports"
)

// DefaultTimeout bounds one ping when the service is built with a zero timeout.
const DefaultTimeout = time.Second

// Report statuses and check statuses, as the HTTP contract spells them.
const (
	StatusOK          = "ok"
	StatusUnavailable = "unavailable"
	CheckOK           = "ok"
	CheckDown         = "down"
)

// Names of the checked dependencies; they are the keys of Report.Checks.
const (
	Postgres = "postgres"
	Redis    = "redis"
	Catalog  = "catalog"
)

// Short error texts a Check may carry.
const (
	ErrTextTimeout     = "timeout"
	ErrTextUnreachable = "unreachable"
	ErrTextCanceled    = "canceled"
	ErrTextFailed      = "check failed"
)

// Check is the outcome of pinging one dependency.
type Check struct {
	Status    string  // CheckOK or CheckDown
	LatencyMS float64 // wall time of the ping in milliseconds, microsecond precision
	Error     string  // empty when Status is CheckOK; a short sanitized text otherwise
}

// Report is the outcome of one round of checks.
type Report struct {
	Status string // StatusOK when every check is ok, else StatusUnavailable
	Checks map[string]Check
}

// OK reports whether every check passed.
func (r Report) OK() bool { return r.Status == StatusOK }

// Dependencies are the pingers the service checks. Catalog may be nil (for
// example when the built-in catalog lives in Postgres, which is checked anyway);
// it is then left out of the detailed report.
type Dependencies struct {
	Postgres ports.Pinger
	Redis    ports.Pinger
	Catalog  ports.Pinger
}

// Service runs the readiness and detailed checks.
type Service struct {
	clock    ports.Clock
	timeout  time.Duration
	ready    map[string]ports.Pinger
	detailed map[string]ports.Pinger
}

// NewService builds the checks. timeout bounds each ping; zero or less means
// DefaultTimeout. A nil clock reads the system time.
func NewService(deps Dependencies, clock ports.Clock, timeout time.Duration) *Service {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if clock == nil {
		clock = systemClock{}
	}
	ready := map[string]ports.Pinger{Postgres: deps.Postgres, Redis: deps.Redis}
	detailed := map[string]ports.Pinger{Postgres: deps.Postgres, Redis: deps.Redis}
	if deps.Catalog != nil {
		detailed[Catalog] = deps.Catalog
	}
	return &Service{clock: clock, timeout: timeout, ready: ready, detailed: detailed}
}

// NewChecker builds the checks from named pingers with DefaultTimeout: Ready
// pings the "postgres" and "redis" entries (a missing one reports down),
// Detailed pings every entry, "catalog" included when present.
func NewChecker(clock ports.Clock, pingers map[string]ports.Pinger) *Service {
	s := NewService(Dependencies{Postgres: pingers[Postgres], Redis: pingers[Redis]}, clock, DefaultTimeout)
	for name, p := range pingers {
		s.detailed[name] = p
	}
	return s
}

// Ready checks what the instance cannot serve without: Postgres and Redis.
func (s *Service) Ready(ctx context.Context) Report { return s.Run(ctx, s.ready) }

// Detailed checks Postgres, Redis and, when configured, the catalog.
func (s *Service) Detailed(ctx context.Context) Report { return s.Run(ctx, s.detailed) }

// Run pings every named pinger concurrently. A nil pinger counts as down: a
// dependency that was never wired is a deployment bug readiness should show.
func (s *Service) Run(ctx context.Context, pingers map[string]ports.Pinger) Report {
	type result struct {
		name  string
		check Check
	}
	results := make(chan result, len(pingers))
	var wg sync.WaitGroup
	for name, p := range pingers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- result{name, s.ping(ctx, p)}
		}()
	}
	wg.Wait()
	close(results)

	report := Report{Status: StatusOK, Checks: make(map[string]Check, len(pingers))}
	for r := range results {
		report.Checks[r.name] = r.check
		if r.check.Status != CheckOK {
			report.Status = StatusUnavailable
		}
	}
	return report
}

// ping runs one Ping under the timeout. The Ping itself runs in its own
// goroutine so that a pinger ignoring its context cannot hold the probe past
// the deadline; its late answer lands in a buffered channel and is dropped.
func (s *Service) ping(parent context.Context, p ports.Pinger) Check {
	if p == nil {
		return Check{Status: CheckDown, Error: ErrTextUnreachable}
	}
	ctx, cancel := context.WithTimeout(parent, s.timeout)
	defer cancel()

	start := s.clock.Now()
	done := make(chan error, 1)
	go func() {
		defer func() {
			// A panicking driver must not take the process down with a probe.
			if recover() != nil {
				done <- errPanicked
			}
		}()
		done <- p.Ping(ctx)
	}()

	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	latency := s.clock.Now().Sub(start)

	c := Check{Status: CheckOK, LatencyMS: millis(latency)}
	if err != nil {
		c.Status, c.Error = CheckDown, sanitize(ctx, err)
	}
	return c
}

var errPanicked = errors.New("pinger panicked")

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// sanitize maps any ping error onto the fixed vocabulary. The order matters:
// a driver often reports its own timeout as a generic network error, so the
// expired deadline of our context is consulted first.
func sanitize(ctx context.Context, err error) string {
	var timeout interface{ Timeout() bool } // net.Error and friends
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return ErrTextTimeout
	case errors.As(err, &timeout) && timeout.Timeout():
		return ErrTextTimeout
	case errors.Is(err, context.Canceled):
		return ErrTextCanceled
	case errors.Is(err, errPanicked):
		return ErrTextFailed
	default:
		// Refused connections, DNS failures, auth failures, domain.ErrUnavailable:
		// for a probe they all mean the same thing, and the details are in the
		// dependency's own logs.
		return ErrTextUnreachable
	}
}

// millis keeps microsecond precision: a local Redis answers in well under a
// millisecond and a whole-millisecond field would always read 0.
func millis(d time.Duration) float64 {
	if d < 0 {
		d = 0
	}
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}
