package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

const lease = 30 * time.Second

func outboxMsg(aggregate string, n int) ports.OutboxMessage {
	return ports.OutboxMessage{
		ID:          uuid.NewString(),
		Kind:        ports.OutboxEvent,
		AggregateID: aggregate,
		Subject:     "ultramarket.order.placed",
		Payload:     []byte(fmt.Sprintf(`{"n": %d,  "raw":"kept as is"}`, n)),
		CreatedAt:   t0.Add(time.Duration(n) * time.Millisecond),
	}
}

// appendCommitted appends msgs, each in a transaction of its own, in order.
func appendCommitted(t *testing.T, tm *postgres.TxManager, box *postgres.OutboxStore, msgs ...ports.OutboxMessage) {
	t.Helper()
	for _, m := range msgs {
		require.NoError(t, tm.WithinTx(ctx(t), func(ctx context.Context) error { return box.Append(ctx, m) }))
	}
}

func ids(msgs []ports.ClaimedMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func TestOutboxAppendJoinsTheCallersTransaction(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	tm, box, c := postgres.NewTxManager(db), postgres.NewOutboxStore(db), ctx(t)
	order := uuid.NewString()

	err := box.Append(c, outboxMsg(order, 1))
	require.ErrorIs(t, err, postgres.ErrNoTx, "outside a transaction the row could exist without its change")

	rolledBack := outboxMsg(order, 2)
	boom := errors.New("the change failed")
	err = tm.WithinTx(c, func(ctx context.Context) error {
		require.NoError(t, box.Append(ctx, rolledBack))
		return boom
	})
	require.ErrorIs(t, err, boom)
	claim, err := box.Claim(c, ports.OutboxEvent, 10, t0.Add(time.Hour), lease)
	require.NoError(t, err)
	assert.Empty(t, claim.Messages, "a rolled-back transaction leaves no outbox row")

	committed := outboxMsg(order, 3)
	appendCommitted(t, tm, box, committed)
	claim, err = box.Claim(c, ports.OutboxEvent, 10, t0.Add(time.Hour), lease)
	require.NoError(t, err)
	require.Len(t, claim.Messages, 1)
	got := claim.Messages[0]
	assert.Equal(t, committed, got.OutboxMessage, "the exact bytes, subject, ids and time come back")
	assert.Zero(t, got.Attempts)
	assert.NotEmpty(t, claim.Token)
	assert.Equal(t, t0.Add(time.Hour+lease), claim.Until)

	err = tm.WithinTx(c, func(ctx context.Context) error {
		_, err := box.Claim(ctx, ports.OutboxEvent, 10, t0.Add(time.Hour), lease)
		return err
	})
	assert.ErrorIs(t, err, postgres.ErrInTx, "a lease inside a caller's transaction would commit late")
}

func TestOutboxAppendRefusesBadMessages(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	tm, box, c := postgres.NewTxManager(db), postgres.NewOutboxStore(db), ctx(t)
	order := uuid.NewString()
	cases := map[string]struct {
		change func(*ports.OutboxMessage)
		field  string
	}{
		"id":        {func(m *ports.OutboxMessage) { m.ID = "evt-1" }, "id"},
		"aggregate": {func(m *ports.OutboxMessage) { m.AggregateID = "" }, "aggregate_id"},
		"time":      {func(m *ports.OutboxMessage) { m.CreatedAt = time.Time{} }, "created_at"},
		"kind":      {func(m *ports.OutboxMessage) { m.Kind = "email" }, "kind"},
		"subject":   {func(m *ports.OutboxMessage) { m.Subject = "ultramarket.order.>" }, "subject"},
		"payload":   {func(m *ports.OutboxMessage) { m.Payload = nil }, "payload"},
		"too big":   {func(m *ports.OutboxMessage) { m.Payload = make([]byte, 512<<10+1) }, "payload"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := outboxMsg(order, 1)
			tc.change(&m)
			err := tm.WithinTx(c, func(ctx context.Context) error { return box.Append(ctx, m) })
			var v *domain.ValidationError
			require.ErrorAs(t, err, &v, name)
			assert.Equal(t, tc.field, v.Fields[0].Field, name)
		})
	}
	backlog, err := box.Backlog(c)
	require.NoError(t, err)
	assert.Zero(t, backlog[0].Pending, "nothing was stored")
}

// A claim hands out only the head of each aggregate: the next row of an order
// waits until the one before it is done, and a failed head holds its order
// back until its retry time.
func TestOutboxClaimKeepsOrderPerAggregate(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	tm, box, c := postgres.NewTxManager(db), postgres.NewOutboxStore(db), ctx(t)
	a, b := uuid.NewString(), uuid.NewString()
	a1, b1, a2, a3 := outboxMsg(a, 1), outboxMsg(b, 2), outboxMsg(a, 3), outboxMsg(a, 4)
	appendCommitted(t, tm, box, a1, b1, a2, a3)
	now := t0.Add(time.Hour)

	first, err := box.Claim(c, ports.OutboxEvent, 10, now, lease)
	require.NoError(t, err)
	assert.Equal(t, []string{a1.ID, b1.ID}, ids(first.Messages), "heads only, in seq order")
	assert.Less(t, first.Messages[0].Seq, first.Messages[1].Seq)

	none, err := box.Claim(c, ports.OutboxEvent, 10, now, lease)
	require.NoError(t, err)
	assert.Empty(t, none.Messages, "a2 waits for a1, which is leased")

	require.NoError(t, box.MarkDone(c, []string{a1.ID}, now))
	retryAt := now.Add(5 * time.Second)
	require.NoError(t, box.MarkFailed(c, first.Token, []ports.OutboxFailure{
		{ID: b1.ID, RetryAt: retryAt, Reason: "nats: timeout " + strings.Repeat("é", 600) + "\x00\xff"}}))

	second, err := box.Claim(c, ports.OutboxEvent, 10, now, lease)
	require.NoError(t, err)
	assert.Equal(t, []string{a2.ID}, ids(second.Messages), "a2 follows a1; b1 waits for its retry")

	third, err := box.Claim(c, ports.OutboxEvent, 10, retryAt, lease)
	require.NoError(t, err)
	require.Equal(t, []string{b1.ID}, ids(third.Messages), "a3 waits for a2; b1 is due")
	assert.Equal(t, 1, third.Messages[0].Attempts)
	var lastErr string
	require.NoError(t, db.GetContext(c, &lastErr, `SELECT last_error FROM outbox WHERE id = $1`, b1.ID))
	assert.Equal(t, 500, len([]rune(lastErr)), "cut to the column's bound")
	assert.True(t, strings.HasPrefix(lastErr, "nats: timeout é"))

	require.NoError(t, box.Release(c, second.Token, []string{a2.ID}))
	again, err := box.Claim(c, ports.OutboxEvent, 10, now, lease)
	require.NoError(t, err)
	assert.Equal(t, []string{a2.ID}, ids(again.Messages), "a released row is claimable at once")
	assert.Zero(t, again.Messages[0].Attempts, "a release is not an attempt")

	limited, err := box.Claim(c, ports.OutboxEvent, 0, retryAt, lease)
	require.NoError(t, err)
	assert.Empty(t, limited.Messages)
}

// A relay that dies leaves its rows leased; they are claimable again once the
// lease ran out, and the dead relay's token no longer frees or fails them.
func TestOutboxLeaseExpires(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	tm, box, c := postgres.NewTxManager(db), postgres.NewOutboxStore(db), ctx(t)
	m := outboxMsg(uuid.NewString(), 1)
	appendCommitted(t, tm, box, m)
	now := t0.Add(time.Hour)

	dead, err := box.Claim(c, ports.OutboxEvent, 10, now, lease)
	require.NoError(t, err)
	require.Len(t, dead.Messages, 1)

	during, err := box.Claim(c, ports.OutboxEvent, 10, now.Add(lease-time.Second), lease)
	require.NoError(t, err)
	assert.Empty(t, during.Messages, "leased")

	after, err := box.Claim(c, ports.OutboxEvent, 10, now.Add(lease), lease)
	require.NoError(t, err)
	require.Equal(t, []string{m.ID}, ids(after.Messages), "the lease ran out")
	assert.NotEqual(t, dead.Token, after.Token)
	assert.Zero(t, after.Messages[0].Attempts, "an expired lease is not a failed attempt")

	// The first relay wakes up and tries to give the row back or fail it:
	// the row is the second relay's now.
	require.NoError(t, box.Release(c, dead.Token, []string{m.ID}))
	require.NoError(t, box.MarkFailed(c, dead.Token, []ports.OutboxFailure{{ID: m.ID, RetryAt: now, Reason: "late"}}))
	stolen, err := box.Claim(c, ports.OutboxEvent, 10, now.Add(lease+time.Second), lease)
	require.NoError(t, err)
	assert.Empty(t, stolen.Messages, "still leased to the second relay")

	// A message sent is done, whichever relay says so.
	require.NoError(t, box.MarkDone(c, []string{m.ID}, now.Add(lease)))
	var attempts int
	require.NoError(t, db.GetContext(c, &attempts, `SELECT attempts FROM outbox WHERE id = $1`, m.ID))
	assert.Zero(t, attempts)
	done, err := box.Claim(c, ports.OutboxEvent, 10, now.Add(10*lease), lease)
	require.NoError(t, err)
	assert.Empty(t, done.Messages, "done rows are never handed out again")
}

// A row another transaction has locked is skipped, not waited for: a claim
// never blocks behind another relay's claim.
func TestOutboxClaimSkipsLockedRows(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	tm, box, c := postgres.NewTxManager(db), postgres.NewOutboxStore(db), ctx(t)
	held, free := outboxMsg(uuid.NewString(), 1), outboxMsg(uuid.NewString(), 2)
	appendCommitted(t, tm, box, held, free)

	tx, err := db.BeginTxx(c, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	_, err = tx.ExecContext(c, `SELECT 1 FROM outbox WHERE id = $1 FOR UPDATE`, held.ID)
	require.NoError(t, err)

	short, cancel := context.WithTimeout(c, 10*time.Second)
	defer cancel()
	claim, err := box.Claim(short, ports.OutboxEvent, 10, t0.Add(time.Hour), lease)
	require.NoError(t, err, "a claim that waited for the lock would have run out of time")
	assert.Equal(t, []string{free.ID}, ids(claim.Messages))
}

// Claimers running at once (each claim its own statement, as on several
// instances) never get one row twice; sending each claim's rows and marking
// them done, every aggregate's rows go out in seq order.
func TestOutboxConcurrentClaimersKeepOrderAndNeverShare(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	tm, box := postgres.NewTxManager(db), postgres.NewOutboxStore(db)
	// Few aggregates with many rows each: a claim that could take more than
	// the head of an aggregate would hand its next rows to another claimer.
	const aggregates, perAggregate = 4, 12
	want := map[string][]string{} // aggregate → ids in append order
	aggs := make([]string, aggregates)
	for i := range aggs {
		aggs[i] = uuid.NewString()
	}
	// Interleave the aggregates, as concurrent orders would.
	for n := range perAggregate {
		for _, a := range aggs {
			m := outboxMsg(a, n)
			appendCommitted(t, tm, box, m)
			want[a] = append(want[a], m.ID)
		}
	}

	var mu sync.Mutex
	sent := map[string][]string{} // aggregate → ids in the order they were "sent"
	times := map[string]int{}
	now := t0.Add(time.Hour)
	c := ctx(t)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idle := 0; idle < 50; {
				claim, err := box.Claim(c, ports.OutboxEvent, 5, now, lease)
				if !assert.NoError(t, err) {
					return
				}
				if len(claim.Messages) == 0 {
					idle++
					time.Sleep(2 * time.Millisecond)
					continue
				}
				idle = 0
				for _, m := range claim.Messages {
					// A publish takes a while: long enough for another
					// claimer to overtake this one, were it allowed to.
					time.Sleep(time.Duration(m.Seq%4+1) * 500 * time.Microsecond)
					mu.Lock()
					sent[m.AggregateID] = append(sent[m.AggregateID], m.ID)
					times[m.ID]++
					mu.Unlock()
				}
				if !assert.NoError(t, box.MarkDone(c, ids(claim.Messages), now)) {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, a := range aggs {
		assert.Equal(t, want[a], sent[a], "aggregate %s sent in commit order, each once", a)
	}
	assert.Len(t, times, aggregates*perAggregate)
	for id, n := range times {
		assert.Equal(t, 1, n, "row %s claimed %d times", id, n)
	}
}

// Two transactions appending for one aggregate are serialised until commit,
// so the later seq always commits later: without that, a relay could see
// and send seq 11 while seq 10 is still uncommitted.
func TestOutboxAppendSerialisesOneAggregate(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	tm, box, c := postgres.NewTxManager(db), postgres.NewOutboxStore(db), ctx(t)
	order := uuid.NewString()
	first, second := outboxMsg(order, 1), outboxMsg(order, 2)
	other := outboxMsg(uuid.NewString(), 3)

	firstIn := make(chan struct{})
	release := make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- tm.WithinTx(c, func(ctx context.Context) error {
			if err := box.Append(ctx, first); err != nil {
				return err
			}
			close(firstIn)
			<-release // hold the transaction open
			return nil
		})
	}()
	<-firstIn

	// Another aggregate does not wait.
	appendCommitted(t, tm, box, other)

	secondDone := make(chan error, 1)
	go func() {
		secondDone <- tm.WithinTx(c, func(ctx context.Context) error { return box.Append(ctx, second) })
	}()
	waitForAdvisoryWaiter(t, db)
	select {
	case err := <-secondDone:
		t.Fatalf("second append committed while the first transaction was open: %v", err)
	default:
	}
	// Drawn while the second waits: the second's seq must come after it,
	// or the second drew its seq before it had the lock (and the first's
	// holder could then draw a higher one and commit first).
	meanwhile := outboxMsg(uuid.NewString(), 4)
	appendCommitted(t, tm, box, meanwhile)
	close(release)
	require.NoError(t, <-firstDone)
	require.NoError(t, <-secondDone)

	seq := func(id string) int64 {
		var n int64
		require.NoError(t, db.GetContext(c, &n, `SELECT seq FROM outbox WHERE id = $1`, id))
		return n
	}
	assert.Less(t, seq(first.ID), seq(second.ID), "the transaction that committed first has the lower seq")
	assert.Less(t, seq(meanwhile.ID), seq(second.ID), "the waiting append draws its seq once it holds the lock")
}

// waitForAdvisoryWaiter waits until some session of db waits for an advisory lock.
func waitForAdvisoryWaiter(t *testing.T, db *sqlx.DB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var waiting int
		require.NoError(t, db.GetContext(ctx(t), &waiting, `SELECT count(*) FROM pg_locks l
			JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = current_database()`))
		if waiting > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the second append never waited for the first transaction")
}

func TestOutboxBacklogAndPurge(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	tm, box, c := postgres.NewTxManager(db), postgres.NewOutboxStore(db), ctx(t)

	empty, err := box.Backlog(c)
	require.NoError(t, err)
	assert.Equal(t, []ports.OutboxBacklog{{Kind: ports.OutboxEvent}, {Kind: ports.OutboxClickReceipt}}, empty,
		"every kind, zero when empty")

	a, b := outboxMsg(uuid.NewString(), 5), outboxMsg(uuid.NewString(), 9)
	receipt := outboxMsg(uuid.NewString(), 7)
	receipt.Kind, receipt.Subject = ports.OutboxClickReceipt, "click.receipt"
	appendCommitted(t, tm, box, b, a, receipt)

	backlog, err := box.Backlog(c)
	require.NoError(t, err)
	assert.Equal(t, []ports.OutboxBacklog{
		{Kind: ports.OutboxEvent, Pending: 2, OldestCreatedAt: a.CreatedAt},
		{Kind: ports.OutboxClickReceipt, Pending: 1, OldestCreatedAt: receipt.CreatedAt},
	}, backlog)

	doneAt := t0.Add(time.Hour)
	require.NoError(t, box.MarkDone(c, []string{a.ID, b.ID}, doneAt))
	backlog, err = box.Backlog(c)
	require.NoError(t, err)
	assert.Equal(t, ports.OutboxBacklog{Kind: ports.OutboxEvent}, backlog[0], "done rows are not backlog")
	assert.Equal(t, int64(1), backlog[1].Pending)

	n, err := box.PurgeDone(c, doneAt, 10)
	require.NoError(t, err)
	assert.Zero(t, n, "done exactly at the cut-off: kept")
	n, err = box.PurgeDone(c, doneAt.Add(time.Second), 1)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the limit holds")
	n, err = box.PurgeDone(c, doneAt.Add(time.Second), 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	var left int
	require.NoError(t, db.GetContext(c, &left, `SELECT count(*) FROM outbox`))
	assert.Equal(t, 1, left, "the receipt not done stays")
}
