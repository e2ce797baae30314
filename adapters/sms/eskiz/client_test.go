package eskiz_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/sms/eskiz"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/sms"
	"github.com/ultramarket/gateway/domain/user"
	fakeeskiz "github.com/ultramarket/gateway/test/fakes/eskiz"
	"github.com/ultramarket/gateway/test/testsupport"
)

const text = "UltraMarket: kirish kodi 480213. Kodni hech kimga bermang."

// newClock is shared by the fake and the client, so tests move time for both.
func newClock() *testsupport.Clock {
	return testsupport.NewClock(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))
}

type fixture struct {
	fake   *fakeeskiz.Server
	client *eskiz.Client
	clock  *testsupport.Clock
	phone  user.Phone
}

// setup starts a fake Eskiz and a client of it; edit tunes the config.
func setup(t *testing.T, edit func(*eskiz.Config)) *fixture {
	t.Helper()
	clk := newClock()
	fake := fakeeskiz.New(fakeeskiz.WithClock(clk.Now))
	t.Cleanup(fake.Close)
	cfg := eskiz.Config{
		URL: fake.URL(), Email: fakeeskiz.Email, Password: fakeeskiz.Password,
		Timeout: 2 * time.Second, Now: clk.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := eskiz.New(cfg)
	require.NoError(t, err)
	p, err := user.ParsePhone("+998901234567")
	require.NoError(t, err)
	return &fixture{fake: fake, client: c, clock: clk, phone: p}
}

func (f *fixture) send(t *testing.T) error {
	t.Helper()
	return f.client.Send(context.Background(), f.phone, text)
}

// assertNotSent checks err is the one domain error, and that it gives away
// no password, token, text or whole number.
func (f *fixture) assertNotSent(t *testing.T, err error, password string) {
	t.Helper()
	require.ErrorIs(t, err, sms.ErrNotSent)
	require.ErrorIs(t, err, domain.ErrUnavailable)
	msg := err.Error()
	for _, secret := range append(f.fake.Tokens(), password, "480213", "901234567", "kirish kodi") {
		assert.NotContains(t, msg, secret)
	}
	// Not the parts of a token either (a JWT's header is shared by all).
	for _, tok := range f.fake.Tokens() {
		parts := strings.Split(tok, ".")
		assert.NotContains(t, msg, parts[1])
		assert.NotContains(t, msg, parts[2])
	}
}

func TestSendSpeaksEskiz(t *testing.T) {
	f := setup(t, nil)
	for range 3 {
		require.NoError(t, f.send(t))
	}
	sent := f.fake.Sent()
	require.Len(t, sent, 3)
	tokens := f.fake.Tokens()
	require.Len(t, tokens, 1, "one login, its token reused")
	for _, m := range sent {
		assert.Equal(t, "998901234567", m.Phone, "digits only, no +")
		assert.Equal(t, text, m.Text)
		assert.Equal(t, eskiz.DefaultFrom, m.From)
		assert.Equal(t, tokens[0], m.Token)
	}
	assert.Equal(t, 1, f.fake.Calls(fakeeskiz.RouteLogin))
	assert.Zero(t, f.fake.Calls(fakeeskiz.RouteRefresh))
}

func TestSendFromOwnSenderName(t *testing.T) {
	f := setup(t, func(c *eskiz.Config) { c.From = "UltraMarket" })
	require.NoError(t, f.send(t))
	require.Len(t, f.fake.Sent(), 1)
	assert.Equal(t, "UltraMarket", f.fake.Sent()[0].From)
}

// A token Eskiz says has expired (a 401 without token_invalid) is refreshed,
// and the refused send goes once more with the new one.
func TestSendRefreshesAfterExpiredTokenAnswer(t *testing.T) {
	f := setup(t, nil)
	require.NoError(t, f.send(t))
	f.fake.ExpireTokens()

	require.NoError(t, f.send(t))
	assert.Equal(t, 1, f.fake.Calls(fakeeskiz.RouteRefresh))
	assert.Equal(t, 1, f.fake.Calls(fakeeskiz.RouteLogin))
	assert.Equal(t, 3, f.fake.Calls(fakeeskiz.RouteSend), "the first, the refused one, the one with the new token")
	sent, tokens := f.fake.Sent(), f.fake.Tokens()
	require.Len(t, sent, 2)
	require.Len(t, tokens, 2)
	assert.Equal(t, tokens[1], sent[1].Token)

	require.NoError(t, f.send(t))
	assert.Equal(t, 1, f.fake.Calls(fakeeskiz.RouteRefresh), "the new token is kept")
}

// The token's own exp claim triggers the refresh before a send would be
// refused for it.
func TestSendRefreshesBeforeTheTokenRunsOut(t *testing.T) {
	f := setup(t, nil)
	require.NoError(t, f.send(t))

	f.clock.Advance(fakeeskiz.DefaultTokenTTL - 30*time.Second) // still valid for Eskiz
	require.NoError(t, f.send(t))
	assert.Equal(t, 1, f.fake.Calls(fakeeskiz.RouteRefresh))
	assert.Equal(t, 2, f.fake.Calls(fakeeskiz.RouteSend), "no send was refused")

	f.clock.Advance(fakeeskiz.DefaultTokenTTL + time.Hour) // long past
	require.NoError(t, f.send(t))
	assert.Equal(t, 2, f.fake.Calls(fakeeskiz.RouteRefresh))
	assert.Equal(t, 3, f.fake.Calls(fakeeskiz.RouteSend))
}

func TestSendLogsInWhenRefreshIsRefused(t *testing.T) {
	for name, refuse := range map[string]func(*fakeeskiz.Server){
		"401":         func(s *fakeeskiz.Server) { s.RefuseRefresh(true) },
		"eskiz error": func(s *fakeeskiz.Server) { s.FailNext(fakeeskiz.RouteRefresh, http.StatusBadGateway, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			f := setup(t, nil)
			require.NoError(t, f.send(t))
			f.fake.ExpireTokens()
			refuse(f.fake)

			require.NoError(t, f.send(t))
			assert.Equal(t, 1, f.fake.Calls(fakeeskiz.RouteRefresh))
			assert.Equal(t, 2, f.fake.Calls(fakeeskiz.RouteLogin))
			require.Len(t, f.fake.Sent(), 2)
		})
	}
}

// A 401 with status token_invalid is not fixed by a refresh: log in again.
func TestSendLogsInAgainWhenTheTokenIsInvalid(t *testing.T) {
	f := setup(t, nil)
	require.NoError(t, f.send(t))
	f.fake.InvalidateTokens()

	require.NoError(t, f.send(t))
	assert.Zero(t, f.fake.Calls(fakeeskiz.RouteRefresh))
	assert.Equal(t, 2, f.fake.Calls(fakeeskiz.RouteLogin))
	require.Len(t, f.fake.Sent(), 2)
}

// Many goroutines finding the token stale at once make one renewal between
// them (each refresh revokes the token the others hold, so a refresh each
// would fail most of them).
func TestOneRenewalForConcurrentSends(t *testing.T) {
	for name, stale := range map[string]func(f *fixture){
		"told by a 401": func(f *fixture) { f.fake.ExpireTokens() },
		"seen in exp":   func(f *fixture) { f.clock.Advance(fakeeskiz.DefaultTokenTTL) },
	} {
		t.Run(name, func(t *testing.T) {
			f := setup(t, nil)
			require.NoError(t, f.send(t))
			stale(f)
			f.fake.SetDelay(fakeeskiz.RouteRefresh, 50*time.Millisecond) // so they pile up

			const n = 20
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { errs[i] = f.client.Send(context.Background(), f.phone, text) })
			}
			wg.Wait()
			for i, err := range errs {
				assert.NoError(t, err, "send %d", i)
			}
			assert.Equal(t, 1, f.fake.Calls(fakeeskiz.RouteRefresh))
			assert.Equal(t, 1, f.fake.Calls(fakeeskiz.RouteLogin))
			assert.Len(t, f.fake.Sent(), n+1)
		})
	}
}

// One caller giving up does not fail the renewal the others wait for.
func TestRenewalOutlivesTheCallerThatStartedIt(t *testing.T) {
	f := setup(t, nil)
	require.NoError(t, f.send(t))
	f.fake.ExpireTokens()
	f.fake.SetDelay(fakeeskiz.RouteRefresh, 200*time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { first <- f.client.Send(ctx, f.phone, text) }()
	require.Eventually(t, func() bool { return f.fake.Calls(fakeeskiz.RouteRefresh) == 1 }, 5*time.Second, 5*time.Millisecond)
	second := make(chan error, 1)
	go func() { second <- f.client.Send(context.Background(), f.phone, text) }()
	cancel()

	err := <-first
	require.ErrorIs(t, err, context.Canceled)
	f.assertNotSent(t, err, fakeeskiz.Password)
	require.NoError(t, <-second)
	assert.Equal(t, 1, f.fake.Calls(fakeeskiz.RouteRefresh))
	assert.Equal(t, 1, f.fake.Calls(fakeeskiz.RouteLogin))
}

func TestWrongCredentials(t *testing.T) {
	const wrong = "not-the-api-secret-7f3a"
	f := setup(t, func(c *eskiz.Config) { c.Password = wrong })

	err := f.send(t)
	f.assertNotSent(t, err, wrong)
	assert.Contains(t, err.Error(), "invalid credentials")
	assert.Zero(t, f.fake.Calls(fakeeskiz.RouteSend))
	assert.Empty(t, f.fake.Tokens())

	// Not remembered: every send tries again (the password may be fixed in
	// Eskiz's cabinet meanwhile), and fails the same way.
	f.assertNotSent(t, f.send(t), wrong)
	assert.Equal(t, 2, f.fake.Calls(fakeeskiz.RouteLogin))
}

// A send that got no answer in time may have gone out: it is not repeated.
func TestSendTimeoutIsNotRepeated(t *testing.T) {
	f := setup(t, func(c *eskiz.Config) { c.Timeout = 200 * time.Millisecond })
	require.NoError(t, f.send(t))
	f.fake.SetDelay(fakeeskiz.RouteSend, 5*time.Second)

	err := f.send(t)
	f.assertNotSent(t, err, fakeeskiz.Password)
	assert.Contains(t, err.Error(), "no answer within 200ms")
	assert.Equal(t, 2, f.fake.Calls(fakeeskiz.RouteSend), "one call for the timed-out send")
	assert.Len(t, f.fake.Sent(), 2, "Eskiz did take it: a retry would have texted twice")
}

func TestLoginTimeout(t *testing.T) {
	f := setup(t, func(c *eskiz.Config) { c.Timeout = 200 * time.Millisecond })
	f.fake.SetDelay(fakeeskiz.RouteLogin, 5*time.Second)

	err := f.send(t)
	f.assertNotSent(t, err, fakeeskiz.Password)
	assert.Contains(t, err.Error(), "log in")
	assert.Zero(t, f.fake.Calls(fakeeskiz.RouteSend))
}

func TestEskizErrorsAreNotRepeated(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusBadRequest} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			f := setup(t, nil)
			f.fake.FailNext(fakeeskiz.RouteSend, status, 1)

			err := f.send(t)
			f.assertNotSent(t, err, fakeeskiz.Password)
			assert.Contains(t, err.Error(), fmt.Sprintf("HTTP %d", status))
			assert.Equal(t, 1, f.fake.Calls(fakeeskiz.RouteSend))
			assert.Empty(t, f.fake.Sent())

			require.NoError(t, f.send(t), "the next send works")
		})
	}
}

func TestLoginErrorIsReported(t *testing.T) {
	f := setup(t, nil)
	f.fake.FailNext(fakeeskiz.RouteLogin, http.StatusInternalServerError, 1)
	err := f.send(t)
	f.assertNotSent(t, err, fakeeskiz.Password)
	assert.Contains(t, err.Error(), "HTTP 500")
	assert.Zero(t, f.fake.Calls(fakeeskiz.RouteSend))
	require.NoError(t, f.send(t))
}

// A send refused again with the renewed token fails: one renewal per send,
// never a loop.
func TestSendRefusedTwiceFails(t *testing.T) {
	f := setup(t, nil)
	require.NoError(t, f.send(t))
	f.fake.FailNext(fakeeskiz.RouteSend, http.StatusUnauthorized, 2)

	err := f.send(t)
	f.assertNotSent(t, err, fakeeskiz.Password)
	assert.Contains(t, err.Error(), "HTTP 401")
	assert.Equal(t, 3, f.fake.Calls(fakeeskiz.RouteSend))
	assert.Equal(t, 1, f.fake.Calls(fakeeskiz.RouteRefresh))
	assert.Len(t, f.fake.Sent(), 1)
}

func TestEskizUnreachable(t *testing.T) {
	f := setup(t, nil)
	f.fake.Close()
	f.assertNotSent(t, f.send(t), fakeeskiz.Password)
}

func TestCallerCancels(t *testing.T) {
	f := setup(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := f.client.Send(ctx, f.phone, text)
	f.assertNotSent(t, err, fakeeskiz.Password)
	assert.ErrorIs(t, err, context.Canceled)
}

// A zero phone or an empty text is our bug, not Eskiz's failure.
func TestSendRefusesNothingToSend(t *testing.T) {
	f := setup(t, nil)
	for name, err := range map[string]error{
		"no phone": f.client.Send(context.Background(), user.Phone{}, text),
		"no text":  f.client.Send(context.Background(), f.phone, ""),
	} {
		t.Run(name, func(t *testing.T) {
			require.Error(t, err, name)
			assert.NotErrorIs(t, err, sms.ErrNotSent, name)
		})
	}
	assert.Zero(t, f.fake.Calls(fakeeskiz.RouteLogin))
}

func TestNewChecksConfig(t *testing.T) {
	const hidden = "api-secret-9c1e"
	for name, cfg := range map[string]eskiz.Config{
		"no email":        {Password: hidden},
		"no password":     {Email: "a@b.uz"},
		"relative URL":    {URL: "notify.eskiz.uz/api", Email: "a@b.uz", Password: hidden},
		"other scheme":    {URL: "ftp://notify.eskiz.uz/api", Email: "a@b.uz", Password: hidden},
		"URL credentials": {URL: "https://u:" + hidden + "@notify.eskiz.uz/api", Email: "a@b.uz", Password: hidden},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := eskiz.New(cfg)
			require.Error(t, err, name)
			assert.NotContains(t, err.Error(), hidden, name)
		})
	}
	_, err := eskiz.New(eskiz.Config{Email: "a@b.uz", Password: hidden})
	require.NoError(t, err, "the defaults")

	cfg := eskiz.Config{Email: "a@b.uz", Password: hidden}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		assert.NotContains(t, s, hidden)
	}
}
