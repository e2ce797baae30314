package testsupport_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/test/testsupport"
)

func TestRecordingTx_RecordsHowTheLatestTransactionEnded(t *testing.T) {
	tx := &testsupport.RecordingTx{}
	assert.Zero(t, tx.Runs())
	assert.False(t, tx.Committed(), "nothing committed before the first transaction")
	assert.False(t, tx.RolledBack(), "nothing rolled back before the first transaction")

	inside := false
	require.NoError(t, tx.WithinTx(context.Background(), func(ctx context.Context) error {
		inside = testsupport.InTx(ctx)
		return nil
	}))
	assert.True(t, inside, "fn runs in a context InTx recognises")
	assert.Equal(t, 1, tx.Runs())
	assert.True(t, tx.Committed())
	assert.False(t, tx.RolledBack())

	boom := errors.New("boom")
	assert.ErrorIs(t, tx.WithinTx(context.Background(), func(context.Context) error { return boom }), boom)
	assert.Equal(t, 2, tx.Runs())
	assert.False(t, tx.Committed())
	assert.True(t, tx.RolledBack())
}

func TestRecordingTx_AFailedCommitIsARollback(t *testing.T) {
	commitErr := errors.New("could not serialize access")
	tx := &testsupport.RecordingTx{InlineTx: testsupport.InlineTx{CommitErr: commitErr}}
	ran := false
	err := tx.WithinTx(context.Background(), func(context.Context) error {
		ran = true
		return nil
	})
	assert.ErrorIs(t, err, commitErr)
	assert.True(t, ran)
	assert.Equal(t, 1, tx.Runs())
	assert.False(t, tx.Committed())
	assert.True(t, tx.RolledBack())
}

func TestStepClock_StepsAfterEveryReading(t *testing.T) {
	start := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	c := testsupport.NewStepClock(start, time.Second)
	assert.Equal(t, start, c.Now(), "the first reading is the start")
	assert.Equal(t, start.Add(time.Second), c.Now())
	c.Set(start)
	assert.Equal(t, start, c.Now(), "a step clock may still be set")
	c.Advance(time.Hour)
	assert.Equal(t, start.Add(time.Hour+time.Second), c.Now())
}

func TestClock_ReadsTheSameUntilMoved(t *testing.T) {
	start := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	c := testsupport.NewClock(start)
	assert.Equal(t, start, c.Now())
	assert.Equal(t, start, c.Now(), "reading does not move it")
	c.Advance(time.Minute)
	assert.Equal(t, start.Add(time.Minute), c.Now())
}

func TestSyncBuffer_KeepsEveryConcurrentWrite(t *testing.T) {
	var b testsupport.SyncBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("x"))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, strings.Repeat("x", 800), b.String())
	snapshot := b.Bytes()
	_, _ = b.Write([]byte("y"))
	assert.Len(t, snapshot, 800, "Bytes is a copy later writes leave alone")
}

func TestRecordingBody_RecordsAReadAndYieldsSizeZeros(t *testing.T) {
	b := &testsupport.RecordingBody{Size: 5000}
	assert.False(t, b.WasRead())
	got, err := io.ReadAll(b)
	require.NoError(t, err)
	assert.True(t, b.WasRead())
	assert.Equal(t, make([]byte, 5000), got)
}
