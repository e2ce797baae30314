// Package outbox_test runs the outbox end to end against real services: events
// appended in Postgres transactions, relayed by application/outbox through
// the NATS adapter, read back from JetStream with a consumer.
package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/nats"
	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/adapters/system"
	"github.com/ultramarket/gateway/application/outbox"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

// world is one database with its outbox and what the test appended to it.
type world struct {
	t     *testing.T
	db    *sqlx.DB
	tm    *postgres.TxManager
	store *postgres.OutboxStore

	mu   sync.Mutex
	want map[string][]ports.OutboxMessage // order id → events in commit order
}

func newWorld(t *testing.T) *world {
	db := testenv.Postgres(t)
	return &world{t: t, db: db, tm: postgres.NewTxManager(db), store: postgres.NewOutboxStore(db),
		want: map[string][]ports.OutboxMessage{}}
}

// event builds an order event with the body of API.md's domain events.
func event(prefix, orderID, status string) ports.OutboxMessage {
	id := uuid.NewString()
	at := time.Now().UTC()
	typ := "order." + status
	if status == "placed" {
		status = "pending_payment"
	}
	body, err := json.Marshal(map[string]any{"id": id, "type": typ, "order_id": orderID,
		"user_id": "44444444-0000-4000-8000-000000000004", "status": status, "total": "150000.00",
		"currency": "UZS", "occurred_at": at.Format(time.RFC3339Nano)})
	if err != nil {
		panic(err)
	}
	return ports.OutboxMessage{ID: id, Kind: ports.OutboxEvent, AggregateID: orderID,
		Subject: prefix + ".order." + strings.TrimPrefix(typ, "order."), Payload: body, CreatedAt: at}
}

// commit appends m in a transaction of its own that commits, and remembers it.
func (w *world) commit(m ports.OutboxMessage) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The lock is held across the commit so that want's order per aggregate
	// is the commit order.
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.tm.WithinTx(ctx, func(ctx context.Context) error { return w.store.Append(ctx, m) })
	if !assert.NoError(w.t, err) {
		return
	}
	w.want[m.AggregateID] = append(w.want[m.AggregateID], m)
}

// rollBack appends m in a transaction that rolls back.
func (w *world) rollBack(m ports.OutboxMessage) {
	w.t.Helper()
	boom := errors.New("the change failed")
	err := w.tm.WithinTx(context.Background(), func(ctx context.Context) error {
		if err := w.store.Append(ctx, m); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(w.t, err, boom)
}

var statuses = []string{"placed", "paid", "shipped", "delivered"}

// orders appends, for each of n orders at once, the four events of its life
// in transactions of their own, pausing between them.
func (w *world) orders(prefix string, n int, pause time.Duration) {
	w.ordersOf(prefix, n, len(statuses), pause)
}

// ordersOf is orders with perOrder events per order (the statuses over again).
func (w *world) ordersOf(prefix string, n, perOrder int, pause time.Duration) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := uuid.NewString()
			for i := range perOrder {
				w.commit(event(prefix, id, statuses[i%len(statuses)]))
				time.Sleep(pause)
			}
		}()
	}
	wg.Wait()
}

func (w *world) total() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, ms := range w.want {
		n += len(ms)
	}
	return n
}

// runRelay runs a relay on the world's outbox until the test ends.
func (w *world) runRelay(pub ports.EventPublisher, batch int) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	relay := outbox.NewRelay(w.store, pub, system.Clock{}).WithBatch(batch)
	go func() {
		defer close(done)
		relay.Run(ctx, outbox.Pacing{}, nil)
	}()
	w.t.Cleanup(func() { cancel(); <-done })
}

// drained waits until every event is done.
func (w *world) drained() {
	w.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		backlog, err := outbox.NewBacklog(w.store, system.Clock{}).Handle(context.Background())
		require.NoError(w.t, err)
		if backlog[0].Pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("outbox not drained after 60 s: %+v", backlog[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkStream reads the whole stream with an ordered consumer and checks it
// holds every committed event exactly once, with its exact bytes, in commit
// order per order, and nothing else.
func (w *world) checkStream(js jetstream.JetStream, stream string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	require.NoError(w.t, err)
	info, err := s.Info(ctx)
	require.NoError(w.t, err)
	total := w.total()
	require.EqualValues(w.t, total, info.State.Msgs, "the stream holds each committed event once, nothing else")

	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	require.NoError(w.t, err)
	got := map[string][]string{}
	byID := map[string]ports.OutboxMessage{}
	for _, ms := range w.want {
		for _, m := range ms {
			byID[m.ID] = m
		}
	}
	for range total {
		msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		require.NoError(w.t, err)
		id := msg.Headers().Get(jetstream.MsgIDHeader)
		m, ok := byID[id]
		require.True(w.t, ok, "event %s was never committed", id)
		assert.Equal(w.t, m.Subject, msg.Subject())
		assert.Equal(w.t, m.Payload, msg.Data(), "the exact bytes")
		got[m.AggregateID] = append(got[m.AggregateID], id)
	}
	for agg, ms := range w.want {
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.ID
		}
		assert.Equal(w.t, ids, got[agg], "order %s: its events once each, in commit order", agg)
	}
}

func openPublisher(t *testing.T, cfg nats.Config) *nats.Publisher {
	t.Helper()
	p, err := nats.Open(cfg, nil)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// Events appended in committed transactions arrive once each, in commit
// order per order; a rolled-back transaction publishes nothing.
func TestRelayPublishesCommittedEventsOnceInOrder(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, js := testenv.NATS(t)
	stream, prefix := testenv.NATSStream(t, js)
	pub := openPublisher(t, nats.Config{URL: testenv.NATSURL(), Stream: stream, Subjects: []string{prefix + ".>"}})
	w.runRelay(pub, outbox.DefaultBatch)

	w.rollBack(event(prefix, uuid.NewString(), "placed"))
	w.orders(prefix, 8, 0)
	w.rollBack(event(prefix, uuid.NewString(), "placed"))
	w.drained()
	w.checkStream(js, stream)
}

// Two relays (as on two instances) working the same outbox deliver every
// event once and in order per order.
func TestTwoRelaysDeliverOnceInOrder(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, js := testenv.NATS(t)
	stream, prefix := testenv.NATSStream(t, js)
	cfg := nats.Config{URL: testenv.NATSURL(), Stream: stream, Subjects: []string{prefix + ".>"}}

	// A backlog first (as after an outage: many events per order waiting),
	// then more while both relays run. Small batches, so both keep claiming:
	// were a claim to take more than the head of an order, the other relay
	// would get that order's next events and race it.
	w.ordersOf(prefix, 3, 16, 0)
	w.runRelay(openPublisher(t, cfg), 3)
	w.runRelay(openPublisher(t, cfg), 3)
	w.orders(prefix, 10, 2*time.Millisecond)
	w.drained()
	w.checkStream(js, stream)
}

// NATS stops in the middle of a run: the events committed meanwhile wait in
// the outbox, nothing is lost, and everything arrives once, in order, after
// NATS is back.
func TestRelaySurvivesANATSOutage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	srv := testenv.StartNATSServer(t)
	const stream, prefix = "ULTRAMARKET", "ultramarket"
	pub := openPublisher(t, nats.Config{URL: srv.URL(), Stream: stream, ReconnectWait: 50 * time.Millisecond,
		Timeout: time.Second})
	w.runRelay(pub, 5)

	w.orders(prefix, 3, 0)
	w.drained()

	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		srv.Stop()
	}()
	w.orders(prefix, 4, 20*time.Millisecond) // committed around and during the outage
	<-stopped
	w.orders(prefix, 2, 0)
	backlog, err := outbox.NewBacklog(w.store, system.Clock{}).Handle(context.Background())
	require.NoError(t, err)
	assert.Positive(t, backlog[0].Pending, "with NATS down the events wait")

	srv.Start()
	w.drained()
	_, js := testenv.NATSAt(t, srv.URL())
	w.checkStream(js, stream)
}

// The acks of stored events get lost on the way back: the relay cannot tell
// them from events that never arrived, publishes them again once the
// connection is healthy, and JetStream drops the copies by Nats-Msg-Id.
func TestRelayResendAfterLostAcksIsDropped(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	srv := testenv.StartNATSServer(t)
	proxy := testenv.StartTCPProxy(t, strings.TrimPrefix(srv.URL(), "nats://"))
	const stream, prefix = "ULTRAMARKET", "ultramarket"
	pub := openPublisher(t, nats.Config{URL: "nats://" + proxy.Addr(), Stream: stream,
		ReconnectWait: 50 * time.Millisecond, Timeout: 500 * time.Millisecond})
	w.runRelay(pub, 5)
	w.orders(prefix, 2, 0)
	w.drained()

	_, js := testenv.NATSAt(t, srv.URL())
	before := storedCount(t, js, stream)
	proxy.DropReplies(true)
	w.orders(prefix, 3, 0)
	waitForMoreThan(t, js, stream, before) // at least one stored, its ack lost
	proxy.DropReplies(false)
	proxy.CutAll()

	w.drained()
	w.checkStream(js, stream)
}

func storedCount(t *testing.T, js jetstream.JetStream, stream string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	require.NoError(t, err)
	return s.CachedInfo().State.Msgs
}

func waitForMoreThan(t *testing.T, js jetstream.JetStream, stream string, n uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := storedCount(t, js, stream)
		if got > n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream holds %d messages, want more than %d", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
