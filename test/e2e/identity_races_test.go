package e2e

import (
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// concurrently sends every request at the same moment and returns the
// responses in order.
func concurrently(t *testing.T, base string, reqs []req) []response {
	t.Helper()
	out := make([]response, len(reqs))
	errs := make([]error, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = rawSend(base, r)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "request %d", i)
	}
	return out
}

func TestIdentity_RaceRegisterSameEmail(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	reqs := make([]req, 6)
	for i := range reqs {
		email := "race@example.uz"
		if i%2 == 1 {
			email = " RACE@Example.uz" // the same account, spelt otherwise
		}
		reqs[i] = req{Method: http.MethodPost, Path: "/api/auth/register", Body: registerBody(email, defaultPassword)}
	}
	created := 0
	for _, r := range concurrently(t, g.BaseURL, reqs) {
		assertSecurityHeaders(t, r.Header)
		if r.Status == http.StatusCreated {
			created++
			continue
		}
		expectProblem(t, r, http.StatusConflict, "email_taken")
	}
	assert.Equal(t, 1, created, "exactly one account per email")
	var n int
	require.NoError(t, g.DB.Get(&n, `SELECT count(*) FROM users WHERE email = 'race@example.uz'`))
	assert.Equal(t, 1, n)
}

// TestIdentity_RaceRefreshSameToken: one refresh token presented several times
// at once. It is single-use: at most one presentation gets a new pair; every
// other one is a reuse (401 token_revoked) and ends the session, the winner's
// new tokens included.
func TestIdentity_RaceRefreshSameToken(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	acc := g.newAccount(t, roleCustomer)
	reqs := make([]req, 5)
	for i := range reqs {
		reqs[i] = req{Method: http.MethodPost, Path: "/api/auth/refresh", Body: map[string]any{"refresh_token": acc.Refresh}}
	}
	var winners []tokensDTO
	for _, r := range concurrently(t, g.BaseURL, reqs) {
		if r.Status == http.StatusOK {
			winners = append(winners, decode[authResult](t, r).Tokens)
			continue
		}
		expectProblem(t, r, http.StatusUnauthorized, "token_revoked")
	}
	require.LessOrEqual(t, len(winners), 1, "a refresh token is single-use")
	for _, w := range winners {
		g.expectTokenRevoked(t, w.AccessToken)
		expectProblem(t, g.refresh(t, w.RefreshToken), http.StatusUnauthorized, "token_revoked")
	}
	g.expectTokenRevoked(t, acc.Access)
}

func TestIdentity_RaceLoginFailuresAllCount(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	email := uniqueEmail("burst")
	g.register(t, email, defaultPassword)
	reqs := make([]req, 8)
	for i := range reqs {
		reqs[i] = req{Method: http.MethodPost, Path: "/api/auth/login",
			Body: map[string]any{"email": email, "password": "Wrong-Password-" + strconv.Itoa(i)}}
	}
	failed := 0
	var statuses []int
	for _, r := range concurrently(t, g.BaseURL, reqs) {
		statuses = append(statuses, r.Status)
		switch r.Status {
		case http.StatusUnauthorized:
			expectProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
			failed++
		case http.StatusTooManyRequests:
			expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
		default:
			t.Errorf("unexpected %s", r)
		}
	}
	assert.LessOrEqual(t, failed, 5,
		"no more than 5 password guesses may be checked, even in a burst; statuses: %v", statuses)
	r := g.loginWith(t, email, defaultPassword, nil)
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
}

// TestIdentity_RaceLogoutAndRefresh: logout and a refresh of the same session
// at once. Whichever wins, the session ends: a pair the refresh returned
// belongs to it and is refused.
func TestIdentity_RaceLogoutAndRefresh(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	for round := 0; round < 5; round++ {
		acc := g.newAccount(t, roleCustomer)
		rs := concurrently(t, g.BaseURL, []req{
			{Method: http.MethodPost, Path: "/api/auth/logout", Token: acc.Access, Body: map[string]any{}},
			{Method: http.MethodPost, Path: "/api/auth/refresh", Body: map[string]any{"refresh_token": acc.Refresh}},
		})
		expectNoContent(t, rs[0])
		g.expectTokenRevoked(t, acc.Access)
		if rs[1].Status == http.StatusOK {
			tok := decode[authResult](t, rs[1]).Tokens
			g.expectTokenRevoked(t, tok.AccessToken)
			expectProblem(t, g.refresh(t, tok.RefreshToken), http.StatusUnauthorized, "token_revoked")
		} else {
			expectProblem(t, rs[1], http.StatusUnauthorized, "token_revoked")
		}
	}
}

// raceLogins sends change (an admin PATCH) together with logins of victim
// and returns the change's response and the logins' tokens that got 200.
func raceLogins(t *testing.T, g *gateway, change req, victim account, logins int) (response, []tokensDTO, []response) {
	t.Helper()
	reqs := []req{change}
	for i := 0; i < logins; i++ {
		reqs = append(reqs, req{Method: http.MethodPost, Path: "/api/auth/login",
			Body: map[string]any{"email": victim.Email, "password": victim.Password}})
	}
	rs := concurrently(t, g.BaseURL, reqs)
	var toks []tokensDTO
	for _, r := range rs[1:] {
		if r.Status == http.StatusOK {
			toks = append(toks, decode[authResult](t, r).Tokens)
		}
	}
	return rs[0], toks, rs[1:]
}

// TestIdentity_RaceBlockAndLogin: an admin blocks a user while the user logs
// in. Once the block has answered, no token of the user works (API.md: a
// blocked user's tokens stop working; blocking ends the sessions).
func TestIdentity_RaceBlockAndLogin(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	admin := g.newAccount(t, roleAdmin)
	for round := 0; round < 20; round++ {
		victim := g.newAccount(t, roleCustomer)
		change, toks, logins := raceLogins(t, g, req{Method: http.MethodPatch,
			Path: "/api/admin/users/" + victim.ID + "/status", Token: admin.Access,
			Body: map[string]any{"status": "blocked"}}, victim, 3)
		expectJSON(t, change, http.StatusOK)
		for _, r := range logins {
			if r.Status != http.StatusOK {
				expectProblem(t, r, http.StatusForbidden, "forbidden")
			}
		}
		for _, tok := range toks {
			r := g.me(t, tok.AccessToken)
			assert.Equal(t, http.StatusUnauthorized, r.Status,
				"round %d: a session started during the block outlived it: GET /api/auth/me → %s", round, r)
		}
		g.expectTokenRevoked(t, victim.Access)
	}
}

// TestIdentity_RaceDemoteAndLogin: a super_admin demotes an admin while the
// admin logs in. Once the change has answered, the user's sessions have
// ended: no token of theirs works, and none acts as an admin.
func TestIdentity_RaceDemoteAndLogin(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	super := g.newAccount(t, roleSuperAdmin)
	for round := 0; round < 20; round++ {
		victim := g.newAccount(t, roleAdmin)
		change, toks, logins := raceLogins(t, g, req{Method: http.MethodPatch,
			Path: "/api/admin/users/" + victim.ID + "/role", Token: super.Access,
			Body: map[string]any{"role": roleCustomer}}, victim, 3)
		expectJSON(t, change, http.StatusOK)
		for i, r := range logins {
			assert.Equal(t, http.StatusOK, r.Status, "login %d: %s", i, r)
		}
		for _, tok := range toks {
			r := g.get(t, "/api/admin/users", tok.AccessToken)
			assert.NotEqual(t, http.StatusOK, r.Status,
				"round %d: a token issued during the demotion still acts as admin: GET /api/admin/users → %s", round, r)
		}
		g.expectTokenRevoked(t, victim.Access)
	}
}
