package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

func TestIdentity_SessionsListAndDelete(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	email := uniqueEmail("sessions")
	g.register(t, email, defaultPassword) // session 1, default user agent
	loginUA := func(ua string) authResult {
		r := g.loginWith(t, email, defaultPassword, map[string]string{"User-Agent": ua})
		expectJSON(t, r, http.StatusOK)
		return decode[authResult](t, r)
	}
	phone := loginUA("UltraMarket-iOS/3.1")
	laptop := loginUA("Mozilla/5.0 e2e-laptop")

	r := g.get(t, "/api/auth/sessions", laptop.Tokens.AccessToken)
	expectJSON(t, r, http.StatusOK)
	body := asMap(t, r)
	assertKeys(t, body, []string{"items"}, "sessions body")
	items, ok := body["items"].([]any)
	require.True(t, ok, "items is an array: %s", r)
	require.Len(t, items, 3)
	for _, it := range items {
		m, ok := it.(map[string]any)
		require.True(t, ok)
		assertKeys(t, m, sessionKeys, "session")
	}

	list := decode[struct {
		Items []sessionDTO `json:"items"`
	}](t, r).Items
	var current []sessionDTO
	byUA := map[string]sessionDTO{}
	for _, s := range list {
		assert.Regexp(t, uuidRe, s.ID, "session id")
		created := assertUTCTime(t, s.CreatedAt, "created_at")
		lastUsed := assertUTCTime(t, s.LastUsedAt, "last_used_at")
		expires := assertUTCTime(t, s.ExpiresAt, "expires_at")
		assert.False(t, lastUsed.Before(created.Truncate(time.Second)), "last_used_at >= created_at")
		assert.True(t, expires.After(created), "expires_at > created_at")
		assert.True(t, expires.After(time.Now()), "a listed session has not expired")
		assert.False(t, expires.After(time.Now().Add(g.Config.RefreshTokenTTL+time.Minute)),
			"a session does not outlive REFRESH_TOKEN_TTL")
		assert.Equal(t, "127.0.0.1", s.IP)
		if s.Current {
			current = append(current, s)
		}
		byUA[s.UserAgent] = s
	}
	require.Len(t, current, 1, "exactly one session is current")
	assert.Equal(t, "Mozilla/5.0 e2e-laptop", current[0].UserAgent, "the current one is the caller's")
	require.Contains(t, byUA, "UltraMarket-iOS/3.1")
	phoneSession := byUA["UltraMarket-iOS/3.1"]
	assert.False(t, phoneSession.Current)

	// Asked through another session, another one is current.
	assert.Equal(t, phoneSession.ID, g.currentSessionID(t, phone.Tokens.AccessToken))

	t.Run("another user's session is not found", func(t *testing.T) {
		stranger := g.newAccount(t, roleCustomer)
		r := g.do(t, req{Method: http.MethodDelete, Path: "/api/auth/sessions/" + phoneSession.ID, Token: stranger.Access})
		expectProblem(t, r, http.StatusNotFound, "not_found")
		g.expectTokenWorks(t, phone.Tokens.AccessToken)
		// An admin is no exception: this route is about one's own sessions.
		admin := g.newAccount(t, roleSuperAdmin)
		r = g.do(t, req{Method: http.MethodDelete, Path: "/api/auth/sessions/" + phoneSession.ID, Token: admin.Access})
		expectProblem(t, r, http.StatusNotFound, "not_found")
		g.expectTokenWorks(t, phone.Tokens.AccessToken)
	})

	t.Run("unknown session is not found", func(t *testing.T) {
		r := g.do(t, req{Method: http.MethodDelete, Path: "/api/auth/sessions/" + uuid.NewString(), Token: laptop.Tokens.AccessToken})
		expectProblem(t, r, http.StatusNotFound, "not_found")
	})

	t.Run("own other session ends", func(t *testing.T) {
		r := g.do(t, req{Method: http.MethodDelete, Path: "/api/auth/sessions/" + phoneSession.ID, Token: laptop.Tokens.AccessToken})
		expectNoContent(t, r)
		g.expectTokenRevoked(t, phone.Tokens.AccessToken)
		expectProblem(t, g.refresh(t, phone.Tokens.RefreshToken), http.StatusUnauthorized, "token_revoked")
		g.expectTokenWorks(t, laptop.Tokens.AccessToken)
		left := g.sessions(t, laptop.Tokens.AccessToken)
		assert.Len(t, left, 2)
		for _, s := range left {
			assert.NotEqual(t, phoneSession.ID, s.ID, "the deleted session is gone from the list")
		}
		// Deleting it again: it is no longer one of the user's sessions.
		r = g.do(t, req{Method: http.MethodDelete, Path: "/api/auth/sessions/" + phoneSession.ID, Token: laptop.Tokens.AccessToken})
		expectProblem(t, r, http.StatusNotFound, "not_found")
	})

	t.Run("own current session ends too", func(t *testing.T) {
		extra := g.login(t, email, defaultPassword)
		id := g.currentSessionID(t, extra.Tokens.AccessToken)
		expectNoContent(t, g.do(t, req{Method: http.MethodDelete, Path: "/api/auth/sessions/" + id, Token: extra.Tokens.AccessToken}))
		g.expectTokenRevoked(t, extra.Tokens.AccessToken)
		g.expectTokenWorks(t, laptop.Tokens.AccessToken)
	})

	t.Run("ended sessions leave the list", func(t *testing.T) {
		before := len(g.sessions(t, laptop.Tokens.AccessToken))
		extra := g.login(t, email, defaultPassword)
		assert.Len(t, g.sessions(t, laptop.Tokens.AccessToken), before+1)
		expectNoContent(t, g.post(t, "/api/auth/logout", extra.Tokens.AccessToken, map[string]any{}))
		assert.Len(t, g.sessions(t, laptop.Tokens.AccessToken), before)
	})
}

func TestIdentity_PasswordChange(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	acc := g.newAccount(t, roleCustomer)
	other := g.login(t, acc.Email, acc.Password)
	const newPassword = "Quartz-Meadow-Falcon-38"
	put := func(t *testing.T, token string, body any) response {
		t.Helper()
		return g.do(t, req{Method: http.MethodPut, Path: "/api/auth/password", Token: token, Body: body})
	}

	t.Run("wrong current password", func(t *testing.T) {
		r := put(t, acc.Access, map[string]any{"current_password": "Not-The-Password-99", "new_password": newPassword})
		expectValidation(t, r, "current_password")
		g.expectTokenWorks(t, other.Tokens.AccessToken)
	})

	t.Run("new password must pass the policy", func(t *testing.T) {
		expectValidation(t, put(t, acc.Access, map[string]any{"current_password": acc.Password, "new_password": "short"}), "new_password")
		expectValidation(t, put(t, acc.Access, map[string]any{"current_password": acc.Password, "new_password": "password123"}), "new_password")
		expectValidation(t, put(t, acc.Access, map[string]any{"current_password": acc.Password, "new_password": acc.Email}), "new_password")
	})

	t.Run("unknown field and malformed JSON", func(t *testing.T) {
		expectProblem(t, put(t, acc.Access, map[string]any{"current_password": acc.Password, "new_password": newPassword, "x": 1}),
			http.StatusUnprocessableEntity, "validation_failed")
		expectProblem(t, put(t, acc.Access, rawJSON(`{"current_password":`)), http.StatusBadRequest, "bad_request")
	})

	// Nothing changed so far.
	g.login(t, acc.Email, acc.Password)

	expectNoContent(t, put(t, acc.Access, map[string]any{"current_password": acc.Password, "new_password": newPassword}))

	// Every other session ends; the current one goes on, refresh included.
	g.expectTokenRevoked(t, other.Tokens.AccessToken)
	expectProblem(t, g.refresh(t, other.Tokens.RefreshToken), http.StatusUnauthorized, "token_revoked")
	g.expectTokenWorks(t, acc.Access)
	r := g.refresh(t, acc.Refresh)
	expectJSON(t, r, http.StatusOK)
	g.expectTokenWorks(t, decode[authResult](t, r).Tokens.AccessToken)

	// The new password logs in, the old one does not.
	expectProblem(t, g.loginWith(t, acc.Email, acc.Password, nil), http.StatusUnauthorized, "invalid_credentials")
	g.login(t, acc.Email, newPassword)
}

// TestIdentity_SessionsPerUserAreBounded: a user has at most
// SESSION_MAX_PER_USER (20 by default) live sessions; the 21st login ends
// the least recently used one, whose tokens are then refused.
func TestIdentity_SessionsPerUserAreBounded(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	require.Equal(t, 20, g.Config.SessionMaxPerUser, "the default")
	email := uniqueEmail("bounded")
	reg := g.register(t, email, defaultPassword) // session 1
	logins := make([]authResult, 0, 19)
	for range 19 { // sessions 2..20
		logins = append(logins, g.login(t, email, defaultPassword))
	}
	// Using the oldest session makes it the most recently used: the least
	// recently used is now the first login.
	r := g.refresh(t, reg.Tokens.RefreshToken)
	expectJSON(t, r, http.StatusOK)
	regTokens := decode[authResult](t, r).Tokens
	lru := logins[0]
	lruID := g.currentSessionID(t, lru.Tokens.AccessToken)
	require.Len(t, g.sessions(t, regTokens.AccessToken), 20, "up to the bound nothing ends")

	newest := g.login(t, email, defaultPassword) // the 21st
	g.expectTokenRevoked(t, lru.Tokens.AccessToken)
	expectProblem(t, g.refresh(t, lru.Tokens.RefreshToken), http.StatusUnauthorized, "token_revoked")
	list := g.sessions(t, newest.Tokens.AccessToken)
	assert.Len(t, list, 20)
	for _, s := range list {
		assert.NotEqual(t, lruID, s.ID, "the least recently used session is gone")
	}
	// Everyone else carries on, the refreshed first session included.
	g.expectTokenWorks(t, regTokens.AccessToken)
	for _, l := range logins[1:] {
		g.expectTokenWorks(t, l.Tokens.AccessToken)
	}

	// Another user's sessions are their own business.
	other := g.newAccount(t, roleCustomer)
	g.expectTokenWorks(t, other.Access)
	g.expectTokenWorks(t, newest.Tokens.AccessToken)
}

// TestIdentity_SessionMaxAge: a session lives at most SESSION_MAX_AGE from
// its login, however often it is refreshed.
func TestIdentity_SessionMaxAge(t *testing.T) {
	t.Parallel()
	const maxAge = 3 * time.Second
	g := newGateway(t, func(c *config.Config) { c.SessionMaxAge = maxAge })
	email := uniqueEmail("max-age")
	loggedIn := time.Now()
	reg := g.register(t, email, defaultPassword)

	list := g.sessions(t, reg.Tokens.AccessToken)
	require.Len(t, list, 1)
	created := assertUTCTime(t, list[0].CreatedAt, "created_at")
	expires := assertUTCTime(t, list[0].ExpiresAt, "expires_at")
	assert.Equal(t, created.Add(maxAge), expires, "expires_at is the end of the session's life, not REFRESH_TOKEN_TTL from now")

	// A refresh well within the age works, and does not extend the session.
	time.Sleep(time.Second)
	r := g.refresh(t, reg.Tokens.RefreshToken)
	expectJSON(t, r, http.StatusOK)
	tokens := decode[authResult](t, r).Tokens
	list = g.sessions(t, tokens.AccessToken)
	require.Len(t, list, 1)
	assert.Equal(t, expires, assertUTCTime(t, list[0].ExpiresAt, "expires_at"), "refreshing does not move the end")

	time.Sleep(time.Until(loggedIn.Add(maxAge + 300*time.Millisecond)))
	expectProblem(t, g.refresh(t, tokens.RefreshToken), http.StatusUnauthorized, "token_revoked")
	g.expectTokenRevoked(t, tokens.AccessToken)
	// Logging in again starts a new session.
	g.expectTokenWorks(t, g.login(t, email, defaultPassword).Tokens.AccessToken)
}
