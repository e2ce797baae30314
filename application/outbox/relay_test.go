package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/outbox"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const holder = "7d9f1c2e-0000-4000-8000-000000000001" // the claim's token

type fixture struct {
	store *mocks.MockOutbox
	pub   *mocks.MockEventPublisher
	clock *testsupport.Clock
	relay *outbox.Relay
}

func newFixture(t *testing.T) fixture {
	ctrl := gomock.NewController(t)
	f := fixture{store: mocks.NewMockOutbox(ctrl), pub: mocks.NewMockEventPublisher(ctrl), clock: testsupport.NewClock(now)}
	f.relay = outbox.NewRelay(f.store, f.pub, f.clock)
	return f
}

func msg(n, attempts int) ports.ClaimedMessage {
	return ports.ClaimedMessage{
		OutboxMessage: ports.OutboxMessage{
			ID:          fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
			Kind:        ports.OutboxEvent,
			AggregateID: fmt.Sprintf("99999999-0000-4000-8000-%012d", n),
			Subject:     "ultramarket.order.placed",
			Payload:     []byte(fmt.Sprintf(`{"n":%d}`, n)),
			CreatedAt:   now.Add(-time.Second),
		},
		Seq:      int64(n),
		Attempts: attempts,
	}
}

func claimOf(msgs ...ports.ClaimedMessage) ports.OutboxClaim {
	return ports.OutboxClaim{Token: holder, Until: now.Add(outbox.DefaultLease), Messages: msgs}
}

func (f fixture) expectClaim(c ports.OutboxClaim, err error) *gomock.Call {
	return f.store.EXPECT().Claim(gomock.Any(), ports.OutboxEvent, outbox.DefaultBatch, now, outbox.DefaultLease).Return(c, err)
}

// live matches a context that has not ended.
type liveCtx struct{}

func (liveCtx) Matches(x any) bool {
	c, ok := x.(context.Context)
	return ok && c.Err() == nil
}
func (liveCtx) String() string { return "a live context" }

var (
	errDown     = fmt.Errorf("nats: publish: %w: nats: timeout", domain.ErrUnavailable)
	errRejected = fmt.Errorf("nats: publish: %w: %w: maximum payload exceeded", domain.ErrUnavailable, ports.ErrPublishRejected)
)

func TestPass_PublishesInOrderThenMarksDone(t *testing.T) {
	f := newFixture(t)
	m1, m2, m3 := msg(1, 0), msg(2, 0), msg(3, 4)
	gomock.InOrder(
		f.expectClaim(claimOf(m1, m2, m3), nil),
		f.pub.EXPECT().Publish(gomock.Any(), m1.OutboxMessage).Return(nil),
		f.pub.EXPECT().Publish(gomock.Any(), m2.OutboxMessage).Return(nil),
		f.pub.EXPECT().Publish(gomock.Any(), m3.OutboxMessage).Return(nil),
		f.store.EXPECT().MarkDone(liveCtx{}, []string{m1.ID, m2.ID, m3.ID}, now).Return(nil),
	)
	res, err := f.relay.Pass(context.Background())
	require.NoError(t, err)
	assert.Equal(t, outbox.PassResult{Claimed: 3, Published: 3}, res)
}

func TestPass_NothingToDo(t *testing.T) {
	f := newFixture(t)
	f.expectClaim(claimOf(), nil)
	res, err := f.relay.Pass(context.Background())
	require.NoError(t, err)
	assert.Zero(t, res.Claimed)
}

func TestPass_ClaimFails(t *testing.T) {
	f := newFixture(t)
	f.expectClaim(ports.OutboxClaim{}, fmt.Errorf("postgres: %w", domain.ErrUnavailable))
	_, err := f.relay.Pass(context.Background())
	require.ErrorIs(t, err, domain.ErrUnavailable)
}

// The broker stops answering mid-batch: what was published is done, the
// message that failed counts an attempt and is free again at once (the loop
// paces the retry), the untried rest is released without an attempt.
func TestPass_BrokerDownStopsTheBatch(t *testing.T) {
	f := newFixture(t)
	m1, m2, m3 := msg(1, 0), msg(2, 0), msg(3, 0)
	var failed []ports.OutboxFailure
	gomock.InOrder(
		f.expectClaim(claimOf(m1, m2, m3), nil),
		f.pub.EXPECT().Publish(gomock.Any(), m1.OutboxMessage).Return(nil),
		f.pub.EXPECT().Publish(gomock.Any(), m2.OutboxMessage).Return(errDown),
	)
	f.store.EXPECT().MarkDone(liveCtx{}, []string{m1.ID}, now).Return(nil)
	f.store.EXPECT().MarkFailed(liveCtx{}, holder, gomock.Any()).DoAndReturn(
		func(_ context.Context, _ string, fs []ports.OutboxFailure) error { failed = fs; return nil })
	f.store.EXPECT().Release(liveCtx{}, holder, []string{m3.ID}).Return(nil)

	res, err := f.relay.Pass(context.Background())
	require.ErrorIs(t, err, domain.ErrUnavailable)
	assert.Equal(t, outbox.PassResult{Claimed: 3, Published: 1, Failed: 1, Released: 1}, res)
	require.Len(t, failed, 1)
	assert.Equal(t, m2.ID, failed[0].ID)
	assert.Equal(t, now, failed[0].RetryAt)
	assert.Contains(t, failed[0].Reason, "nats: timeout")
}

// A message the broker refuses is retried after a growing backoff; the batch
// goes on and the pass is not a failure (the broker is fine).
func TestPass_RejectedMessageBacksOffAlone(t *testing.T) {
	f := newFixture(t)
	m1, m2, m3 := msg(1, 2), msg(2, 0), msg(3, 30)
	var failed []ports.OutboxFailure
	gomock.InOrder(
		f.expectClaim(claimOf(m1, m2, m3), nil),
		f.pub.EXPECT().Publish(gomock.Any(), m1.OutboxMessage).Return(errRejected),
		f.pub.EXPECT().Publish(gomock.Any(), m2.OutboxMessage).Return(nil),
		f.pub.EXPECT().Publish(gomock.Any(), m3.OutboxMessage).Return(errRejected),
	)
	f.store.EXPECT().MarkDone(liveCtx{}, []string{m2.ID}, now).Return(nil)
	f.store.EXPECT().MarkFailed(liveCtx{}, holder, gomock.Any()).DoAndReturn(
		func(_ context.Context, _ string, fs []ports.OutboxFailure) error { failed = fs; return nil })

	res, err := f.relay.Pass(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, res.Failed)
	assert.Equal(t, 1, res.Published)
	require.Len(t, res.Rejected, 2)
	assert.ErrorIs(t, res.Rejected[0], ports.ErrPublishRejected)
	require.Len(t, failed, 2)
	assert.Equal(t, now.Add(4*time.Second), failed[0].RetryAt, "third attempt: 1 s doubled twice")
	assert.Equal(t, now.Add(outbox.DefaultRetryMax), failed[1].RetryAt, "capped")
	assert.Contains(t, failed[0].Reason, "maximum payload exceeded")
}

// Shutdown mid-publish: the message is released, not failed, and the
// bookkeeping still runs although the pass's context has ended.
func TestPass_ShutdownReleasesWhatWasNotPublished(t *testing.T) {
	f := newFixture(t)
	m1, m2, m3 := msg(1, 0), msg(2, 0), msg(3, 0)
	ctx, cancel := context.WithCancel(context.Background())
	gomock.InOrder(
		f.expectClaim(claimOf(m1, m2, m3), nil),
		f.pub.EXPECT().Publish(gomock.Any(), m1.OutboxMessage).Return(nil),
		f.pub.EXPECT().Publish(gomock.Any(), m2.OutboxMessage).DoAndReturn(
			func(ctx context.Context, _ ports.OutboxMessage) error { cancel(); return ctx.Err() }),
	)
	f.store.EXPECT().MarkDone(liveCtx{}, []string{m1.ID}, now).Return(nil)
	f.store.EXPECT().Release(liveCtx{}, holder, []string{m2.ID, m3.ID}).Return(nil)

	res, err := f.relay.Pass(ctx)
	require.NoError(t, err)
	assert.Equal(t, outbox.PassResult{Claimed: 3, Published: 1, Released: 2}, res)
}

// A pass publishes for at most half the lease, so it settles its messages
// while they are still its own.
func TestPass_StopsAtHalfTheLease(t *testing.T) {
	f := newFixture(t)
	m1, m2 := msg(1, 0), msg(2, 0)
	gomock.InOrder(
		f.expectClaim(claimOf(m1, m2), nil),
		f.pub.EXPECT().Publish(gomock.Any(), m1.OutboxMessage).DoAndReturn(
			func(context.Context, ports.OutboxMessage) error {
				f.clock.Advance(outbox.DefaultLease/2 + time.Millisecond) // a very slow publish
				return nil
			}),
	)
	later := now.Add(outbox.DefaultLease/2 + time.Millisecond)
	f.store.EXPECT().MarkDone(liveCtx{}, []string{m1.ID}, later).Return(nil)
	f.store.EXPECT().Release(liveCtx{}, holder, []string{m2.ID}).Return(nil)

	res, err := f.relay.Pass(context.Background())
	require.NoError(t, err)
	assert.Equal(t, outbox.PassResult{Claimed: 2, Published: 1, Released: 1}, res)
}

// When the database fails after the publishes, the pass reports it: the
// messages stay claimed until the lease ends and go out again, as duplicates
// the broker drops.
func TestPass_MarkDoneFails(t *testing.T) {
	f := newFixture(t)
	m1 := msg(1, 0)
	f.expectClaim(claimOf(m1), nil)
	f.pub.EXPECT().Publish(gomock.Any(), m1.OutboxMessage).Return(nil)
	f.store.EXPECT().MarkDone(gomock.Any(), []string{m1.ID}, now).Return(fmt.Errorf("postgres: %w", domain.ErrUnavailable))

	res, err := f.relay.Pass(context.Background())
	require.ErrorIs(t, err, domain.ErrUnavailable)
	assert.Contains(t, err.Error(), "will be published again")
	assert.Equal(t, 1, res.Published)
}

func TestPacing(t *testing.T) {
	p := outbox.Pacing{}
	some := outbox.PassResult{Claimed: 3, Published: 3}
	cases := []struct {
		name     string
		res      outbox.PassResult
		err      error
		failures int
		wait     time.Duration
		next     int
	}{
		{"idle", outbox.PassResult{}, nil, 0, outbox.DefaultPoll, 0},
		{"work done: at once", some, nil, 0, 0, 0},
		{"only rejections: at once (the rejected wait on their own)", outbox.PassResult{Claimed: 1, Failed: 1}, nil, 0, 0, 0},
		{"recovered", outbox.PassResult{}, nil, 7, outbox.DefaultPoll, 0},
		{"first failure", outbox.PassResult{}, errDown, 0, 2 * outbox.DefaultPoll, 1},
		{"third failure", some, errDown, 2, 8 * outbox.DefaultPoll, 3},
		{"bounded", outbox.PassResult{}, errDown, 40, outbox.DefaultMaxBackoff, 41},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wait, next := p.Next(tc.res, tc.err, tc.failures)
			assert.Equal(t, tc.wait, wait, tc.name)
			assert.Equal(t, tc.next, next, tc.name)
		})
	}
	wait, _ := outbox.Pacing{Poll: time.Second, MaxBackoff: 3 * time.Second}.Next(outbox.PassResult{}, errDown, 5)
	assert.Equal(t, 3*time.Second, wait)
}

// The loop goes on after a pass that did something, reports passes that did
// something or failed (not idle ones) and returns when its context ends.
func TestRun_ReportsAndStops(t *testing.T) {
	f := newFixture(t)
	m1 := msg(1, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dbDown := fmt.Errorf("postgres: %w", domain.ErrUnavailable)
	gomock.InOrder(
		f.expectClaim(claimOf(), nil),
		f.expectClaim(claimOf(m1), nil),
		f.pub.EXPECT().Publish(gomock.Any(), m1.OutboxMessage).Return(nil),
		f.store.EXPECT().MarkDone(gomock.Any(), []string{m1.ID}, now).Return(nil),
		f.expectClaim(ports.OutboxClaim{}, dbDown),
		f.expectClaim(claimOf(), nil).Do(func(context.Context, ports.OutboxKind, int, time.Time, time.Duration) {
			cancel()
		}),
	)
	var reports []error
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.relay.Run(ctx, outbox.Pacing{Poll: time.Millisecond, MaxBackoff: 2 * time.Millisecond},
			func(res outbox.PassResult, err error) { reports = append(reports, err) })
	}()
	<-done
	require.Len(t, reports, 2, "the idle passes are not reported")
	assert.NoError(t, reports[0])
	assert.ErrorIs(t, reports[1], domain.ErrUnavailable)
}

var errBoom = errors.New("boom")

func TestBacklog(t *testing.T) {
	f := newFixture(t)
	f.store.EXPECT().Backlog(gomock.Any()).Return([]ports.OutboxBacklog{
		{Kind: ports.OutboxEvent, Pending: 3, OldestCreatedAt: now.Add(-90 * time.Second)},
		{Kind: ports.OutboxClickReceipt},
	}, nil)
	got, err := outbox.NewBacklog(f.store, f.clock).Handle(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []outbox.BacklogStat{
		{Kind: ports.OutboxEvent, Pending: 3, OldestAge: 90 * time.Second},
		{Kind: ports.OutboxClickReceipt},
	}, got)

	f.store.EXPECT().Backlog(gomock.Any()).Return([]ports.OutboxBacklog{
		{Kind: ports.OutboxEvent, Pending: 1, OldestCreatedAt: now.Add(time.Second)}, // another instance's clock runs ahead
	}, nil)
	got, err = outbox.NewBacklog(f.store, f.clock).Handle(context.Background())
	require.NoError(t, err)
	assert.Zero(t, got[0].OldestAge)

	f.store.EXPECT().Backlog(gomock.Any()).Return(nil, errBoom)
	_, err = outbox.NewBacklog(f.store, f.clock).Handle(context.Background())
	assert.ErrorIs(t, err, errBoom)
}

func TestPurgeDone_DeletesInBatchesUntilAShortOne(t *testing.T) {
	f := newFixture(t)
	cutoff := now.Add(-outbox.DefaultRetention)
	gomock.InOrder(
		f.store.EXPECT().PurgeDone(gomock.Any(), cutoff, 2).Return(2, nil),
		f.store.EXPECT().PurgeDone(gomock.Any(), cutoff, 2).Return(2, nil),
		f.store.EXPECT().PurgeDone(gomock.Any(), cutoff, 2).Return(1, nil),
	)
	n, err := outbox.NewPurgeDone(f.store, f.clock, 0).WithBatch(2).Handle(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 5, n)

	f.store.EXPECT().PurgeDone(gomock.Any(), now.Add(-time.Hour), outbox.DefaultPurgeBatch).Return(0, errBoom)
	_, err = outbox.NewPurgeDone(f.store, f.clock, time.Hour).Handle(context.Background())
	assert.ErrorIs(t, err, errBoom)
}
