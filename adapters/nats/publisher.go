// Package nats is the NATS JetStream adapter: it publishes the outbox's domain
// events to the stream EVENTS_STREAM (ports.EventPublisher), creating the
// stream when it is missing.
//
// Every publish waits for JetStream's PubAck and carries the outbox row id as
// Nats-Msg-Id, so a message sent again after a lost ack (or by a second relay
// whose lease ran out) is dropped by the stream's duplicate window. Every call
// has a timeout; every error wraps domain.ErrUnavailable and never contains
// the server URL, which may hold credentials.
package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/ports"
)

// Defaults of Config.
const (
	DefaultSubject       = "ultramarket.>"
	DefaultMaxAge        = 7 * 24 * time.Hour
	DefaultDuplicates    = 5 * time.Minute
	DefaultTimeout       = 3 * time.Second
	DefaultReconnectWait = 500 * time.Millisecond
	DefaultName          = "ultramarket-gateway"
)

// Config says where to publish and how the stream is made when missing.
type Config struct {
	URL    string // EVENTS_URL: nats://host:4222, or several separated by commas
	Stream string // EVENTS_STREAM
	// Subjects the stream takes when this adapter creates it (default
	// DefaultSubject). A stream that exists is used as it is.
	Subjects []string
	// MaxAge is how long the stream keeps a message (default 7 days: time for
	// a consumer that was down to catch up).
	MaxAge time.Duration
	// Duplicates is the stream's duplicate window (default 5 minutes). It must
	// be longer than the longest time between two sends of one message: the
	// relay's lease plus its longest retry backoff (about 35 s), with room.
	Duplicates time.Duration
	// Replicas of the stream in a cluster (default 1).
	Replicas int
	// Timeout bounds every call: connecting, stream lookup and creation, a
	// publish with its ack (default 3s).
	Timeout time.Duration
	// ReconnectWait is the pause between reconnection attempts (default 500ms,
	// plus jitter); the adapter reconnects forever.
	ReconnectWait time.Duration
	Name          string // client name the server shows (default DefaultName)
}

func (c Config) withDefaults() Config {
	if len(c.Subjects) == 0 {
		c.Subjects = []string{DefaultSubject}
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.Duplicates <= 0 {
		c.Duplicates = DefaultDuplicates
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.ReconnectWait <= 0 {
		c.ReconnectWait = DefaultReconnectWait
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	return c
}

// Validate checks the URL and the stream name, naming neither the URL's
// credentials nor its other parts in the error.
func (c Config) Validate() error {
	if strings.TrimSpace(c.URL) == "" {
		return errors.New("nats: no server URL")
	}
	for _, s := range strings.Split(c.URL, ",") {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.Host == "" {
			return errors.New("nats: malformed server URL")
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("nats: server URL scheme %q (want nats, tls, ws or wss)", u.Scheme)
		}
	}
	if c.Stream == "" || strings.ContainsAny(c.Stream, " \t\r\n.*>/\\") {
		return fmt.Errorf("nats: stream name %q (want a name without spaces, dots, wildcards or slashes)", c.Stream)
	}
	return nil
}

// Publisher implements ports.EventPublisher on one NATS connection.
type Publisher struct {
	cfg Config
	nc  *natsgo.Conn
	js  jetstream.JetStream
	log *slog.Logger

	// ready is set once the stream is known to exist, and cleared when a
	// publish finds no stream answering (deleted, or JetStream restarted
	// without it), so the next publish creates it again.
	ready  atomic.Bool
	ensure sync.Mutex
}

var (
	_ ports.EventPublisher = (*Publisher)(nil)
	_ ports.Pinger         = (*Publisher)(nil)
)

// Open connects to cfg.URL and returns at once, also when no server answers
// yet: the connection keeps trying in the background (events wait in the
// outbox meanwhile), so a NATS outage never stops the gateway from starting.
// log (nil: discard) gets one line per disconnection and reconnection.
func Open(cfg Config, log *slog.Logger) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "nats", "stream", cfg.Stream)
	nc, err := natsgo.Connect(cfg.URL,
		natsgo.Name(cfg.Name),
		natsgo.Timeout(cfg.Timeout),
		natsgo.RetryOnFailedConnect(true),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(cfg.ReconnectWait),
		natsgo.ReconnectJitter(100*time.Millisecond, time.Second),
		// While disconnected a publish fails at once instead of waiting in
		// the client's buffer: the outbox is the buffer, and a buffered copy
		// flushed long after its publish timed out could land after the
		// duplicate window has forgotten the id.
		natsgo.ReconnectBufSize(-1),
		// A connection that died silently is noticed in about 30 s, not the
		// default several minutes.
		natsgo.PingInterval(10*time.Second),
		natsgo.MaxPingsOutstanding(3),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			log.Warn("nats disconnected", "err", errText(err))
		}),
		natsgo.ReconnectHandler(func(*natsgo.Conn) { log.Info("nats reconnected") }),
		natsgo.ClosedHandler(func(*natsgo.Conn) { log.Info("nats connection closed") }),
	)
	if err != nil {
		return nil, fmt.Errorf("nats: connect: %w", unavailable(err))
	}
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(cfg.Timeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: jetstream: %w", unavailable(err))
	}
	return &Publisher{cfg: cfg, nc: nc, js: js, log: log}, nil
}

// Close closes the connection. Call it after the relay has stopped: a
// publish after Close fails (and its message stays in the outbox).
func (p *Publisher) Close() {
	p.nc.Close()
}

// Publish stores msg in the stream under msg.Subject with Nats-Msg-Id =
// msg.ID and returns once JetStream acknowledged it (a duplicate the stream
// dropped is acknowledged too: the message is there). It creates the stream
// first when it is missing. A message the server refused on its own merits
// returns an error that also wraps ports.ErrPublishRejected.
func (p *Publisher) Publish(ctx context.Context, msg ports.OutboxMessage) error {
	if !p.nc.IsConnected() {
		return fmt.Errorf("nats: publish %s: %w: not connected", msg.ID, domain.ErrUnavailable)
	}
	if err := p.ensureStream(ctx); err != nil {
		return fmt.Errorf("nats: publish %s: %w", msg.ID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	_, err := p.js.PublishMsg(ctx, &natsgo.Msg{Subject: msg.Subject, Data: msg.Payload},
		jetstream.WithMsgID(msg.ID), jetstream.WithExpectStream(p.cfg.Stream))
	if err == nil {
		return nil
	}
	if errors.Is(err, jetstream.ErrNoStreamResponse) {
		// Nothing answers for the subject: the stream is gone (or JetStream
		// is not up yet). Look it up again before the next publish.
		p.ready.Store(false)
	}
	return fmt.Errorf("nats: publish %s to %s: %w", msg.ID, msg.Subject, classify(err))
}

// Ping reports whether JetStream answers, for a detailed health check.
func (p *Publisher) Ping(ctx context.Context) error {
	if !p.nc.IsConnected() {
		return fmt.Errorf("nats: %w: not connected", domain.ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	if _, err := p.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("nats: jetstream: %w", unavailable(err))
	}
	return nil
}

// ensureStream looks the stream up and creates it when missing, once per
// connection life (again after a publish found no stream).
func (p *Publisher) ensureStream(ctx context.Context) error {
	if p.ready.Load() {
		return nil
	}
	p.ensure.Lock()
	defer p.ensure.Unlock()
	if p.ready.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	s, err := p.js.Stream(ctx, p.cfg.Stream)
	switch {
	case err == nil:
		if d := s.CachedInfo().Config.Duplicates; d < p.cfg.Duplicates {
			p.log.Warn("the stream's duplicate window is shorter than the relay may need: a message re-sent after a lost ack may be stored twice",
				"duplicate_window", d.String(), "want_at_least", p.cfg.Duplicates.String())
		}
	case errors.Is(err, jetstream.ErrStreamNotFound):
		_, err = p.js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        p.cfg.Stream,
			Description: "UltraMarket domain events, published from the gateway's transactional outbox",
			Subjects:    p.cfg.Subjects,
			Retention:   jetstream.LimitsPolicy,
			Discard:     jetstream.DiscardOld,
			MaxAge:      p.cfg.MaxAge,
			Storage:     jetstream.FileStorage,
			Replicas:    p.cfg.Replicas,
			Duplicates:  p.cfg.Duplicates,
		})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another instance made it first
			return fmt.Errorf("create stream %s: %w", p.cfg.Stream, classify(err))
		}
		p.log.Info("nats stream created", "subjects", strings.Join(p.cfg.Subjects, ","))
	default:
		return fmt.Errorf("look up stream %s: %w", p.cfg.Stream, classify(err))
	}
	p.ready.Store(true)
	return nil
}

// classify wraps err with domain.ErrUnavailable, and also with
// ports.ErrPublishRejected when the server refused the message itself (an
// API error of JetStream, a payload over the server's limit, a bad subject)
// rather than not answering.
func classify(err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) || errors.Is(err, natsgo.ErrMaxPayload) || errors.Is(err, natsgo.ErrBadSubject) {
		return fmt.Errorf("%w: %w: %w", domain.ErrUnavailable, ports.ErrPublishRejected, err)
	}
	return unavailable(err)
}

func unavailable(err error) error {
	if errors.Is(err, domain.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", domain.ErrUnavailable, err)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
