package crypto

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestHasher(t *testing.T, concurrency int) *PasswordHasher {
	t.Helper()
	h, err := NewPasswordHasher(TestParams, concurrency)
	require.NoError(t, err)
	return h
}

func TestHashVerify_RoundTrip(t *testing.T) {
	ctx := context.Background()
	h := newTestHasher(t, 0)

	encoded, err := h.Hash(ctx, "correct horse battery staple")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(encoded, "$argon2id$v=19$m=64,t=1,p=1$"), encoded)
	assert.NotContains(t, encoded, "correct horse")

	ok, err := h.Verify(ctx, encoded, "correct horse battery staple")
	require.NoError(t, err)
	assert.True(t, ok)

	ok, err = h.Verify(ctx, encoded, "correct horse battery stapl")
	require.NoError(t, err)
	assert.False(t, ok)

	ok, err = h.Verify(ctx, encoded, "")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestHash_SaltedEachTime(t *testing.T) {
	h := newTestHasher(t, 0)
	a, err := h.Hash(context.Background(), "same password")
	require.NoError(t, err)
	b, err := h.Hash(context.Background(), "same password")
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
}

func TestDefaultParams_Format(t *testing.T) {
	h, err := NewPasswordHasher(DefaultParams, 1)
	require.NoError(t, err)
	encoded, err := h.Hash(context.Background(), "pw")
	require.NoError(t, err)

	parts := strings.Split(encoded, "$")
	require.Len(t, parts, 6)
	assert.Equal(t, "argon2id", parts[1])
	assert.Equal(t, "v=19", parts[2])
	assert.Equal(t, "m=19456,t=2,p=1", parts[3])
	assert.Len(t, parts[4], 22) // 16 bytes, unpadded base64
	assert.Len(t, parts[5], 43) // 32 bytes
}

func TestVerify_ReadsParamsFromEncoding(t *testing.T) {
	ctx := context.Background()
	other, err := NewPasswordHasher(Params{Memory: 128, Iterations: 3, Parallelism: 2, SaltLength: 24, KeyLength: 48}, 1)
	require.NoError(t, err)
	encoded, err := other.Hash(ctx, "pw")
	require.NoError(t, err)

	p, salt, key, err := decode(encoded)
	require.NoError(t, err)
	assert.Equal(t, Params{Memory: 128, Iterations: 3, Parallelism: 2, SaltLength: 24, KeyLength: 48}, p)
	assert.Len(t, salt, 24)
	assert.Len(t, key, 48)

	// A hasher configured differently still verifies it.
	h := newTestHasher(t, 1)
	ok, err := h.Verify(ctx, encoded, "pw")
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestVerify_MalformedEncodings(t *testing.T) {
	h := newTestHasher(t, 1)
	good, err := h.Hash(context.Background(), "pw")
	require.NoError(t, err)
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	with := func(params, s, k string) string {
		return "$argon2id$v=19$" + params + "$" + s + "$" + k
	}

	cases := map[string]struct {
		encoded string
		want    error
	}{
		"empty":             {"", ErrMalformedHash},
		"bcrypt":            {"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", ErrMalformedHash},
		"argon2i":           {"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		"wrong version":     {"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key, ErrUnsupportedParams},
		"missing field":     {"$argon2id$v=19$m=64,t=1,p=1$" + salt, ErrMalformedHash},
		"extra field":       {good + "$x", ErrMalformedHash},
		"params order":      {with("t=1,m=64,p=1", salt, key), ErrMalformedHash},
		"params missing":    {with("m=64,t=1", salt, key), ErrMalformedHash},
		"params not number": {with("m=x,t=1,p=1", salt, key), ErrMalformedHash},
		"params signed":     {with("m=+64,t=1,p=1", salt, key), ErrMalformedHash},
		"params leading 0":  {with("m=064,t=1,p=1", salt, key), ErrMalformedHash},
		"params overflow":   {with("m=99999999999,t=1,p=1", salt, key), ErrMalformedHash},
		"p overflow uint8":  {with("m=64,t=1,p=256", salt, key), ErrMalformedHash},
		"huge memory":       {with("m=4194304,t=1,p=1", salt, key), ErrUnsupportedParams},
		"huge iterations":   {with("m=64,t=1000000,p=1", salt, key), ErrUnsupportedParams},
		"zero iterations":   {with("m=64,t=0,p=1", salt, key), ErrUnsupportedParams},
		"zero parallelism":  {with("m=64,t=1,p=0", salt, key), ErrUnsupportedParams},
		"memory below 8p":   {with("m=8,t=1,p=2", salt, key), ErrUnsupportedParams},
		"bad salt base64":   {with("m=64,t=1,p=1", "!!!!", key), ErrMalformedHash},
		"padded salt":       {with("m=64,t=1,p=1", salt+"==", key), ErrMalformedHash},
		"newline in key":    {with("m=64,t=1,p=1", salt, key[:20]+"\n"+key[20:]), ErrMalformedHash},
		"short salt":        {with("m=64,t=1,p=1", "AAAA", key), ErrUnsupportedParams},
		"short key":         {with("m=64,t=1,p=1", salt, "AAAA"), ErrUnsupportedParams},
		"too long":          {good + strings.Repeat("A", 600), ErrMalformedHash},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ok, err := h.Verify(context.Background(), tc.encoded, "pw")
			assert.False(t, ok)
			require.ErrorIs(t, err, tc.want)
			assert.NotContains(t, err.Error(), salt, "error must not echo the hash")
		})
	}
}

func TestNewPasswordHasher_RefusesBadParams(t *testing.T) {
	for _, p := range []Params{
		{},
		{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 4, KeyLength: 32},
		{Memory: 1 << 30, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32},
	} {
		_, err := NewPasswordHasher(p, 1)
		assert.ErrorIs(t, err, ErrUnsupportedParams, "%+v", p)
	}
}

func TestConcurrencyCapRespected(t *testing.T) {
	const limit, callers = 2, 6
	h := newTestHasher(t, limit)

	var active, peak atomic.Int32
	entered := make(chan struct{}, callers)
	release := make(chan struct{})
	h.inSlot = func() {
		n := active.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		entered <- struct{}{}
		<-release
		active.Add(-1)
	}

	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			_, err := h.Hash(context.Background(), "pw")
			assert.NoError(t, err)
		})
	}
	// Exactly `limit` callers get in; the semaphore is then full, so every
	// other caller is parked on the channel send and cannot enter.
	for range limit {
		<-entered
	}
	assert.Equal(t, limit, len(h.sem))
	assert.Equal(t, int32(limit), active.Load())

	close(release)
	wg.Wait()
	assert.Equal(t, int32(limit), peak.Load())
	assert.Len(t, entered, callers-limit)
	assert.Equal(t, 0, len(h.sem), "every slot released")
}

func TestContextCancelWhileWaiting(t *testing.T) {
	h := newTestHasher(t, 1)
	entered, release := make(chan struct{}), make(chan struct{})
	h.inSlot = func() {
		entered <- struct{}{}
		<-release
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = h.Hash(context.Background(), "holder")
	}()
	<-entered // the only slot is taken

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := h.Verify(ctx, "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "pw")
		errc <- err
	}()
	cancel()
	err := <-errc
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)

	close(release)
	<-done
}

func TestContextAlreadyCancelled(t *testing.T) {
	h := newTestHasher(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.Hash(ctx, "pw")
	assert.ErrorIs(t, err, context.Canceled)
}

func BenchmarkHash(b *testing.B) {
	h, err := NewPasswordHasher(DefaultParams, 1)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h, err := NewPasswordHasher(DefaultParams, 1)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := h.Verify(ctx, encoded, "wrong password"); err != nil {
			b.Fatal(err)
		}
	}
}
