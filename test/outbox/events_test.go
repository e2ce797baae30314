package outbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/nats"
	"github.com/ultramarket/gateway/adapters/system"
	"github.com/ultramarket/gateway/application/jobs"
	"github.com/ultramarket/gateway/application/outbox"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

// countingPublisher counts the publishes that succeeded, per event id.
type countingPublisher struct {
	ports.EventPublisher
	mu   sync.Mutex
	sent map[string]int
}

func (p *countingPublisher) Publish(ctx context.Context, m ports.OutboxMessage) error {
	err := p.EventPublisher.Publish(ctx, m)
	if err == nil {
		p.mu.Lock()
		p.sent[m.ID]++
		p.mu.Unlock()
	}
	return err
}

// runRelayLoop runs a relay the way the app does, on the jobs runner, until
// the test ends.
func (w *world) runRelayLoop(pub ports.EventPublisher, batch int) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	relay := outbox.NewRelay(w.store, pub, system.Clock{}).WithBatch(batch)
	pass := func(ctx context.Context) (int, error) {
		res, err := relay.Pass(ctx)
		return res.Claimed, err
	}
	go func() {
		defer close(done)
		_ = jobs.Run(ctx, pass, jobs.Config{Interval: outbox.DefaultPoll, Full: 1, MaxBackoff: outbox.DefaultMaxBackoff})
	}()
	w.t.Cleanup(func() { cancel(); <-done })
}

// Two relays (two instances of the app) on one outbox: every event is
// published once, not once per relay, and arrives in commit order per order.
// The count is taken at the publisher, before JetStream's duplicate window
// could hide a second copy.
func TestTwoRelayLoopsPublishEachEventOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, js := testenv.NATS(t)
	stream, prefix := testenv.NATSStream(t, js)
	cfg := nats.Config{URL: testenv.NATSURL(), Stream: stream, Subjects: []string{prefix + ".>"}}
	counted := &countingPublisher{EventPublisher: openPublisher(t, cfg), sent: map[string]int{}}

	w.ordersOf(prefix, 4, 8, 0) // a backlog, as at start-up after an outage
	w.runRelayLoop(counted, 3)
	w.runRelayLoop(counted, 3)
	w.orders(prefix, 10, 2*time.Millisecond)
	w.drained()
	w.checkStream(js, stream)

	counted.mu.Lock()
	defer counted.mu.Unlock()
	assert.Len(t, counted.sent, w.total())
	for id, n := range counted.sent {
		assert.Equal(t, 1, n, "event %s published %d times", id, n)
	}
}

// The order events recorder writes in the caller's transaction: an event
// recorded in a transaction that rolls back is never published; one that
// commits is, with the body API.md gives.
func TestRecordedEventOfARolledBackTransactionIsNeverPublished(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, js := testenv.NATS(t)
	stream, prefix := testenv.NATSStream(t, js)
	w.runRelayLoop(openPublisher(t, nats.Config{URL: testenv.NATSURL(), Stream: stream, Subjects: []string{prefix + ".>"}}),
		outbox.DefaultBatch)
	events := outbox.NewOrderEvents(w.store, system.UUIDs{}, system.Clock{}).WithSubjectPrefix(prefix)

	newOrder := func() *order.Order {
		o, err := order.New(uuid.NewString(), uuid.NewString(),
			[]order.Item{{ProductID: uuid.NewString(), Name: "Choynak", UnitPrice: money.MustTiyin(120_000_00), Quantity: 1}},
			order.Address{Region: "Toshkent", City: "Toshkent", Street: "Navoiy 5", Phone: "+998901234567"}, "", time.Now())
		require.NoError(t, err)
		return o
	}
	boom := errors.New("the order's insert failed")
	lost, kept := newOrder(), newOrder()
	err := w.tm.WithinTx(context.Background(), func(ctx context.Context) error {
		if err := events.Record(ctx, lost); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.NoError(t, w.tm.WithinTx(context.Background(), func(ctx context.Context) error {
		return events.Record(ctx, kept)
	}))
	require.Error(t, events.Record(context.Background(), kept), "outside a transaction the recorder refuses")

	w.drained()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, info.State.Msgs, "only the committed event")
	msg, err := s.GetLastMsgForSubject(ctx, prefix+".order.placed")
	require.NoError(t, err)
	assert.Contains(t, string(msg.Data), `"order_id":"`+kept.ID()+`"`)
	assert.Contains(t, string(msg.Data), `"type":"order.placed","order_id"`)
	assert.NotContains(t, string(msg.Data), lost.ID())
}
