package e2e

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/test/testenv"
)

// twoInstances boots two gateways on one database and one Redis prefix: two
// instances of the same deployment.
func twoInstances(t *testing.T, mod func(*config.Config)) (a, b *gateway) {
	t.Helper()
	cfg := identityConfig(t)
	if mod != nil {
		mod(&cfg)
	}
	prefix := testenv.NewRedisPrefix(t)
	return startGateway(t, cfg, prefix), startGateway(t, cfg, prefix)
}

func TestIdentity_InstancesShareSessions(t *testing.T) {
	t.Parallel()
	a, b := twoInstances(t, nil)
	acc := a.newAccount(t, roleCustomer)
	second := b.login(t, acc.Email, acc.Password)

	// A token from one instance works on the other.
	b.expectTokenWorks(t, acc.Access)
	a.expectTokenWorks(t, second.Tokens.AccessToken)

	// Logout on A is seen on B at once.
	expectNoContent(t, a.post(t, "/api/auth/logout", acc.Access, map[string]any{}))
	b.expectTokenRevoked(t, acc.Access)
	expectProblem(t, b.refresh(t, acc.Refresh), http.StatusUnauthorized, "token_revoked")
	b.expectTokenWorks(t, second.Tokens.AccessToken)

	// Refresh on B, reuse on A: the session ends on both.
	r := b.refresh(t, second.Tokens.RefreshToken)
	expectJSON(t, r, http.StatusOK)
	rotated := decode[authResult](t, r).Tokens
	expectProblem(t, a.refresh(t, second.Tokens.RefreshToken), http.StatusUnauthorized, "token_revoked")
	b.expectTokenRevoked(t, rotated.AccessToken)
	a.expectTokenRevoked(t, rotated.AccessToken)

	// Blocking on B ends the sessions used on A.
	admin := a.newAccount(t, roleAdmin)
	victim := a.newAccount(t, roleCustomer)
	expectJSON(t, b.patchStatus(t, admin.Access, victim.ID, map[string]any{"status": "blocked"}), http.StatusOK)
	a.expectTokenRevoked(t, victim.Access)
}

func TestIdentity_InstancesShareLoginLockout(t *testing.T) {
	t.Parallel()
	a, b := twoInstances(t, nil)
	email := uniqueEmail("shared-lockout")
	a.register(t, email, defaultPassword)

	for i, g := range []*gateway{a, b, a, b, a} {
		r := g.loginWith(t, email, "Wrong-Password-"+strconv.Itoa(i), nil)
		expectProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
	}
	for _, g := range []*gateway{b, a} {
		r := g.loginWith(t, email, defaultPassword, nil)
		expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
		retryAfter(t, r.Header, 15*time.Minute)
	}
}

func TestIdentity_InstancesShareRateLimit(t *testing.T) {
	t.Parallel()
	a, b := twoInstances(t, func(c *config.Config) {
		c.RateLimitAuth = config.RateLimit{N: 3, Per: time.Minute}
	})
	// Garbage refresh tokens: cheap calls on /api/auth/* that touch no lockout.
	for i, g := range []*gateway{a, b, a} {
		r := g.refresh(t, "garbage")
		expectProblem(t, r, http.StatusUnauthorized, "unauthorized")
		assertRateLimitHeaders(t, r.Header)
		assert.Equal(t, "3", r.Header.Get("RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(2-i), r.Header.Get("RateLimit-Remaining"), "call %d", i+1)
	}
	r := b.refresh(t, "garbage")
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	retryAfter(t, r.Header, time.Minute)
	assertRateLimitHeaders(t, r.Header)
	assert.Equal(t, "0", r.Header.Get("RateLimit-Remaining"))
	expectProblem(t, a.refresh(t, "garbage"), http.StatusTooManyRequests, "rate_limited")
}
