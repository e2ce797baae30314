package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ultramarket/gateway/adapters/metrics"
	"github.com/ultramarket/gateway/adapters/nats"
	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/application/jobs"
	"github.com/ultramarket/gateway/application/outbox"
	"github.com/ultramarket/gateway/ports"
)

// outboxPurgeInterval is how often done outbox rows past their retention
// (outbox.DefaultRetention) are deleted: the retention is a week, so an
// hour's delay is nothing, and one pass an hour keeps each DELETE small.
const outboxPurgeInterval = time.Hour

// eventsDeps are what Build has already made that the events share.
type eventsDeps struct {
	clock ports.Clock
	ids   ports.IDGenerator
	// subjectPrefix replaces "ultramarket" in the subjects (Options).
	subjectPrefix string
}

// wireEvents sets up the transactional outbox's delivery of domain events
// and returns the recorder the order use cases write their events with, nil
// when EVENTS_URL is empty (events off: nothing is recorded, since no relay
// would ever publish it).
//
// With EVENTS_URL set it connects to NATS, which may be down (the connection
// keeps trying in the background; readiness is not about NATS: the events
// wait in the outbox and the backlog metrics show them), and adds two loops
// on the jobs runner: the relay, which every outbox.DefaultPoll publishes
// what committed, at once again while there is more, and backs off up to
// outbox.DefaultMaxBackoff while NATS is unreachable; and the hourly purge
// of rows done more than a week ago. Both are safe on N instances (claims
// with FOR UPDATE SKIP LOCKED and leases; see the outbox migration).
//
// The backlog metrics are wired either way: the outbox also carries other
// work than events.
func (a *App) wireEvents(d eventsDeps) ports.OrderEvents {
	store := postgres.NewOutboxStore(a.db)
	backlog := outbox.NewBacklog(store, d.clock)
	a.metrics.WatchOutbox(func(ctx context.Context) ([]metrics.OutboxBacklog, error) {
		stats, err := backlog.Handle(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]metrics.OutboxBacklog, len(stats))
		for i, s := range stats {
			out[i] = metrics.OutboxBacklog{Kind: string(s.Kind), Pending: s.Pending, OldestAge: s.OldestAge}
		}
		return out, nil
	})
	purge := outbox.NewPurgeDone(store, d.clock, outbox.DefaultRetention)
	a.addLoop("outbox-purge", outboxPurgeInterval, purge.Handle,
		a.sweepLog("outbox purge failed", "outbox purge", slog.LevelInfo, "deleted"))

	if a.cfg.EventsURL == "" {
		return nil
	}
	pub, err := nats.Open(nats.Config{URL: a.cfg.EventsURL, Stream: a.cfg.EventsStream,
		Subjects: []string{d.subjectPrefix + ".>"}}, a.log)
	if err != nil {
		// Config validated the URL, and Open does not wait for a server, so
		// this is a client that cannot even be made: say so, and let the
		// events wait in the outbox rather than refuse to serve.
		a.log.Error("events: cannot set up the NATS client; events wait in the outbox", "err", err)
	} else {
		relay := outbox.NewRelay(store, pub, d.clock)
		pacing := jobs.Config{
			Interval: outbox.DefaultPoll,
			// A pass that claimed anything is followed at once: more may be
			// waiting, and a published event lets its order's next one through.
			Full:       1,
			MaxBackoff: outbox.DefaultMaxBackoff,
		}
		a.addJob("outbox-relay", func(ctx context.Context) {
			a.runLoop(ctx, "outbox-relay", pacing, a.relayPass(relay), a.relayLog())
			// Only once the relay has stopped: a publish cut by Close
			// would be sent again after the restart.
			pub.Close()
		})
	}
	return outbox.NewOrderEvents(store, d.ids, d.clock).WithSubjectPrefix(d.subjectPrefix)
}

// relayPass is one relay pass as the jobs runner sees it: how many events it
// claimed (any means "go again at once") and whether NATS or Postgres
// failed (which backs the loop off). Events NATS refused one by one are
// retried later by the relay itself; they are logged here, each time.
func (a *App) relayPass(relay *outbox.Relay) jobs.Pass {
	return func(ctx context.Context) (int, error) {
		res, err := relay.Pass(ctx)
		for _, r := range res.Rejected {
			a.log.Error("outbox relay: NATS refused an event; it is retried with backoff", "err", r)
		}
		return res.Claimed, err
	}
}

// relayLog logs the relay's outages once each: the first failed pass as a
// warning (events wait in the outbox meanwhile) and the first pass that
// worked after it, not every retry in between.
func (a *App) relayLog() func(n int, err error) {
	down := false
	return func(_ int, err error) {
		switch {
		case err != nil && !down:
			down = true
			a.log.Warn("outbox relay cannot publish; events wait in the outbox until it can", "err", err)
		case err == nil && down:
			down = false
			a.log.Info("outbox relay publishing again")
		}
	}
}
