package nats_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/nats"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func event(prefix, status string) ports.OutboxMessage {
	id := uuid.NewString()
	return ports.OutboxMessage{
		ID:          id,
		Kind:        ports.OutboxEvent,
		AggregateID: uuid.NewString(),
		Subject:     prefix + ".order." + status,
		Payload:     []byte(fmt.Sprintf(`{"id":%q,"type":"order.%s"}`, id, status)),
		CreatedAt:   time.Now(),
	}
}

func open(t *testing.T, cfg nats.Config) *nats.Publisher {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	p, err := nats.Open(cfg, nil)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// stored returns the messages of stream in stream order.
func stored(t *testing.T, js jetstream.JetStream, stream string) []*jetstream.RawStreamMsg {
	t.Helper()
	s, err := js.Stream(ctx(t), stream)
	require.NoError(t, err)
	info, err := s.Info(ctx(t))
	require.NoError(t, err)
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx(t), seq)
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

func TestPublishCreatesTheStreamAndDropsDuplicates(t *testing.T) {
	t.Parallel()
	_, js := testenv.NATS(t)
	stream, prefix := testenv.NATSStream(t, js)
	p := open(t, nats.Config{URL: testenv.NATSURL(), Stream: stream, Subjects: []string{prefix + ".>"}})

	placed, paid := event(prefix, "placed"), event(prefix, "paid")
	require.NoError(t, p.Publish(ctx(t), placed))
	require.NoError(t, p.Publish(ctx(t), placed), "a re-send is acknowledged")
	require.NoError(t, p.Publish(ctx(t), paid))

	s, err := js.Stream(ctx(t), stream)
	require.NoError(t, err)
	cfg := s.CachedInfo().Config
	assert.Equal(t, []string{prefix + ".>"}, cfg.Subjects)
	assert.Equal(t, nats.DefaultDuplicates, cfg.Duplicates)
	assert.Equal(t, nats.DefaultMaxAge, cfg.MaxAge)
	assert.Equal(t, jetstream.FileStorage, cfg.Storage)
	assert.Equal(t, jetstream.LimitsPolicy, cfg.Retention)

	msgs := stored(t, js, stream)
	require.Len(t, msgs, 2, "the re-send was dropped by its Nats-Msg-Id")
	for i, want := range []ports.OutboxMessage{placed, paid} {
		assert.Equal(t, want.Subject, msgs[i].Subject)
		assert.Equal(t, want.Payload, msgs[i].Data, "the exact bytes")
		assert.Equal(t, want.ID, msgs[i].Header.Get(jetstream.MsgIDHeader))
	}
	require.NoError(t, p.Ping(ctx(t)))
}

func TestPublishUsesAnExistingStreamAsItIs(t *testing.T) {
	t.Parallel()
	_, js := testenv.NATS(t)
	stream, prefix := testenv.NATSStream(t, js)
	_, err := js.CreateStream(ctx(t), jetstream.StreamConfig{Name: stream, Subjects: []string{prefix + ".order.>"},
		Storage: jetstream.MemoryStorage, Duplicates: 10 * time.Minute})
	require.NoError(t, err)

	p := open(t, nats.Config{URL: testenv.NATSURL(), Stream: stream, Subjects: []string{prefix + ".>"}})
	require.NoError(t, p.Publish(ctx(t), event(prefix, "placed")))
	s, err := js.Stream(ctx(t), stream)
	require.NoError(t, err)
	assert.Equal(t, []string{prefix + ".order.>"}, s.CachedInfo().Config.Subjects, "left as the operator made it")
	assert.Equal(t, jetstream.MemoryStorage, s.CachedInfo().Config.Storage)
	assert.Equal(t, uint64(1), s.CachedInfo().State.Msgs)
}

// A stream deleted under a running publisher is made again: the publish that
// finds it gone fails (the message stays in the outbox), the next one works.
func TestPublishRecreatesADeletedStream(t *testing.T) {
	t.Parallel()
	_, js := testenv.NATS(t)
	stream, prefix := testenv.NATSStream(t, js)
	p := open(t, nats.Config{URL: testenv.NATSURL(), Stream: stream, Subjects: []string{prefix + ".>"}})
	require.NoError(t, p.Publish(ctx(t), event(prefix, "placed")))
	require.NoError(t, js.DeleteStream(ctx(t), stream))

	lost := event(prefix, "paid")
	err := p.Publish(ctx(t), lost)
	require.ErrorIs(t, err, domain.ErrUnavailable)
	assert.NotErrorIs(t, err, ports.ErrPublishRejected, "nothing answered: not this message's fault")
	require.NoError(t, p.Publish(ctx(t), lost))
	msgs := stored(t, js, stream)
	require.Len(t, msgs, 1)
	assert.Equal(t, lost.ID, msgs[0].Header.Get(jetstream.MsgIDHeader))
}

// A message the server refuses on its own merits is marked so, and the
// publisher goes on with the next.
func TestPublishRejectedMessages(t *testing.T) {
	t.Parallel()
	_, js := testenv.NATS(t)
	stream, prefix := testenv.NATSStream(t, js)
	other, otherPrefix := testenv.NATSStream(t, js)
	_, err := js.CreateStream(ctx(t), jetstream.StreamConfig{Name: other, Subjects: []string{otherPrefix + ".>"},
		Storage: jetstream.MemoryStorage})
	require.NoError(t, err)
	p := open(t, nats.Config{URL: testenv.NATSURL(), Stream: stream, Subjects: []string{prefix + ".>"}})

	huge := event(prefix, "placed")
	huge.Payload = make([]byte, 2<<20)
	err = p.Publish(ctx(t), huge)
	require.ErrorIs(t, err, ports.ErrPublishRejected)
	require.ErrorIs(t, err, domain.ErrUnavailable)

	elsewhere := event(otherPrefix, "placed") // taken by another stream: never stored in ours by mistake
	err = p.Publish(ctx(t), elsewhere)
	require.ErrorIs(t, err, ports.ErrPublishRejected)

	require.NoError(t, p.Publish(ctx(t), event(prefix, "paid")))
	assert.Len(t, stored(t, js, stream), 1)
	assert.Empty(t, stored(t, js, other), "the expected-stream check kept it out of the other stream")
}

// NATS down at start, down for a while, and back: publishes fail with
// ErrUnavailable meanwhile, and work again once the connection is back.
func TestPublishSurvivesTheServerGoingAway(t *testing.T) {
	t.Parallel()
	srv := testenv.StartNATSServer(t)
	srv.Stop()

	const stream, prefix = "EVENTS", "ultramarket"
	p := open(t, nats.Config{URL: srv.URL(), Stream: stream, ReconnectWait: 50 * time.Millisecond, Timeout: time.Second})
	early := event(prefix, "placed")
	err := p.Publish(ctx(t), early)
	require.ErrorIs(t, err, domain.ErrUnavailable, "the gateway started while NATS was down")
	require.ErrorIs(t, p.Ping(ctx(t)), domain.ErrUnavailable)

	srv.Start()
	eventually(t, func() error { return p.Publish(ctx(t), early) })

	srv.Stop() // SIGTERM: a crash may lose what the server acked but had not written yet, which is its business
	during := event(prefix, "paid")
	require.ErrorIs(t, p.Publish(ctx(t), during), domain.ErrUnavailable)

	srv.Start()
	eventually(t, func() error { return p.Publish(ctx(t), during) })
	require.NoError(t, p.Ping(ctx(t)))

	_, js := connect(t, srv.URL())
	msgs := stored(t, js, stream)
	require.Len(t, msgs, 2, "what was acknowledged before the restart is still there")
	assert.Equal(t, early.ID, msgs[0].Header.Get(jetstream.MsgIDHeader))
	assert.Equal(t, during.ID, msgs[1].Header.Get(jetstream.MsgIDHeader))
}

// The ack of a stored message is lost on the way back: the publish times out
// (the caller cannot know the message arrived), the caller sends it again,
// and JetStream drops the copy by its Nats-Msg-Id.
func TestPublishAfterALostAckStoresOnce(t *testing.T) {
	t.Parallel()
	srv := testenv.StartNATSServer(t)
	proxy := testenv.StartTCPProxy(t, strings.TrimPrefix(srv.URL(), "nats://"))
	p := open(t, nats.Config{URL: "nats://" + proxy.Addr(), Stream: "EVENTS", ReconnectWait: 50 * time.Millisecond,
		Timeout: 500 * time.Millisecond})
	_, js := connect(t, srv.URL())

	require.NoError(t, p.Publish(ctx(t), event("ultramarket", "placed"))) // the stream exists now
	m := event("ultramarket", "paid")
	proxy.DropReplies(true)
	err := p.Publish(ctx(t), m)
	require.ErrorIs(t, err, domain.ErrUnavailable, "no ack came back")
	require.Len(t, stored(t, js, "EVENTS"), 2, "yet the server stored it")

	proxy.DropReplies(false)
	proxy.CutAll() // the connection lost bytes mid-stream: start a clean one
	eventually(t, func() error { return p.Publish(ctx(t), m) })
	msgs := stored(t, js, "EVENTS")
	require.Len(t, msgs, 2, "the re-send was a duplicate")
	assert.Equal(t, m.ID, msgs[1].Header.Get(jetstream.MsgIDHeader))
}

func TestOpenChecksTheConfigWithoutEchoingSecrets(t *testing.T) {
	t.Parallel()
	withSecret := func(scheme, host string) string {
		return (&url.URL{Scheme: scheme, User: url.UserPassword("user", "s3cret"), Host: host}).String()
	}
	for _, cfg := range []nats.Config{
		{URL: "", Stream: "EVENTS"},
		{URL: strings.Replace(withSecret("nats", "example:4222"), "example", "exa mple", 1), Stream: "EVENTS"},
		{URL: withSecret("http", "example:4222"), Stream: "EVENTS"},
		{URL: withSecret("nats", "example:4222"), Stream: "bad.name"},
		{URL: withSecret("nats", "example:4222"), Stream: ""},
	} {
		_, err := nats.Open(cfg, nil)
		require.Error(t, err, "%+v", cfg.Stream)
		assert.NotContains(t, err.Error(), "s3cret")
	}
}

func connect(t *testing.T, url string) (*natsgo.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := natsgo.Connect(url)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return nc, js
}

// eventually retries fn until it succeeds (the client reconnects in the
// background) or 20 s have passed.
func eventually(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after 20 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
