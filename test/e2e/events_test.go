package e2e

// End-to-end tests of the domain events (API.md, "Domain events"): the whole
// gateway with EVENTS_URL on the machine's NATS (JetStream), each test with
// a stream and subject prefix of its own, read back with a JetStream
// consumer.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/app"
	"github.com/ultramarket/gateway/test/testapp"
	"github.com/ultramarket/gateway/test/testenv"
)

// eventsGateway is a gateway whose events go to a stream of the test's own.
type eventsGateway struct {
	*gateway
	js     jetstream.JetStream
	stream string
	prefix string
}

// newEventsGateway boots newPayGateway's configuration with EVENTS_URL set
// to natsURL (the machine's NATS, or a proxy in front of it).
func newEventsGateway(t *testing.T, natsURL string) *eventsGateway {
	t.Helper()
	_, js := testenv.NATS(t)
	stream, prefix := testenv.NATSStream(t, js)
	cfg := identityConfig(t)
	cfg.ClickServiceID, cfg.ClickMerchantID, cfg.ClickSecretKey = clickServiceID, clickMerchantID, clickSecret
	cfg.ClickMerchantUserID = "123"
	cfg.PaymeMerchantID, cfg.PaymeKey = payPaymeMerchant, payPaymeKey
	cfg.EventsURL, cfg.EventsStream = natsURL, stream
	a := testapp.StartApp(t, cfg, "", func(o *app.Options) { o.EventSubjectPrefix = prefix })
	return &eventsGateway{gateway: &gateway{RunningApp: a, DB: testenv.OpenURL(t, cfg.DatabaseURL)},
		js: js, stream: stream, prefix: prefix}
}

// event is a message of the stream: its subject, Nats-Msg-Id and body.
type event struct {
	Subject string
	MsgID   string
	Body    map[string]any
}

// events reads the stream from the start until it holds want messages
// (waiting up to 30 s for them), then checks nothing more arrives for a
// moment, and returns them in stream order.
func (g *eventsGateway) events(t *testing.T, want int) []event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var s jetstream.Stream
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		if s, err = g.js.Stream(ctx, g.stream); err == nil {
			break // the relay creates it with its first publish
		}
		require.True(t, time.Now().Before(deadline), "stream %s never created: %v", g.stream, err)
		time.Sleep(50 * time.Millisecond)
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	var out []event
	for len(out) < want {
		msg, err := cons.Next(jetstream.FetchMaxWait(30 * time.Second))
		require.NoError(t, err, "%d of %d events arrived", len(out), want)
		out = append(out, toEvent(t, msg))
	}
	if msg, err := cons.Next(jetstream.FetchMaxWait(time.Second)); err == nil {
		t.Fatalf("an event more than the %d expected: %s %s", want, msg.Subject(), msg.Data())
	}
	return out
}

func toEvent(t *testing.T, msg jetstream.Msg) event {
	t.Helper()
	var body map[string]any
	require.NoError(t, json.Unmarshal(msg.Data(), &body), "%s", msg.Data())
	return event{Subject: msg.Subject(), MsgID: msg.Headers().Get(jetstream.MsgIDHeader), Body: body}
}

// of keeps the events of one order, in stream order.
func of(events []event, orderID string) []event {
	var out []event
	for _, e := range events {
		if e.Body["order_id"] == orderID {
			out = append(out, e)
		}
	}
	return out
}

// assertEvent checks one event against API.md: subject, type, status after
// the change, the order's user and total, a UUID id that is also the
// Nats-Msg-Id, an RFC 3339 time, and no other field.
func (g *eventsGateway) assertEvent(t *testing.T, e event, orderID, userID, name, status string, total int64) {
	t.Helper()
	assert.Equal(t, g.prefix+".order."+name, e.Subject)
	assert.ElementsMatch(t, []string{"id", "type", "order_id", "user_id", "status", "total", "currency", "occurred_at"},
		keys(e.Body), "exactly API.md's fields")
	assert.Regexp(t, uuidRe, e.Body["id"])
	assert.Equal(t, e.Body["id"], e.MsgID, "the event id is the Nats-Msg-Id")
	assert.Equal(t, "order."+name, e.Body["type"])
	assert.Equal(t, orderID, e.Body["order_id"])
	assert.Equal(t, userID, e.Body["user_id"])
	assert.Equal(t, status, e.Body["status"])
	assert.EqualValues(t, total, e.Body["total"], "integer tiyin")
	assert.Equal(t, "UZS", e.Body["currency"])
	at, err := time.Parse(time.RFC3339Nano, e.Body["occurred_at"].(string))
	if assert.NoError(t, err) {
		assert.WithinDuration(t, time.Now(), at, time.Minute)
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// payByClick runs Click's Prepare and a successful Complete of orderID.
func (g *eventsGateway) payByClick(t *testing.T, orderID string, total int64) {
	t.Helper()
	form, prepareID := g.clickPrepared(t, orderID, somOf(total))
	// A Complete for the wrong amount is refused and changes nothing: no event.
	requireClickCode(t, g.clickSend(t, form.with("amount", somOf(total-1)).completing(prepareID, 0).signed(clickSecret)), -2)
	requireClickCode(t, g.clickSend(t, form.completing(prepareID, 0).signed(clickSecret)), 0)
}

// A placed-then-paid order yields exactly order.placed then order.paid, and
// the admin's fulfilment steps follow in order; a cancelled order yields
// placed then cancelled.
func TestEvents_PlacedThenPaidInOrder(t *testing.T) {
	t.Parallel()
	g := newEventsGateway(t, testenv.NATSURL())
	buyer := g.newAccount(t, roleCustomer)
	admin := g.newAccount(t, roleAdmin)

	paid := g.clickTestOrder(t, buyer, clickDefaultTotal)
	g.payByClick(t, paid, clickDefaultTotal)
	got := of(g.events(t, 2), paid)
	require.Len(t, got, 2)
	g.assertEvent(t, got[0], paid, buyer.ID, "placed", "pending_payment", clickDefaultTotal)
	g.assertEvent(t, got[1], paid, buyer.ID, "paid", "paid", clickDefaultTotal)
	assert.NotEqual(t, got[0].MsgID, got[1].MsgID)

	for _, s := range []string{"shipped", "delivered"} {
		r := g.do(t, req{Method: http.MethodPatch, Path: "/api/orders/" + paid + "/status", Token: admin.Access,
			Body: map[string]any{"status": s}})
		expectJSON(t, r, http.StatusOK)
	}
	cancelled := g.clickTestOrder(t, buyer, 700_00)
	expectJSON(t, g.post(t, "/api/orders/"+cancelled+"/cancel", buyer.Access, nil), http.StatusOK)
	// A refused change (cancelling a delivered order) records nothing.
	r := g.post(t, "/api/orders/"+paid+"/cancel", admin.Access, nil)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r)

	all := g.events(t, 6)
	got = of(all, paid)
	require.Len(t, got, 4)
	for i, want := range [][2]string{{"placed", "pending_payment"}, {"paid", "paid"}, {"shipped", "shipped"},
		{"delivered", "delivered"}} {
		g.assertEvent(t, got[i], paid, buyer.ID, want[0], want[1], clickDefaultTotal)
	}
	got = of(all, cancelled)
	require.Len(t, got, 2)
	g.assertEvent(t, got[0], cancelled, buyer.ID, "placed", "pending_payment", 700_00)
	g.assertEvent(t, got[1], cancelled, buyer.ID, "cancelled", "cancelled", 700_00)
}

// NATS goes down in the middle of a run: the gateway keeps serving and stays
// ready, the events committed meanwhile wait in the outbox (the backlog
// metrics show them), and once NATS is back every one arrives, once, in
// order per order.
func TestEvents_NATSOutageLosesNothing(t *testing.T) {
	t.Parallel()
	proxy := testenv.StartTCPProxy(t, strings.TrimPrefix(testenv.NATSURL(), "nats://"))
	g := newEventsGateway(t, "nats://"+proxy.Addr())
	buyer := g.newAccount(t, roleCustomer)

	before := g.clickTestOrder(t, buyer, 1_000_00)
	require.Len(t, g.events(t, 1), 1, "NATS is up: the placed event arrives")

	proxy.Refuse(true)
	var during []string
	for i := range 3 {
		id := g.clickTestOrder(t, buyer, int64(2_000_00+i))
		g.payByClick(t, id, int64(2_000_00+i))
		during = append(during, id)
	}
	g.payByClick(t, before, 1_000_00)
	expectJSON(t, g.get(t, "/health/ready", ""), http.StatusOK) // NATS is not a readiness check
	metricsText := g.scrapeMetrics(t)
	assert.Regexp(t, `outbox_backlog\{kind="event"\} [1-9]`, metricsText, "the events wait")
	assert.Regexp(t, `outbox_oldest_age_seconds\{kind="event"\} [0-9.e+-]*[1-9]`, metricsText)

	proxy.Refuse(false)
	all := g.events(t, 1+1+3*2)
	for _, id := range during {
		got := of(all, id)
		require.Len(t, got, 2, "order %s", id)
		assert.Equal(t, "order.placed", got[0].Body["type"])
		assert.Equal(t, "order.paid", got[1].Body["type"])
	}
	got := of(all, before)
	require.Len(t, got, 2)
	assert.Equal(t, "order.paid", got[1].Body["type"])

	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(g.scrapeMetrics(t), `outbox_backlog{kind="event"} 0`) {
		require.True(t, time.Now().Before(deadline), "the backlog drains once NATS is back")
		time.Sleep(100 * time.Millisecond)
	}
}

// With EVENTS_URL empty (the default) nothing is written to the outbox: no
// relay would ever publish it.
func TestEvents_OffRecordsNothing(t *testing.T) {
	t.Parallel()
	g := newPayGateway(t)
	buyer := g.newAccount(t, roleCustomer)
	id := g.clickTestOrder(t, buyer, clickDefaultTotal)
	form, prepareID := g.clickPrepared(t, id, somOf(clickDefaultTotal))
	requireClickCode(t, g.clickSend(t, form.completing(prepareID, 0).signed(clickSecret)), 0)
	var n int
	require.NoError(t, g.DB.Get(&n, `SELECT count(*) FROM outbox`))
	assert.Zero(t, n)
}

// scrapeMetrics reads the ops listener's /metrics.
func (g *gateway) scrapeMetrics(t *testing.T) string {
	t.Helper()
	hr, err := http.NewRequestWithContext(context.Background(), http.MethodGet, g.OpsURL+"/metrics", nil)
	require.NoError(t, err)
	resp, err := httpClient.Do(hr)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	return string(body)
}
