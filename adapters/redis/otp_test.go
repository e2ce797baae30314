package redis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/redis"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/otp"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/test/testenv"
)

var otpPepper = []byte("test-pepper-0123456789abcdef-0123456789")

const otpClient = "203.0.113.7"

type otpFixture struct {
	client goredis.UniversalClient
	prefix string
	store  *redis.OTPStore
	t0     time.Time
}

func newOTPFixture(t *testing.T) *otpFixture {
	t.Helper()
	c, prefix := testenv.Redis(t)
	s, err := redis.NewOTPStore(c, prefix, otpPepper, otp.DefaultPolicy())
	require.NoError(t, err)
	// Whole milliseconds, the store's resolution, near the wall clock so
	// Redis's own expiries stay meaningful.
	return &otpFixture{client: c, prefix: prefix, store: s, t0: time.Now().Truncate(time.Millisecond)}
}

func phoneN(t *testing.T, n int) user.Phone {
	t.Helper()
	p, err := user.ParsePhone(fmt.Sprintf("+99890%07d", n))
	require.NoError(t, err)
	return p
}

func code(t *testing.T, s string) otp.Code {
	t.Helper()
	c, err := otp.ParseCode(s)
	require.NoError(t, err)
	return c
}

func (f *otpFixture) issue(t *testing.T, p user.Phone, c string, at time.Duration) otp.Issued {
	t.Helper()
	got, err := f.store.Issue(context.Background(), p, otpClient, code(t, c), f.t0.Add(at))
	require.NoError(t, err)
	return got
}

func (f *otpFixture) verify(t *testing.T, p user.Phone, c string, at time.Duration) error {
	t.Helper()
	return f.store.Verify(context.Background(), p, code(t, c), f.t0.Add(at))
}

func requireLimited(t *testing.T, err error, limit otp.Limit, retryAfter time.Duration) {
	t.Helper()
	var rl *otp.RateLimitedError
	require.ErrorAs(t, err, &rl)
	assert.ErrorIs(t, err, otp.ErrRateLimited)
	assert.Equal(t, limit, rl.Limit)
	assert.Equal(t, retryAfter, rl.RetryAfter)
}

func TestOTPIssueThenVerifyOnce(t *testing.T) {
	f := newOTPFixture(t)
	p := phoneN(t, 1)
	got := f.issue(t, p, "123456", 0)
	assert.Equal(t, otp.Issued{ExpiresIn: 3 * time.Minute, ResendIn: time.Minute}, got)

	require.NoError(t, f.verify(t, p, "123456", time.Second))
	// Used: the same code again, a moment later, is refused.
	assert.ErrorIs(t, f.verify(t, p, "123456", 2*time.Second), otp.ErrInvalidCode)
}

func TestOTPVerifyRefusesWhatWasNotIssued(t *testing.T) {
	f := newOTPFixture(t)
	p := phoneN(t, 1)
	err := f.verify(t, p, "123456", 0)
	require.ErrorIs(t, err, otp.ErrInvalidCode, "no code for the phone")
	assert.ErrorIs(t, err, domain.ErrUnauthorized)

	f.issue(t, p, "123456", 0)
	assert.ErrorIs(t, f.verify(t, phoneN(t, 2), "123456", time.Second), otp.ErrInvalidCode, "another phone")
	require.NoError(t, f.verify(t, p, "123456", time.Second), "the other phone's try did not touch this code")
}

func TestOTPFiveWrongTriesEndTheCode(t *testing.T) {
	f := newOTPFixture(t)

	// Four wrong tries leave the code alive.
	p := phoneN(t, 1)
	f.issue(t, p, "123456", 0)
	for i := range 4 {
		assert.ErrorIs(t, f.verify(t, p, fmt.Sprintf("00000%d", i), time.Second), otp.ErrInvalidCode)
	}
	require.NoError(t, f.verify(t, p, "123456", time.Second), "the right code on the 5th try")

	// The fifth wrong try ends it: the right code no longer works.
	q := phoneN(t, 2)
	f.issue(t, q, "654321", 0)
	for i := range 5 {
		assert.ErrorIs(t, f.verify(t, q, fmt.Sprintf("00000%d", i), time.Second), otp.ErrInvalidCode)
	}
	assert.ErrorIs(t, f.verify(t, q, "654321", time.Second), otp.ErrInvalidCode)
	assert.Empty(t, f.keys(t, "*:code"), "an ended code leaves nothing behind")
}

func TestOTPExpiresAfterTTL(t *testing.T) {
	f := newOTPFixture(t)
	p, q := phoneN(t, 1), phoneN(t, 2)
	f.issue(t, p, "123456", 0)
	f.issue(t, q, "123456", 0)

	require.NoError(t, f.verify(t, p, "123456", 3*time.Minute-time.Millisecond), "the last millisecond")
	assert.ErrorIs(t, f.verify(t, q, "123456", 3*time.Minute), otp.ErrInvalidCode)

	// Redis forgets it too, within the lifetime.
	r := phoneN(t, 3)
	f.issue(t, r, "123456", 0)
	keys := f.keys(t, "*:code")
	require.Len(t, keys, 1)
	ttl, err := f.client.PTTL(context.Background(), keys[0]).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, time.Duration(0))
	assert.LessOrEqual(t, ttl, 3*time.Minute)
}

func TestOTPNewSendEndsTheEarlierCode(t *testing.T) {
	f := newOTPFixture(t)
	p := phoneN(t, 1)
	f.issue(t, p, "111111", 0)
	for range 4 {
		assert.ErrorIs(t, f.verify(t, p, "999999", time.Second), otp.ErrInvalidCode)
	}
	f.issue(t, p, "222222", time.Minute)

	assert.ErrorIs(t, f.verify(t, p, "111111", time.Minute+time.Second), otp.ErrInvalidCode)
	// The new code starts with all its tries (the old one's four, and the try
	// above, do not carry over): four more wrong ones, then the right one.
	for range 3 {
		assert.ErrorIs(t, f.verify(t, p, "999999", time.Minute+time.Second), otp.ErrInvalidCode)
	}
	require.NoError(t, f.verify(t, p, "222222", time.Minute+2*time.Second))
}

func TestOTPSameCodeTwiceHashesDifferently(t *testing.T) {
	f := newOTPFixture(t)
	p := phoneN(t, 1)
	f.issue(t, p, "123456", 0)
	first := f.storedMAC(t)
	f.issue(t, p, "123456", time.Minute)
	assert.NotEqual(t, first, f.storedMAC(t), "each send has its own id in the hash")
}

func TestOTPPhoneCooldown(t *testing.T) {
	f := newOTPFixture(t)
	ctx := context.Background()
	p := phoneN(t, 1)
	f.issue(t, p, "111111", 0)

	_, err := f.store.Issue(ctx, p, otpClient, code(t, "222222"), f.t0.Add(59500*time.Millisecond))
	requireLimited(t, err, otp.LimitPhone, 500*time.Millisecond)
	// A refused send changes nothing: the first code still works.
	require.NoError(t, f.verify(t, p, "111111", time.Minute-time.Millisecond))

	// Another client asking for the same phone waits as well.
	_, err = f.store.Issue(ctx, p, "198.51.100.9", code(t, "222222"), f.t0.Add(30*time.Second))
	requireLimited(t, err, otp.LimitPhone, 30*time.Second)

	f.issue(t, p, "333333", time.Minute)
	require.NoError(t, f.verify(t, p, "333333", time.Minute+time.Second))
}

func TestOTPFiveSendsPerPhonePerHour(t *testing.T) {
	f := newOTPFixture(t)
	ctx := context.Background()
	p := phoneN(t, 1)
	for i := range 4 {
		got := f.issue(t, p, "111111", time.Duration(i)*time.Minute)
		assert.Equal(t, time.Minute, got.ResendIn, "send %d", i+1)
	}
	// The fifth send uses the hour up: the client learns when it frees.
	got := f.issue(t, p, "111111", 4*time.Minute)
	assert.Equal(t, time.Hour-4*time.Minute, got.ResendIn)

	_, err := f.store.Issue(ctx, p, otpClient, code(t, "222222"), f.t0.Add(5*time.Minute))
	requireLimited(t, err, otp.LimitPhone, 55*time.Minute)
	_, err = f.store.Issue(ctx, p, otpClient, code(t, "222222"), f.t0.Add(time.Hour-time.Millisecond))
	requireLimited(t, err, otp.LimitPhone, time.Millisecond)

	// A sliding hour: the first send leaves it, the second holds the next.
	got = f.issue(t, p, "222222", time.Hour)
	assert.Equal(t, time.Minute, got.ResendIn)
	_, err = f.store.Issue(ctx, p, otpClient, code(t, "333333"), f.t0.Add(time.Hour+time.Minute-time.Millisecond))
	requireLimited(t, err, otp.LimitPhone, time.Millisecond)
}

func TestOTPTwentySendsPerClientPerHour(t *testing.T) {
	f := newOTPFixture(t)
	ctx := context.Background()
	for i := range 20 {
		f.issue(t, phoneN(t, i), "111111", time.Duration(i)*time.Second)
	}
	_, err := f.store.Issue(ctx, phoneN(t, 20), otpClient, code(t, "111111"), f.t0.Add(30*time.Second))
	requireLimited(t, err, otp.LimitClient, time.Hour-30*time.Second)

	// The refused phone was not charged: another client sends to it at once.
	_, err = f.store.Issue(ctx, phoneN(t, 20), "198.51.100.9", code(t, "111111"), f.t0.Add(30*time.Second))
	require.NoError(t, err)

	// Once the first send leaves the hour, the client may send again.
	_, err = f.store.Issue(ctx, phoneN(t, 21), otpClient, code(t, "111111"), f.t0.Add(time.Hour))
	require.NoError(t, err)
}

func TestOTPPhoneRefusalDoesNotChargeTheClient(t *testing.T) {
	f := newOTPFixture(t)
	ctx := context.Background()
	for i := range 19 {
		f.issue(t, phoneN(t, i), "111111", 0)
	}
	for range 5 { // the phone is cooling down: refused, and not counted
		_, err := f.store.Issue(ctx, phoneN(t, 0), otpClient, code(t, "222222"), f.t0.Add(time.Second))
		requireLimited(t, err, otp.LimitPhone, time.Minute-time.Second)
	}
	f.issue(t, phoneN(t, 19), "111111", 2*time.Second) // the 20th send
	_, err := f.store.Issue(ctx, phoneN(t, 20), otpClient, code(t, "111111"), f.t0.Add(3*time.Second))
	requireLimited(t, err, otp.LimitClient, time.Hour-3*time.Second)
}

// Two gateway instances (two stores, two connection pools) asking for one
// phone at the same moment: exactly one send goes through.
func TestOTPConcurrentSendsToOnePhone(t *testing.T) {
	f := newOTPFixture(t)
	other, err := redis.Open(testenv.RedisURL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = other.Close() })
	second, err := redis.NewOTPStore(other, f.prefix, otpPepper, otp.DefaultPolicy())
	require.NoError(t, err)

	p := phoneN(t, 1)
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		store := f.store
		if i%2 == 1 {
			store = second
		}
		c := code(t, fmt.Sprintf("%06d", i))
		wg.Go(func() {
			_, errs[i] = store.Issue(context.Background(), p, fmt.Sprintf("198.51.100.%d", i), c, f.t0)
		})
	}
	wg.Wait()
	sent := -1
	for i, err := range errs {
		if err == nil {
			assert.Equal(t, -1, sent, "two sends went through")
			sent = i
			continue
		}
		requireLimited(t, err, otp.LimitPhone, time.Minute)
	}
	require.NotEqual(t, -1, sent, "no send went through")
	require.NoError(t, f.verify(t, p, fmt.Sprintf("%06d", sent), time.Second), "the code that was sent is the one stored")
}

func TestOTPConcurrentVerifiesOfOneCode(t *testing.T) {
	f := newOTPFixture(t)
	p := phoneN(t, 1)
	f.issue(t, p, "123456", 0)

	const n = 5 // within the tries, so every one of them is compared
	var wg sync.WaitGroup
	errs := make([]error, n)
	c := code(t, "123456")
	for i := range n {
		wg.Go(func() { errs[i] = f.store.Verify(context.Background(), p, c, f.t0.Add(time.Second)) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			assert.ErrorIs(t, err, otp.ErrInvalidCode)
		}
	}
	assert.Equal(t, 1, ok, "a code logs in once")
}

// Comparisons in flight count as tries: five guesses being checked at once
// leave none for a sixth, so a volley of concurrent guesses gets no more
// chances than five sequential ones.
func TestOTPTriesInFlightCount(t *testing.T) {
	f := newOTPFixture(t)
	ctx := context.Background()
	p := phoneN(t, 1)
	f.issue(t, p, "123456", 0)
	for range 5 {
		require.NoError(t, redis.ReserveOTPCheck(ctx, f.store, p, f.t0.Add(time.Second)))
	}
	assert.ErrorIs(t, f.verify(t, p, "123456", time.Second), otp.ErrInvalidCode)

	// And a volley of wrong guesses ends the code however it interleaves.
	q := phoneN(t, 2)
	f.issue(t, q, "123456", 0)
	var wg sync.WaitGroup
	for i := range 30 {
		guess := code(t, fmt.Sprintf("%06d", 900000+i))
		wg.Go(func() { _ = f.store.Verify(ctx, q, guess, f.t0.Add(time.Second)) })
	}
	wg.Wait()
	assert.ErrorIs(t, f.verify(t, q, "123456", time.Second), otp.ErrInvalidCode)
}

// Redis holds no phone number and no code: keys carry keyed hashes, the code
// record its HMAC, and without the pepper a code cannot be checked.
func TestOTPStoresOnlyKeyedHashes(t *testing.T) {
	f := newOTPFixture(t)
	ctx := context.Background()
	p := phoneN(t, 1234567)
	f.issue(t, p, "480213", 0)

	keys := f.keys(t, "*")
	require.Len(t, keys, 3, "code, the phone's sends, the client's sends: %v", keys)
	var dump bytes.Buffer
	for _, k := range keys {
		dump.WriteString(k + "\n")
		switch typ := f.client.Type(ctx, k).Val(); typ {
		case "hash":
			for field, v := range f.client.HGetAll(ctx, k).Val() {
				dump.WriteString(field + "=" + v + "\n")
			}
		case "zset":
			// Members only: the scores are send times.
			for _, m := range f.client.ZRange(ctx, k, 0, -1).Val() {
				dump.WriteString(m + "\n")
			}
		default:
			t.Fatalf("unexpected %s key %s", typ, k)
		}
	}
	for _, secret := range []string{"480213", "901234567", "1234567", otpClient} {
		assert.NotContains(t, dump.String(), secret)
	}

	// A store with another pepper cannot check the code.
	otherPepper := bytes.Repeat([]byte("x"), redis.MinOTPPepperBytes)
	other, err := redis.NewOTPStore(f.client, f.prefix, otherPepper, otp.DefaultPolicy())
	require.NoError(t, err)
	assert.ErrorIs(t, other.Verify(ctx, p, code(t, "480213"), f.t0.Add(time.Second)), otp.ErrInvalidCode)
	require.NoError(t, f.verify(t, p, "480213", time.Second))
}

// A phone's keys share one Redis Cluster hash tag, so its scripts run on one
// slot; the client's key has a tag of its own.
func TestOTPKeysHashTags(t *testing.T) {
	f := newOTPFixture(t)
	f.issue(t, phoneN(t, 1), "123456", 0)
	f.issue(t, phoneN(t, 2), "123456", time.Second)

	tags := map[string][]string{}
	for _, k := range f.keys(t, "*") {
		require.True(t, strings.HasPrefix(k, f.prefix), k)
		open := strings.IndexByte(k, '{')
		end := strings.IndexByte(k[open+1:], '}')
		require.True(t, open >= 0 && end > 0, "%s has no hash tag", k)
		tag := k[open+1 : open+1+end]
		tags[tag] = append(tags[tag], strings.TrimPrefix(k, f.prefix))
	}
	require.Len(t, tags, 3, "two phones and one client: %v", tags)
	var phones, clients int
	for _, ks := range tags {
		switch len(ks) {
		case 2:
			phones++
			assert.ElementsMatch(t, []string{"code", "sends"}, []string{ks[0][strings.LastIndexByte(ks[0], ':')+1:], ks[1][strings.LastIndexByte(ks[1], ':')+1:]})
		case 1:
			clients++
			assert.True(t, strings.HasPrefix(ks[0], "otp_client:"), ks[0])
		}
	}
	assert.Equal(t, 2, phones)
	assert.Equal(t, 1, clients)
}

func TestOTPStoreRefusesBadSetup(t *testing.T) {
	c, prefix := testenv.Redis(t)
	short := []byte("short-secret-pepper")
	_, err := redis.NewOTPStore(c, prefix, short, otp.DefaultPolicy())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), string(short))

	bad := otp.DefaultPolicy()
	bad.TTL = 0
	_, err = redis.NewOTPStore(c, prefix, otpPepper, bad)
	assert.Error(t, err)

	s, err := redis.NewOTPStore(c, prefix, otpPepper, otp.DefaultPolicy())
	require.NoError(t, err)
	ctx, now := context.Background(), time.Now()
	_, err = s.Issue(ctx, user.Phone{}, otpClient, code(t, "123456"), now)
	assert.Error(t, err, "no phone")
	_, err = s.Issue(ctx, phoneN(t, 1), "", code(t, "123456"), now)
	assert.Error(t, err, "no client")
	_, err = s.Issue(ctx, phoneN(t, 1), otpClient, otp.Code{}, now)
	assert.Error(t, err, "no code")
	assert.Error(t, s.Verify(ctx, phoneN(t, 1), otp.Code{}, now))
}

// Fails closed: a store that cannot reach Redis sends nothing and logs
// nobody in, and says it is an outage.
func TestOTPStoreUnavailable(t *testing.T) {
	down, err := redis.Open("redis://127.0.0.1:1/0") // nothing listens on port 1
	require.NoError(t, err)
	t.Cleanup(func() { _ = down.Close() })
	s, err := redis.NewOTPStore(down, "test:down:", otpPepper, otp.DefaultPolicy())
	require.NoError(t, err)

	ctx, now := context.Background(), time.Now()
	_, issueErr := s.Issue(ctx, phoneN(t, 1), otpClient, code(t, "123456"), now)
	verifyErr := s.Verify(ctx, phoneN(t, 1), code(t, "123456"), now)
	for name, err := range map[string]error{"issue": issueErr, "verify": verifyErr} {
		t.Run(name, func(t *testing.T) {
			require.ErrorIs(t, err, domain.ErrUnavailable, name)
			assert.False(t, errors.Is(err, otp.ErrInvalidCode), name)
			assert.NotContains(t, err.Error(), "901234567", name)
			assert.NotContains(t, err.Error(), "123456", name)
		})
	}
}

// keys lists the fixture's keys matching pattern (after the prefix).
func (f *otpFixture) keys(t *testing.T, pattern string) []string {
	t.Helper()
	var out []string
	for _, k := range testenv.RedisKeys(t, f.client, f.prefix) {
		if ok, err := path.Match(f.prefix+pattern, k); err == nil && ok {
			out = append(out, k)
		}
	}
	return out
}

// storedMAC is the mac of the fixture's only live code.
func (f *otpFixture) storedMAC(t *testing.T) string {
	t.Helper()
	keys := f.keys(t, "*:code")
	require.Len(t, keys, 1)
	mac, err := f.client.HGet(context.Background(), keys[0], "mac").Result()
	require.NoError(t, err)
	return mac
}
