package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

const (
	newUserID    = "00000000-0000-4000-8000-000000000001"
	newSessionID = "00000000-0000-4000-8000-000000000002"
)

// assertNoSecrets checks a success body for what must never be in one.
func assertNoSecrets(t *testing.T, body string) {
	t.Helper()
	for _, s := range []string{"argon2id", "hash", "password", password} {
		assert.NotContains(t, strings.ToLower(body), strings.ToLower(s))
	}
}

func assertUTC(t *testing.T, v any, want time.Time) {
	t.Helper()
	s, _ := v.(string)
	got, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err, "RFC 3339: %q", s)
	assert.True(t, strings.HasSuffix(s, "Z"), "UTC: %q", s)
	want = want.Truncate(time.Microsecond) // what Postgres keeps
	assert.True(t, want.Equal(got), "%s is %s", s, want)
}

func TestRegister_201WithUserAndTokens(t *testing.T) {
	f := newIdentity(t)
	f.hasher.EXPECT().Hash(gomock.Any(), password).Return("$argon2id$new", nil)
	f.users.EXPECT().Create(gomock.Any(), gomock.Any()).Return(nil)
	f.expectIssue(newSessionID)
	var stored *session.Session
	f.sessions.EXPECT().Create(gomock.Any(), gomock.Any(), int64(0)).DoAndReturn(func(_ context.Context, s *session.Session, _ int64) error {
		stored = s
		return nil
	})

	rec := f.call(http.MethodPost, "/api/auth/register", "",
		`{"email":"  Ann@Example.UZ ","password":"`+password+`","full_name":"Ann Lee"}`,
		"User-Agent", "shop-ios/3.1", "X-Forwarded-For", "198.51.100.9")

	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"), "tokens are never cached")
	body := object(t, rec)
	assert.Equal(t, []string{"tokens", "user"}, keysOf(body))
	u := body["user"].(map[string]any)
	assert.Equal(t, userKeys, keysOf(u))
	assert.Equal(t, newUserID, u["id"])
	assert.Equal(t, "ann@example.uz", u["email"], "normalised")
	assert.Equal(t, "Ann Lee", u["full_name"])
	assert.Nil(t, u["phone"], "no phone given: null")
	assert.Equal(t, "customer", u["role"])
	assert.Equal(t, "active", u["status"])
	assertUTC(t, u["created_at"], now)
	tokens := body["tokens"].(map[string]any)
	assert.Equal(t, tokensKeys, keysOf(tokens))
	assert.Equal(t, map[string]any{
		"access_token": "access.new", "refresh_token": "refresh." + newSessionID,
		"token_type": "Bearer", "expires_in": float64(900),
	}, tokens)
	assertNoSecrets(t, rec.Body.String())

	require.NotNil(t, stored)
	assert.Equal(t, "shop-ios/3.1", stored.UserAgent())
	assert.Equal(t, "192.0.2.1", stored.IP(), "the peer: X-Forwarded-For is not believed without trusted proxies")
}

func TestRegister_PhoneIsAStringWhenGiven(t *testing.T) {
	f := newIdentity(t)
	f.users.EXPECT().GetByVerifiedPhone(gomock.Any(), "+998901234567").Return(nil, user.ErrNotFound)
	f.hasher.EXPECT().Hash(gomock.Any(), password).Return("$argon2id$new", nil)
	f.users.EXPECT().Create(gomock.Any(), gomock.Any()).Return(nil)
	f.expectIssue(newSessionID)
	f.sessions.EXPECT().Create(gomock.Any(), gomock.Any(), int64(0)).Return(nil)

	rec := f.call(http.MethodPost, "/api/auth/register", "",
		`{"email":"ann@example.uz","password":"`+password+`","full_name":"Ann","phone":"+998901234567"}`)

	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Equal(t, "+998901234567", object(t, rec)["user"].(map[string]any)["phone"])
}

func TestRegister_EmptyBodyNamesEveryRequiredField(t *testing.T) {
	f := newIdentity(t) // nothing is hashed or stored

	for _, body := range []string{`{}`, ``, `{"email":null,"password":null,"full_name":null}`} {
		rec := f.call(http.MethodPost, "/api/auth/register", "", body)

		assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, body)
		p := decodeProblem(t, rec)
		assert.Equal(t, "validation_failed", p.Code)
		assert.Subset(t, fieldNames(p), []string{"email", "password", "full_name"}, body)
		assert.NotContains(t, fieldNames(p), "phone", "phone is optional")
	}
}

func TestRegister_BadBodies(t *testing.T) {
	f := newIdentity(t)
	cases := []struct {
		name, body string
		status     int
		field      string
	}{
		{"wrong type", `{"email":5,"password":"` + password + `","full_name":"Ann"}`, 422, "email"},
		{"unknown field", `{"email":"a@b.uz","password":"` + password + `","full_name":"Ann","role":"admin"}`, 422, "role"},
		{"bad phone", `{"email":"a@b.uz","password":"` + password + `","full_name":"Ann","phone":"12345"}`, 422, "phone"},
		{"malformed", `{"email":`, 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.call(http.MethodPost, "/api/auth/register", "", tc.body)
			assert.Equal(t, tc.status, rec.Code)
			p := decodeProblem(t, rec)
			if tc.field != "" {
				assert.Equal(t, []string{tc.field}, fieldNames(p))
			}
		})
	}
}

func TestRegister_EmailTakenIs409(t *testing.T) {
	f := newIdentity(t)
	f.hasher.EXPECT().Hash(gomock.Any(), password).Return("$argon2id$new", nil)
	f.users.EXPECT().Create(gomock.Any(), gomock.Any()).Return(user.ErrEmailTaken)

	rec := f.call(http.MethodPost, "/api/auth/register", "", `{"email":"ann@example.uz","password":"`+password+`","full_name":"Ann"}`)

	assert.Equal(t, http.StatusConflict, rec.Code)
	assert.Equal(t, "email_taken", decodeProblem(t, rec).Code)
}

func TestLogin_200WithUserAndTokens(t *testing.T) {
	f := newIdentity(t)
	u := restoreUser(annID, user.RoleSeller, user.StatusActive, "+998901234567")
	f.guard.EXPECT().Check(gomock.Any(), "ann@example.uz", "192.0.2.1").Return(ports.Lockout{}, nil)
	f.users.EXPECT().GetByEmail(gomock.Any(), "ann@example.uz").Return(u, nil)
	f.hasher.EXPECT().Verify(gomock.Any(), u.PasswordHash(), password).Return(true, nil)
	f.guard.EXPECT().Reset(gomock.Any(), "ann@example.uz", "192.0.2.1").Return(nil)
	f.users.EXPECT().GetByID(gomock.Any(), annID).Return(u, nil) // re-read after the epoch
	f.expectIssue(newUserID)                                     // the first id of this fixture goes to the session
	var stored *session.Session
	f.sessions.EXPECT().Create(gomock.Any(), gomock.Any(), int64(0)).DoAndReturn(func(_ context.Context, s *session.Session, _ int64) error {
		stored = s
		return nil
	})
	// Then the user's sessions are bounded: this one is all there is.
	f.sessions.EXPECT().ListActive(gomock.Any(), annID, now).DoAndReturn(func(context.Context, string, time.Time) ([]*session.Session, error) {
		return []*session.Session{stored}, nil
	})

	rec := f.call(http.MethodPost, "/api/auth/login", "", `{"email":"Ann@Example.uz","password":"`+password+`"}`,
		"User-Agent", "curl/8", "X-Forwarded-For", "198.51.100.9")

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	body := object(t, rec)
	assert.Equal(t, []string{"tokens", "user"}, keysOf(body))
	usr := body["user"].(map[string]any)
	assert.Equal(t, userKeys, keysOf(usr))
	assert.Equal(t, "seller", usr["role"])
	assert.Equal(t, "+998901234567", usr["phone"])
	assertUTC(t, usr["created_at"], u.CreatedAt())
	assert.Equal(t, tokensKeys, keysOf(body["tokens"]))
	assertNoSecrets(t, rec.Body.String())
	require.NotNil(t, stored)
	assert.Equal(t, "curl/8", stored.UserAgent())
	assert.Equal(t, "192.0.2.1", stored.IP())
}

func TestLogin_Refusals(t *testing.T) {
	t.Run("wrong password", func(t *testing.T) {
		f := newIdentity(t)
		f.guard.EXPECT().Check(gomock.Any(), "ann@example.uz", "192.0.2.1").Return(ports.Lockout{}, nil)
		f.users.EXPECT().GetByEmail(gomock.Any(), "ann@example.uz").Return(restoreUser(annID, user.RoleCustomer, user.StatusActive, ""), nil)
		f.hasher.EXPECT().Verify(gomock.Any(), gomock.Any(), "nope-nope").Return(false, nil)
		f.guard.EXPECT().Fail(gomock.Any(), "ann@example.uz", "192.0.2.1").Return(ports.Lockout{}, nil)

		rec := f.call(http.MethodPost, "/api/auth/login", "", `{"email":"ann@example.uz","password":"nope-nope"}`)
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, "invalid_credentials", decodeProblem(t, rec).Code)
	})
	t.Run("locked out", func(t *testing.T) {
		f := newIdentity(t)
		f.guard.EXPECT().Check(gomock.Any(), "ann@example.uz", "192.0.2.1").
			Return(ports.Lockout{RetryAfter: 14*time.Minute + 59*time.Second + 100*time.Millisecond, Limit: auth.LockoutFailures}, nil)

		rec := f.call(http.MethodPost, "/api/auth/login", "", `{"email":"ann@example.uz","password":"`+password+`"}`)
		assert.Equal(t, http.StatusTooManyRequests, rec.Code)
		assert.Equal(t, "rate_limited", decodeProblem(t, rec).Code)
		assert.Equal(t, "900", rec.Header().Get("Retry-After"))
		assert.Equal(t, "5", rec.Header().Get("RateLimit-Limit"))
	})
	t.Run("locked out by the email's ceiling", func(t *testing.T) {
		f := newIdentity(t)
		f.guard.EXPECT().Check(gomock.Any(), "ann@example.uz", "192.0.2.1").
			Return(ports.Lockout{RetryAfter: 42 * time.Minute, Limit: auth.EmailLockoutFailures}, nil)

		rec := f.call(http.MethodPost, "/api/auth/login", "", `{"email":"ann@example.uz","password":"`+password+`"}`)
		assert.Equal(t, http.StatusTooManyRequests, rec.Code)
		assert.Equal(t, "rate_limited", decodeProblem(t, rec).Code)
		assert.Equal(t, "2520", rec.Header().Get("Retry-After"))
		assert.Equal(t, "20", rec.Header().Get("RateLimit-Limit"), "the limit that refused")
		assert.Equal(t, "0", rec.Header().Get("RateLimit-Remaining"))
		assert.Equal(t, "2520", rec.Header().Get("RateLimit-Reset"))
	})
	t.Run("an IPv6 client is locked out by its /64", func(t *testing.T) {
		f := newIdentity(t)
		f.guard.EXPECT().Check(gomock.Any(), "ann@example.uz", "2001:db8:7:8::/64").
			Return(ports.Lockout{RetryAfter: time.Minute, Limit: auth.LockoutFailures}, nil)

		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/auth/login", strings.NewReader(`{"email":"ann@example.uz","password":"`+password+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = "[2001:db8:7:8:aaaa:bbbb:cccc:dddd]:443"
		rec := serve(f.e, req)
		assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	})
	t.Run("blocked", func(t *testing.T) {
		f := newIdentity(t)
		f.guard.EXPECT().Check(gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.Lockout{}, nil)
		f.users.EXPECT().GetByEmail(gomock.Any(), "ann@example.uz").Return(restoreUser(annID, user.RoleCustomer, user.StatusBlocked, ""), nil)
		f.hasher.EXPECT().Verify(gomock.Any(), gomock.Any(), password).Return(true, nil)

		rec := f.call(http.MethodPost, "/api/auth/login", "", `{"email":"ann@example.uz","password":"`+password+`"}`)
		assert.Equal(t, http.StatusForbidden, rec.Code)
		assert.Equal(t, "forbidden", decodeProblem(t, rec).Code)
	})
	t.Run("empty fields", func(t *testing.T) {
		f := newIdentity(t)
		rec := f.call(http.MethodPost, "/api/auth/login", "", `{}`)
		assert.Equal(t, http.StatusUnprocessableEntity, rec.Code)
		assert.Equal(t, []string{"email", "password"}, fieldNames(decodeProblem(t, rec)))
	})
}

func TestRefresh_200WithTokensOnly(t *testing.T) {
	f := newIdentity(t)
	s := storedSession(t, sessionID, annID, "curl/8", "192.0.2.1")
	f.tokens.EXPECT().ParseRefresh("refresh.old").Return(sessionID, "h1", nil)
	f.sessions.EXPECT().Get(gomock.Any(), sessionID).Return(s, nil)
	f.users.EXPECT().GetByID(gomock.Any(), annID).Return(restoreUser(annID, user.RoleCustomer, user.StatusActive, ""), nil)
	f.expectIssue(sessionID)
	f.sessions.EXPECT().Update(gomock.Any(), sessionID, gomock.Any()).
		DoAndReturn(func(_ context.Context, _ string, fn func(*session.Session) error) (*session.Session, error) {
			return s, fn(s)
		})

	rec := f.call(http.MethodPost, "/api/auth/refresh", "", `{"refresh_token":"refresh.old"}`)

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	body := object(t, rec)
	assert.Equal(t, []string{"tokens"}, keysOf(body))
	assert.Equal(t, tokensKeys, keysOf(body["tokens"]))
}

func TestRefresh_Refusals(t *testing.T) {
	t.Run("malformed or missing token", func(t *testing.T) {
		f := newIdentity(t)
		f.tokens.EXPECT().ParseRefresh("junk").Return("", "", session.ErrTokenInvalid)
		f.tokens.EXPECT().ParseRefresh("").Return("", "", session.ErrTokenInvalid).Times(2)
		for _, body := range []string{`{"refresh_token":"junk"}`, `{"refresh_token":""}`, `{}`} {
			rec := f.call(http.MethodPost, "/api/auth/refresh", "", body)
			assert.Equal(t, http.StatusUnauthorized, rec.Code, body)
			assert.Equal(t, "unauthorized", decodeProblem(t, rec).Code, body)
		}
	})
	t.Run("wrong type", func(t *testing.T) {
		f := newIdentity(t)
		rec := f.call(http.MethodPost, "/api/auth/refresh", "", `{"refresh_token":42}`)
		assert.Equal(t, http.StatusUnprocessableEntity, rec.Code)
		assert.Equal(t, []string{"refresh_token"}, fieldNames(decodeProblem(t, rec)))
	})
	t.Run("unknown session", func(t *testing.T) {
		f := newIdentity(t)
		f.tokens.EXPECT().ParseRefresh("refresh.x").Return(sessionID, "h1", nil)
		f.sessions.EXPECT().Get(gomock.Any(), sessionID).Return(nil, session.ErrNotFound)
		rec := f.call(http.MethodPost, "/api/auth/refresh", "", `{"refresh_token":"refresh.x"}`)
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, "unauthorized", decodeProblem(t, rec).Code, "not a 404")
	})
	t.Run("reused token", func(t *testing.T) {
		f := newIdentity(t)
		s := storedSession(t, sessionID, annID, "", "")
		require.NoError(t, s.Rotate("h1", "h2", user.RoleCustomer, now.Add(-time.Minute), sessionLife))
		f.tokens.EXPECT().ParseRefresh("refresh.old").Return(sessionID, "h1", nil)
		f.sessions.EXPECT().Get(gomock.Any(), sessionID).Return(s, nil)
		f.users.EXPECT().GetByID(gomock.Any(), annID).Return(restoreUser(annID, user.RoleCustomer, user.StatusActive, ""), nil)
		f.tokens.EXPECT().NewRefresh(sessionID).Return("refresh.new", "h3", nil)
		f.sessions.EXPECT().Update(gomock.Any(), sessionID, gomock.Any()).
			DoAndReturn(func(_ context.Context, _ string, fn func(*session.Session) error) (*session.Session, error) {
				return s, fn(s)
			})
		rec := f.call(http.MethodPost, "/api/auth/refresh", "", `{"refresh_token":"refresh.old"}`)
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, "token_revoked", decodeProblem(t, rec).Code)
		assert.True(t, s.IsRevoked())
	})
}

func TestLogout_EndsTheCurrentSession(t *testing.T) {
	f := newIdentity(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.sessions.EXPECT().Revoke(gomock.Any(), sessionID, now).Return(nil).Times(2)

	for _, body := range []string{`{}`, ``} { // the body may be left out
		rec := f.call(http.MethodPost, "/api/auth/logout", token, body)
		assert.Equal(t, http.StatusNoContent, rec.Code)
		assert.Empty(t, rec.Body.String())
	}

	rec := f.call(http.MethodPost, "/api/auth/logout", token, `{"everywhere":true}`)
	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, "unknown fields are refused")

	rec = f.call(http.MethodPost, "/api/auth/logout", "", `{}`)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestLogoutAll_EndsEverySession(t *testing.T) {
	f := newIdentity(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.sessions.EXPECT().RevokeAllForUser(gomock.Any(), annID, "", now).Return(nil)

	rec := f.call(http.MethodPost, "/api/auth/logout-all", token, `{}`)
	assert.Equal(t, http.StatusNoContent, rec.Code)
}

func TestMe_IsTheUserOnly(t *testing.T) {
	f := newIdentity(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.users.EXPECT().GetByID(gomock.Any(), annID).Return(restoreUser(annID, user.RoleCustomer, user.StatusActive, ""), nil)

	rec := f.call(http.MethodGet, "/api/auth/me", token, "")

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := object(t, rec)
	assert.Equal(t, []string{"user"}, keysOf(body))
	assert.Equal(t, userKeys, keysOf(body["user"]))
	assert.Equal(t, annID, body["user"].(map[string]any)["id"])
	assertNoSecrets(t, rec.Body.String())
}

func TestMe_GoneUserIsTokenRevoked(t *testing.T) {
	f := newIdentity(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.users.EXPECT().GetByID(gomock.Any(), annID).Return(nil, user.ErrNotFound)

	rec := f.call(http.MethodGet, "/api/auth/me", token, "")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "token_revoked", decodeProblem(t, rec).Code)
}

func TestSessions_ListMarksTheCurrentOne(t *testing.T) {
	f := newIdentity(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	mine := storedSession(t, sessionID, annID, "curl/8", "192.0.2.1")
	other := storedSession(t, otherSID, annID, "", "203.0.113.7")
	f.sessions.EXPECT().ListActive(gomock.Any(), annID, now).Return([]*session.Session{other, mine}, nil)

	rec := f.call(http.MethodGet, "/api/auth/sessions", token, "")

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := object(t, rec)
	assert.Equal(t, []string{"items"}, keysOf(body))
	items := body["items"].([]any)
	require.Len(t, items, 2)
	first, second := items[0].(map[string]any), items[1].(map[string]any)
	assert.Equal(t, sessionKeys, keysOf(first))
	assert.Equal(t, otherSID, first["id"])
	assert.Equal(t, false, first["current"])
	assert.Nil(t, first["user_agent"], "unknown user agent: null")
	assert.Equal(t, "203.0.113.7", first["ip"])
	assert.Equal(t, sessionID, second["id"])
	assert.Equal(t, true, second["current"])
	assert.Equal(t, "curl/8", second["user_agent"])
	assertUTC(t, second["created_at"], now.Add(-2*time.Hour))
	assertUTC(t, second["last_used_at"], now.Add(-2*time.Hour))
	assertUTC(t, second["expires_at"], now.Add(-2*time.Hour+refreshTTL))
	assert.NotContains(t, rec.Body.String(), "h1", "no refresh-token hash")
}

func TestSessions_EmptyListIsAnArray(t *testing.T) {
	f := newIdentity(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.sessions.EXPECT().ListActive(gomock.Any(), annID, now).Return(nil, nil)

	rec := f.call(http.MethodGet, "/api/auth/sessions", token, "")
	assert.JSONEq(t, `{"items":[]}`, rec.Body.String())
}

func TestDeleteSession(t *testing.T) {
	f := newIdentity(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)

	t.Run("own session", func(t *testing.T) {
		f.sessions.EXPECT().Get(gomock.Any(), otherSID).Return(storedSession(t, otherSID, annID, "", ""), nil)
		f.sessions.EXPECT().Revoke(gomock.Any(), otherSID, now).Return(nil)
		rec := f.call(http.MethodDelete, "/api/auth/sessions/"+otherSID, token, "")
		assert.Equal(t, http.StatusNoContent, rec.Code)
	})
	t.Run("someone else's is 404", func(t *testing.T) {
		f.sessions.EXPECT().Get(gomock.Any(), otherSID).Return(storedSession(t, otherSID, bobID, "", ""), nil)
		rec := f.call(http.MethodDelete, "/api/auth/sessions/"+otherSID, token, "")
		assert.Equal(t, http.StatusNotFound, rec.Code)
		assert.Equal(t, "not_found", decodeProblem(t, rec).Code)
	})
	t.Run("unknown is 404", func(t *testing.T) {
		f.sessions.EXPECT().Get(gomock.Any(), otherSID).Return(nil, session.ErrNotFound)
		rec := f.call(http.MethodDelete, "/api/auth/sessions/"+otherSID, token, "")
		assert.Equal(t, http.StatusNotFound, rec.Code)
	})
	t.Run("not a UUID is 404 without asking the store", func(t *testing.T) {
		for _, id := range []string{"abc", "1", strings.ToUpper(otherSID) + "0", "{" + otherSID + "}", "urn:uuid:" + otherSID} {
			rec := f.call(http.MethodDelete, "/api/auth/sessions/"+id, token, "")
			assert.Equal(t, http.StatusNotFound, rec.Code, id)
			assert.Equal(t, "not_found", decodeProblem(t, rec).Code)
		}
	})
}

func TestChangePassword(t *testing.T) {
	t.Run("ok ends the other sessions", func(t *testing.T) {
		f := newIdentity(t)
		token := f.bearer(annID, sessionID, user.RoleCustomer)
		u := restoreUser(annID, user.RoleCustomer, user.StatusActive, "")
		f.users.EXPECT().GetByID(gomock.Any(), annID).Return(u, nil)
		f.guard.EXPECT().Check(gomock.Any(), u.Email(), "192.0.2.1").Return(ports.Lockout{}, nil)
		f.hasher.EXPECT().Verify(gomock.Any(), u.PasswordHash(), password).Return(true, nil)
		f.guard.EXPECT().Reset(gomock.Any(), u.Email(), "192.0.2.1").Return(nil)
		f.hasher.EXPECT().Hash(gomock.Any(), "An0ther-strong-one").Return("$argon2id$next", nil)
		f.users.EXPECT().GetForUpdate(gomock.Any(), annID).Return(u, nil)
		f.users.EXPECT().Update(gomock.Any(), u).Return(nil)
		f.sessions.EXPECT().RevokeAllForUser(gomock.Any(), annID, sessionID, now).Return(nil)

		rec := f.call(http.MethodPut, "/api/auth/password", token, `{"current_password":"`+password+`","new_password":"An0ther-strong-one"}`)
		assert.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	})
	t.Run("wrong current password names it", func(t *testing.T) {
		f := newIdentity(t)
		token := f.bearer(annID, sessionID, user.RoleCustomer)
		u := restoreUser(annID, user.RoleCustomer, user.StatusActive, "")
		f.users.EXPECT().GetByID(gomock.Any(), annID).Return(u, nil)
		f.guard.EXPECT().Check(gomock.Any(), u.Email(), "192.0.2.1").Return(ports.Lockout{}, nil)
		f.hasher.EXPECT().Verify(gomock.Any(), gomock.Any(), "wrong-one-1").Return(false, nil)
		f.guard.EXPECT().Fail(gomock.Any(), u.Email(), "192.0.2.1").Return(ports.Lockout{}, nil) // a failed login

		rec := f.call(http.MethodPut, "/api/auth/password", token, `{"current_password":"wrong-one-1","new_password":"An0ther-strong-one"}`)
		assert.Equal(t, http.StatusUnprocessableEntity, rec.Code)
		assert.Equal(t, []string{"current_password"}, fieldNames(decodeProblem(t, rec)))
	})
	t.Run("locked out like a login", func(t *testing.T) {
		f := newIdentity(t)
		token := f.bearer(annID, sessionID, user.RoleCustomer)
		u := restoreUser(annID, user.RoleCustomer, user.StatusActive, "")
		f.users.EXPECT().GetByID(gomock.Any(), annID).Return(u, nil)
		f.guard.EXPECT().Check(gomock.Any(), u.Email(), "192.0.2.1").
			Return(ports.Lockout{RetryAfter: 10 * time.Minute, Limit: auth.LockoutFailures}, nil)

		rec := f.call(http.MethodPut, "/api/auth/password", token, `{"current_password":"`+password+`","new_password":"An0ther-strong-one"}`)
		assert.Equal(t, http.StatusTooManyRequests, rec.Code)
		assert.Equal(t, "rate_limited", decodeProblem(t, rec).Code)
		assert.Equal(t, "600", rec.Header().Get("Retry-After"))
		assert.Equal(t, "5", rec.Header().Get("RateLimit-Limit"))
	})
	t.Run("wrong type", func(t *testing.T) {
		f := newIdentity(t)
		token := f.bearer(annID, sessionID, user.RoleCustomer)
		rec := f.call(http.MethodPut, "/api/auth/password", token, `{"current_password":1,"new_password":"An0ther-strong-one"}`)
		assert.Equal(t, http.StatusUnprocessableEntity, rec.Code)
		assert.Equal(t, []string{"current_password"}, fieldNames(decodeProblem(t, rec)))
	})
}

func TestAuthRoutes_BearerOnlyWhereAPIMdSaysSo(t *testing.T) {
	f := newIdentity(t) // no mock call may happen: every request stops at RequireAuth
	for _, r := range []struct{ method, path string }{
		{http.MethodPost, "/api/auth/logout"},
		{http.MethodPost, "/api/auth/logout-all"},
		{http.MethodGet, "/api/auth/me"},
		{http.MethodGet, "/api/auth/sessions"},
		{http.MethodDelete, "/api/auth/sessions/" + otherSID},
		{http.MethodPut, "/api/auth/password"},
		{http.MethodGet, "/api/admin/users"},
		{http.MethodPatch, "/api/admin/users/" + bobID + "/role"},
		{http.MethodPatch, "/api/admin/users/" + bobID + "/status"},
	} {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			rec := f.call(r.method, r.path, "", `{}`)
			assert.Equal(t, http.StatusUnauthorized, rec.Code, "%s %s", r.method, r.path)
			assert.Equal(t, "unauthorized", decodeProblem(t, rec).Code)
		})
	}
}
