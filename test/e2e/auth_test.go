package e2e

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/test/testenv"
)

func TestIdentity_RegisterShapesAndNormalisation(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)

	r := g.post(t, "/api/auth/register", "", map[string]any{
		"email": "  Ann@Example.UZ ", "password": defaultPassword, "full_name": "Ann Karimova", "phone": "+998901234567",
	})
	expectJSON(t, r, http.StatusCreated)
	body := asMap(t, r)
	assertKeys(t, body, []string{"user", "tokens"}, "register body")
	assertUserShape(t, body["user"])
	assertTokensShape(t, body["tokens"], g.Config.AccessTokenTTL)
	res := decode[authResult](t, r)
	assert.Equal(t, "ann@example.uz", res.User.Email, "emails are returned normalised")
	assert.Equal(t, "Ann Karimova", res.User.FullName)
	if assert.NotNil(t, res.User.Phone) {
		assert.Equal(t, "+998901234567", *res.User.Phone)
	}
	assert.Equal(t, roleCustomer, res.User.Role, "register makes a customer")
	assert.Equal(t, "active", res.User.Status)
	assert.WithinDuration(t, time.Now(), assertUTCTime(t, res.User.CreatedAt, "created_at"), time.Minute)

	// The tokens work at once.
	me := g.me(t, res.Tokens.AccessToken)
	expectJSON(t, me, http.StatusOK)
	meBody := asMap(t, me)
	assertKeys(t, meBody, []string{"user"}, "me body")
	assertUserShape(t, meBody["user"])
	meUser := decode[authResult](t, me).User
	assert.Equal(t, res.User.ID, meUser.ID)
	assert.Equal(t, res.User.Email, meUser.Email)
	assert.Equal(t, res.User.FullName, meUser.FullName)
	assert.Equal(t, res.User.Phone, meUser.Phone)
	assert.Equal(t, res.User.Role, meUser.Role)
	assert.Equal(t, res.User.Status, meUser.Status)
	// The same instant (the database keeps microseconds; see the report on
	// register answering with nanoseconds).
	assert.WithinDuration(t, assertUTCTime(t, res.User.CreatedAt, "register created_at"),
		assertUTCTime(t, meUser.CreatedAt, "me created_at"), time.Microsecond)

	// Phone is optional; without it the user still has the key.
	noPhone := g.register(t, uniqueEmail("nophone"), defaultPassword)
	assert.Nil(t, noPhone.User.Phone, "no phone is null")

	t.Run("the same email in another case is taken", func(t *testing.T) {
		for _, email := range []string{"ann@example.uz", "ANN@EXAMPLE.UZ", "  aNn@example.Uz"} {
			r := g.post(t, "/api/auth/register", "", registerBody(email, defaultPassword))
			expectProblem(t, r, http.StatusConflict, "email_taken")
		}
	})

	t.Run("login with another spelling of the email", func(t *testing.T) {
		got := g.login(t, " ANN@example.UZ ", defaultPassword)
		assert.Equal(t, res.User.ID, got.User.ID)
		assert.Equal(t, "ann@example.uz", got.User.Email)
	})
}

func TestIdentity_RegisterValidation(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	post := func(t *testing.T, body any) response {
		t.Helper()
		return g.post(t, "/api/auth/register", "", body)
	}

	t.Run("password boundaries", func(t *testing.T) {
		expectValidation(t, post(t, registerBody(uniqueEmail("p7"), "Ab3$xyz")), "password")                       // 7 bytes
		expectValidation(t, post(t, registerBody(uniqueEmail("p73"), strings.Repeat("Qz9-", 18)+"Q")), "password") // 73 bytes
		// 72 bytes and 8 bytes are fine.
		expectJSON(t, post(t, registerBody(uniqueEmail("p72"), strings.Repeat("Qz9-", 18))), http.StatusCreated)
		expectJSON(t, post(t, registerBody(uniqueEmail("p8"), "Qz9-Wv8!")), http.StatusCreated)
		// Length counts bytes: 37 two-byte runes are 74 bytes.
		expectValidation(t, post(t, registerBody(uniqueEmail("p37r"), strings.Repeat("ё", 37))), "password")
	})

	t.Run("password equal to the email", func(t *testing.T) {
		email := uniqueEmail("same")
		expectValidation(t, post(t, registerBody(email, email)), "password")
	})

	t.Run("common password", func(t *testing.T) {
		expectValidation(t, post(t, registerBody(uniqueEmail("common"), "password123")), "password")
	})

	t.Run("bad phone", func(t *testing.T) {
		for _, phone := range []string{"998901234567", "+99890123456", "+9989012345678", "+79011234567", "+998 90 123 45 67"} {
			body := registerBody(uniqueEmail("phone"), defaultPassword)
			body["phone"] = phone
			expectValidation(t, post(t, body), "phone")
		}
	})

	t.Run("bad email", func(t *testing.T) {
		for _, email := range []string{"not-an-email", "a@b", "@example.uz", ""} {
			expectValidation(t, post(t, registerBody(email, defaultPassword)), "email")
		}
	})

	t.Run("unknown field", func(t *testing.T) {
		body := registerBody(uniqueEmail("unknown"), defaultPassword)
		body["role"] = roleSuperAdmin // a classic privilege-escalation attempt
		expectProblem(t, post(t, body), http.StatusUnprocessableEntity, "validation_failed")
		body = registerBody(uniqueEmail("unknown"), defaultPassword)
		body["nickname"] = "x"
		expectProblem(t, post(t, body), http.StatusUnprocessableEntity, "validation_failed")
	})

	t.Run("wrong type names the field", func(t *testing.T) {
		expectValidation(t, post(t, rawJSON(`{"email": 42, "password": "Plum-Orchard-Lantern-71", "full_name": "X"}`)), "email")
		expectValidation(t, post(t, rawJSON(`{"email": "wt@example.uz", "password": ["x"], "full_name": "X"}`)), "password")
	})

	t.Run("malformed JSON", func(t *testing.T) {
		expectProblem(t, post(t, rawJSON(`{"email": "x@example.uz", "password": `)), http.StatusBadRequest, "bad_request")
		expectProblem(t, post(t, rawJSON(`not json at all`)), http.StatusBadRequest, "bad_request")
	})

	t.Run("empty object", func(t *testing.T) {
		expectValidation(t, post(t, rawJSON(`{}`)), "email", "password", "full_name")
	})

	t.Run("body over 1 MiB", func(t *testing.T) {
		big := `{"email":"big@example.uz","password":"Plum-Orchard-Lantern-71","full_name":"` + strings.Repeat("a", 1<<20) + `"}`
		expectProblem(t, post(t, rawJSON(big)), http.StatusRequestEntityTooLarge, "payload_too_large")
	})

	// Nothing above created an account it should not have.
	var n int
	require.NoError(t, g.DB.Get(&n, `SELECT count(*) FROM users`))
	assert.Equal(t, 2, n, "only the 72- and 8-byte passwords made accounts")
}

func TestIdentity_LoginCredentials(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	email := uniqueEmail("login")
	reg := g.register(t, email, defaultPassword)

	r := g.loginWith(t, email, defaultPassword, nil)
	expectJSON(t, r, http.StatusOK)
	body := asMap(t, r)
	assertKeys(t, body, []string{"user", "tokens"}, "login body")
	assertUserShape(t, body["user"])
	assertTokensShape(t, body["tokens"], g.Config.AccessTokenTTL)
	res := decode[authResult](t, r)
	assert.Equal(t, reg.User.ID, res.User.ID)
	assert.NotEqual(t, reg.Tokens.RefreshToken, res.Tokens.RefreshToken, "a login is a new session")

	wrong := expectProblem(t, g.loginWith(t, email, "Not-The-Password-99", nil), http.StatusUnauthorized, "invalid_credentials")
	unknown := expectProblem(t, g.loginWith(t, uniqueEmail("ghost"), defaultPassword, nil), http.StatusUnauthorized, "invalid_credentials")
	assert.Equal(t, wrong.Type, unknown.Type, "an unknown email and a wrong password must be indistinguishable")
	assert.Equal(t, wrong.Title, unknown.Title, "an unknown email and a wrong password must be indistinguishable")
	assert.Equal(t, wrong.Detail, unknown.Detail, "an unknown email and a wrong password must be indistinguishable")
	assert.Equal(t, wrong.Errors, unknown.Errors)

	t.Run("malformed JSON", func(t *testing.T) {
		r := g.post(t, "/api/auth/login", "", rawJSON(`{"email":`))
		expectProblem(t, r, http.StatusBadRequest, "bad_request")
	})

	t.Run("blocked user", func(t *testing.T) {
		blocked := uniqueEmail("blocked")
		g.register(t, blocked, defaultPassword)
		g.setStatus(t, blocked, "blocked")
		expectProblem(t, g.loginWith(t, blocked, defaultPassword, nil), http.StatusForbidden, "forbidden")
		expectProblem(t, g.loginWith(t, blocked, "Not-The-Password-99", nil), http.StatusUnauthorized, "invalid_credentials")
	})
}

func TestIdentity_LoginLockout(t *testing.T) {
	t.Parallel()
	// RATE_LIMIT_AUTH stays on (with room) so the auth routes carry RateLimit-*;
	// the lockout is independent of it.
	g := newGateway(t, func(c *config.Config) {
		c.RateLimitAuth = config.RateLimit{N: 1000, Per: 15 * time.Minute}
	})
	victim := uniqueEmail("victim")
	other := uniqueEmail("other")
	g.register(t, victim, defaultPassword)
	g.register(t, other, defaultPassword)

	for i := 1; i <= 5; i++ {
		r := g.loginWith(t, victim, "Wrong-Password-"+string(rune('a'+i)), nil)
		expectProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
		assertRateLimitHeaders(t, r.Header)
	}
	// The 6th attempt is refused even with the right password.
	r := g.loginWith(t, victim, defaultPassword, nil)
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	retryAfter(t, r.Header, 15*time.Minute)
	assertRateLimitHeaders(t, r.Header)
	assert.Equal(t, "0", r.Header.Get("RateLimit-Remaining"), "a 429 has nothing left")
	assert.Equal(t, "5", r.Header.Get("RateLimit-Limit"), "the lockout's limit, not the auth rate limit's")
	// And stays refused.
	expectProblem(t, g.loginWith(t, victim, defaultPassword, nil), http.StatusTooManyRequests, "rate_limited")

	// Another email from the same client is not locked.
	g.login(t, other, defaultPassword)

	// An email with no account locks the same way, or the lockout would tell
	// which emails have accounts.
	ghost := uniqueEmail("ghost")
	for i := 1; i <= 5; i++ {
		expectProblem(t, g.loginWith(t, ghost, "Wrong-Password-zz", nil), http.StatusUnauthorized, "invalid_credentials")
	}
	r = g.loginWith(t, ghost, defaultPassword, nil)
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	retryAfter(t, r.Header, 15*time.Minute)
}

func TestIdentity_LoginLockoutPerClientIP(t *testing.T) {
	t.Parallel()
	t.Run("X-Forwarded-For is not believed from an untrusted peer", func(t *testing.T) {
		t.Parallel()
		g := newGateway(t, nil) // no TRUSTED_PROXIES
		email := uniqueEmail("spoof")
		g.register(t, email, defaultPassword)
		for i := 1; i <= 5; i++ {
			hdr := map[string]string{"X-Forwarded-For": "203.0.113." + string(rune('0'+i))}
			expectProblem(t, g.loginWith(t, email, "Wrong-Password-zz", hdr), http.StatusUnauthorized, "invalid_credentials")
		}
		r := g.loginWith(t, email, defaultPassword, map[string]string{"X-Forwarded-For": "198.51.100.77"})
		expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
		retryAfter(t, r.Header, 15*time.Minute)
		// RATE_LIMIT_AUTH is off here; the lockout's 429 still carries RateLimit-*.
		assertRateLimitHeaders(t, r.Header)
		assert.Equal(t, "0", r.Header.Get("RateLimit-Remaining"))

		// Nor is it recorded as the session's IP.
		other := uniqueEmail("spoof-other")
		g.register(t, other, defaultPassword)
		r = g.loginWith(t, other, defaultPassword, map[string]string{"X-Forwarded-For": "198.51.100.77"})
		expectJSON(t, r, http.StatusOK)
		for _, s := range g.sessions(t, decode[authResult](t, r).Tokens.AccessToken) {
			assert.Equal(t, "127.0.0.1", s.IP)
		}
	})

	t.Run("through a trusted proxy each client IP counts apart", func(t *testing.T) {
		t.Parallel()
		g := newGateway(t, func(c *config.Config) { c.TrustedProxies = loopbackNets(t) })
		email := uniqueEmail("proxied")
		g.register(t, email, defaultPassword)
		attacker := map[string]string{"X-Forwarded-For": "203.0.113.9"}
		for i := 1; i <= 5; i++ {
			expectProblem(t, g.loginWith(t, email, "Wrong-Password-zz", attacker), http.StatusUnauthorized, "invalid_credentials")
		}
		expectProblem(t, g.loginWith(t, email, defaultPassword, attacker), http.StatusTooManyRequests, "rate_limited")
		// The real owner behind the same proxy, from another IP, still logs in.
		r := g.loginWith(t, email, defaultPassword, map[string]string{"X-Forwarded-For": "198.51.100.20"})
		expectJSON(t, r, http.StatusOK)
		// The session records the client IP derived through the proxy.
		tok := decode[authResult](t, r).Tokens.AccessToken
		for _, s := range g.sessions(t, tok) {
			if s.Current {
				assert.Equal(t, "198.51.100.20", s.IP)
			}
		}
	})
}

// TestIdentity_LoginLockoutIPv6By64: failed logins are counted per email and
// client, where an IPv6 client is its /64 (as for rate limits): hopping
// between addresses of one /64 does not buy more guesses, while another /64
// is another client.
func TestIdentity_LoginLockoutIPv6By64(t *testing.T) {
	t.Parallel()
	g := newGateway(t, func(c *config.Config) { c.TrustedProxies = loopbackNets(t) })
	email := uniqueEmail("ipv6")
	g.register(t, email, defaultPassword)
	from := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }

	for i := 1; i <= 5; i++ {
		ip := fmt.Sprintf("2001:db8:aa:1::%x", i) // five addresses, one /64
		expectProblem(t, g.loginWith(t, email, "Wrong-Password-zz", from(ip)), http.StatusUnauthorized, "invalid_credentials")
	}
	// Another address of the same /64, even with the right password: locked out.
	r := g.loginWith(t, email, defaultPassword, from("2001:db8:aa:1:ffff:ffff:ffff:fffe"))
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	retryAfter(t, r.Header, 15*time.Minute)
	assert.Equal(t, "5", r.Header.Get("RateLimit-Limit"))

	// Another /64 is another client and logs in; its session records the full address.
	r = g.loginWith(t, email, defaultPassword, from("2001:db8:aa:2::1"))
	expectJSON(t, r, http.StatusOK)
	tok := decode[authResult](t, r).Tokens.AccessToken
	for _, s := range g.sessions(t, tok) {
		if s.Current {
			assert.Equal(t, "2001:db8:aa:2::1", s.IP)
		}
	}
	// IPv4 clients still count one address each.
	expectJSON(t, g.loginWith(t, email, defaultPassword, from("203.0.113.5")), http.StatusOK)
}

// TestIdentity_LoginLockoutPerEmailCeiling: across all clients, at most 20
// failed logins of one email per hour; beyond that every login of that email
// is refused (429 with Retry-After) until the hour frees a slot, from any
// client and with the right password. The per-client rule still applies.
func TestIdentity_LoginLockoutPerEmailCeiling(t *testing.T) {
	t.Parallel()
	g := newGateway(t, func(c *config.Config) { c.TrustedProxies = loopbackNets(t) })
	victim := uniqueEmail("ceiling")
	other := uniqueEmail("ceiling-other")
	g.register(t, victim, defaultPassword)
	g.register(t, other, defaultPassword)
	from := func(i int) map[string]string {
		return map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i)}
	}

	// 20 failures from ten clients, two each: no client reaches its own 5.
	for i := range 20 {
		expectProblem(t, g.loginWith(t, victim, "Wrong-Password-zz", from(i%10)), http.StatusUnauthorized, "invalid_credentials")
	}
	for _, client := range []int{0, 9, 200} { // clients that failed, and one that never did
		r := g.loginWith(t, victim, defaultPassword, from(client))
		expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
		wait := retryAfter(t, r.Header, time.Hour)
		assert.Greater(t, wait, int((59 * time.Minute).Seconds()), "until the oldest failure is an hour old")
		assert.Equal(t, "20", r.Header.Get("RateLimit-Limit"), "the email's ceiling refused it")
		assert.Equal(t, "0", r.Header.Get("RateLimit-Remaining"))
	}
	// Other emails, from the same clients, are not affected.
	expectJSON(t, g.loginWith(t, other, defaultPassword, from(0)), http.StatusOK)

	// The per-client rule still applies under the ceiling.
	for i := 1; i <= 5; i++ {
		expectProblem(t, g.loginWith(t, other, "Wrong-Password-zz", from(50)), http.StatusUnauthorized, "invalid_credentials")
	}
	r := g.loginWith(t, other, defaultPassword, from(50))
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	assert.Equal(t, "5", r.Header.Get("RateLimit-Limit"))
	expectJSON(t, g.loginWith(t, other, defaultPassword, from(51)), http.StatusOK)
}

// TestIdentity_PasswordChangeCountsAsFailedLogin: a wrong current_password
// on PUT /api/auth/password is a failed login of the user's email from that
// client, so a stolen access token is no way around the lockout; at the
// limit the route answers 429 rate_limited like login, and so does login.
func TestIdentity_PasswordChangeCountsAsFailedLogin(t *testing.T) {
	t.Parallel()
	g := newGateway(t, func(c *config.Config) { c.TrustedProxies = loopbackNets(t) })
	acc := g.newAccount(t, roleCustomer)
	const newPassword = "Quartz-Meadow-Falcon-38"
	put := func(current string, ip string) response {
		return g.do(t, req{Method: http.MethodPut, Path: "/api/auth/password", Token: acc.Access,
			Body:   map[string]any{"current_password": current, "new_password": newPassword},
			Header: map[string]string{"X-Forwarded-For": ip}})
	}
	const thief, owner = "203.0.113.66", "198.51.100.20"

	// Three wrong passwords here and two failed logins: five failures.
	for i := 1; i <= 3; i++ {
		expectValidation(t, put(fmt.Sprintf("Wrong-Password-%d", i), thief), "current_password")
	}
	for i := 4; i <= 5; i++ {
		expectProblem(t, g.loginWith(t, acc.Email, fmt.Sprintf("Wrong-Password-%d", i), map[string]string{"X-Forwarded-For": thief}),
			http.StatusUnauthorized, "invalid_credentials")
	}
	// Locked out: even the right current password gets 429, and nothing changes.
	r := put(acc.Password, thief)
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	retryAfter(t, r.Header, 15*time.Minute)
	assertRateLimitHeaders(t, r.Header)
	assert.Equal(t, "5", r.Header.Get("RateLimit-Limit"))
	r = g.loginWith(t, acc.Email, acc.Password, map[string]string{"X-Forwarded-For": thief})
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	g.expectTokenWorks(t, acc.Access)

	// From another client the owner changes the password.
	expectNoContent(t, put(acc.Password, owner))
	g.login(t, acc.Email, newPassword)
}

func TestIdentity_AccessTokens(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	acc := g.newAccount(t, roleCustomer)
	g.expectTokenWorks(t, acc.Access)

	claims := jwtClaims(t, acc.Access)
	secret := []byte(g.Config.JWTSecret)
	withClaim := func(k string, v any) map[string]any {
		c := cloneClaims(claims)
		c[k] = v
		return c
	}
	unauthorized := map[string]map[string]string{
		"no header":               {},
		"empty bearer":            {"Authorization": "Bearer "},
		"basic scheme":            {"Authorization": "Basic dXNlcjpwYXNz"},
		"token without scheme":    {"Authorization": acc.Access},
		"garbage":                 {"Authorization": "Bearer not.a.jwt"},
		"garbage no dots":         {"Authorization": "Bearer abcdef"},
		"alg none":                {"Authorization": "Bearer " + unsignedToken(t, claims)},
		"another secret":          {"Authorization": "Bearer " + signToken(t, jwtlib.SigningMethodHS256, []byte("some-other-secret-that-is-long-enough-123"), claims)},
		"HS512 with our secret":   {"Authorization": "Bearer " + signToken(t, jwtlib.SigningMethodHS512, secret, claims)},
		"wrong iss":               {"Authorization": "Bearer " + signToken(t, jwtlib.SigningMethodHS256, secret, withClaim("iss", "evil"))},
		"wrong aud":               {"Authorization": "Bearer " + signToken(t, jwtlib.SigningMethodHS256, secret, withClaim("aud", []string{"someone-else"}))},
		"tampered payload":        {"Authorization": "Bearer " + tamper(t, acc.Access, withClaim("role", roleSuperAdmin))},
		"refresh token as bearer": {"Authorization": "Bearer " + acc.Refresh},
	}
	for name, hdr := range unauthorized {
		t.Run(name, func(t *testing.T) {
			r := g.do(t, req{Method: http.MethodGet, Path: "/api/auth/me", Header: hdr})
			expectProblem(t, r, http.StatusUnauthorized, "unauthorized")
		})
	}

	t.Run("a well-signed token of a session nobody knows is revoked", func(t *testing.T) {
		// API.md: a token whose session Redis no longer knows counts as of an ended session.
		tok := signToken(t, jwtlib.SigningMethodHS256, secret, withClaim("sid", uuid.NewString()))
		g.expectTokenRevoked(t, tok)
	})

	// The real token is unharmed by all of the above.
	g.expectTokenWorks(t, acc.Access)
}

// TestIdentity_SessionRoleAuthorizes: the role that authorizes a request is
// the one its session holds. A token signed with the real key (a leaked one,
// say) that claims super_admin for a customer's session is refused as
// unauthorized, and makes nobody an admin.
func TestIdentity_SessionRoleAuthorizes(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	customer := g.newAccount(t, roleCustomer)
	seller := g.newAccount(t, roleSeller)
	secret := []byte(g.Config.JWTSecret)

	forge := func(acc account, role string) string {
		c := cloneClaims(jwtClaims(t, acc.Access))
		c["role"] = role
		c["jti"] = uuid.NewString()
		return signToken(t, jwtlib.SigningMethodHS256, secret, c)
	}
	for _, tc := range []struct {
		acc  account
		role string
	}{
		{customer, roleSuperAdmin},
		{customer, roleAdmin},
		{seller, roleAdmin},
		{seller, roleCustomer}, // any other role than the session's, not only a higher one
	} {
		t.Run(tc.acc.Role+" claiming "+tc.role, func(t *testing.T) {
			tok := forge(tc.acc, tc.role)
			for _, r := range []response{
				g.listUsers(t, tok, nil),
				g.me(t, tok),
				g.patchStatus(t, tok, tc.acc.ID, map[string]any{"status": "active"}),
			} {
				expectProblem(t, r, http.StatusUnauthorized, "unauthorized")
			}
		})
	}
	_, status := g.userRow(t, customer.ID)
	assert.Equal(t, "active", status)

	// The real tokens are unharmed, and still get no further than their role.
	g.expectTokenWorks(t, customer.Access)
	g.expectTokenWorks(t, seller.Access)
	expectProblem(t, g.listUsers(t, customer.Access, nil), http.StatusForbidden, "forbidden")
}

// tamper replaces the payload of a signed JWT and keeps its signature.
func tamper(t *testing.T, token string, claims map[string]any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	forged := strings.Split(unsignedToken(t, claims), ".")
	return parts[0] + "." + forged[1] + "." + parts[2]
}

func TestIdentity_AccessTokenExpires(t *testing.T) {
	t.Parallel()
	g := newGateway(t, func(c *config.Config) { c.AccessTokenTTL = 2 * time.Second })
	email := uniqueEmail("expiry")
	reg := g.register(t, email, defaultPassword)
	assert.EqualValues(t, 2, reg.Tokens.ExpiresIn)
	g.expectTokenWorks(t, reg.Tokens.AccessToken)

	time.Sleep(3100 * time.Millisecond)
	expectProblem(t, g.me(t, reg.Tokens.AccessToken), http.StatusUnauthorized, "token_expired")

	// The refresh token outlives the access token.
	r := g.refresh(t, reg.Tokens.RefreshToken)
	expectJSON(t, r, http.StatusOK)
	fresh := decode[authResult](t, r).Tokens
	g.expectTokenWorks(t, fresh.AccessToken)
}

func TestIdentity_RedisLosingSessionsRevokesTokens(t *testing.T) {
	t.Parallel()
	client, prefix := testenv.Redis(t)
	g := startGateway(t, identityConfig(t), prefix)
	acc := g.newAccount(t, roleCustomer)
	g.expectTokenWorks(t, acc.Access)

	// Redis loses its data (every node of a Cluster; one key per DEL, as
	// keys of different slots cannot share one).
	keys := testenv.RedisKeys(t, client, prefix)
	require.NotEmpty(t, keys, "the session must live in Redis under the app's prefix")
	for _, k := range keys {
		require.NoError(t, client.Del(t.Context(), k).Err())
	}

	g.expectTokenRevoked(t, acc.Access)
	// The refresh token is refused too. Its code is left open: API.md calls a
	// refresh token of an ended session token_revoked but an unknown one
	// unauthorized, and a refresh token whose session Redis lost cannot be
	// told from a made-up one.
	r := g.refresh(t, acc.Refresh)
	require.Equal(t, http.StatusUnauthorized, r.Status, "%s", r)
	p := decode[problem](t, r)
	assert.Contains(t, []string{"token_revoked", "unauthorized"}, p.Code)
	// Logging in again works.
	g.login(t, acc.Email, acc.Password)
}

func TestIdentity_RefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	acc := g.newAccount(t, roleCustomer)
	other := g.login(t, acc.Email, acc.Password) // a second session of the same user

	r := g.refresh(t, acc.Refresh)
	expectJSON(t, r, http.StatusOK)
	body := asMap(t, r)
	require.Contains(t, body, "tokens")
	assertTokensShape(t, body["tokens"], g.Config.AccessTokenTTL)
	second := decode[authResult](t, r).Tokens
	assert.NotEqual(t, acc.Refresh, second.RefreshToken, "refresh returns a new refresh token")
	assert.NotEqual(t, acc.Access, second.AccessToken, "refresh returns a new access token")
	g.expectTokenWorks(t, second.AccessToken)
	assert.Len(t, g.sessions(t, second.AccessToken), 3, "rotation keeps the same session (register, login, login)")

	third := decode[authResult](t, g.refresh(t, second.RefreshToken)).Tokens
	require.NotEmpty(t, third.RefreshToken)
	g.expectTokenWorks(t, third.AccessToken)

	// Presenting the first (used) refresh token again is theft.
	expectProblem(t, g.refresh(t, acc.Refresh), http.StatusUnauthorized, "token_revoked")
	// The whole session ends: its newest refresh token and its access tokens.
	expectProblem(t, g.refresh(t, third.RefreshToken), http.StatusUnauthorized, "token_revoked")
	g.expectTokenRevoked(t, third.AccessToken)
	g.expectTokenRevoked(t, second.AccessToken)
	g.expectTokenRevoked(t, acc.Access)

	// Other sessions of the user are not touched.
	g.expectTokenWorks(t, other.Tokens.AccessToken)
	expectJSON(t, g.refresh(t, other.Tokens.RefreshToken), http.StatusOK)

	t.Run("unknown or malformed refresh tokens", func(t *testing.T) {
		for _, tok := range []string{
			"garbage",
			uuid.NewString() + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", // well-formed, unknown session
			acc.Access, // an access token is not a refresh token
		} {
			expectProblem(t, g.refresh(t, tok), http.StatusUnauthorized, "unauthorized")
		}
	})

	t.Run("wrong type", func(t *testing.T) {
		expectValidation(t, g.post(t, "/api/auth/refresh", "", rawJSON(`{"refresh_token": 12}`)), "refresh_token")
	})

	t.Run("malformed JSON", func(t *testing.T) {
		expectProblem(t, g.post(t, "/api/auth/refresh", "", rawJSON(`{"refresh_token":`)), http.StatusBadRequest, "bad_request")
	})
}

func TestIdentity_LogoutAndLogoutAll(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	acc := g.newAccount(t, roleCustomer)
	second := g.login(t, acc.Email, acc.Password)
	third := g.login(t, acc.Email, acc.Password)
	stranger := g.newAccount(t, roleCustomer)

	// Logout ends the current session only, at once.
	expectNoContent(t, g.post(t, "/api/auth/logout", acc.Access, map[string]any{}))
	g.expectTokenRevoked(t, acc.Access)
	expectProblem(t, g.refresh(t, acc.Refresh), http.StatusUnauthorized, "token_revoked")
	expectProblem(t, g.post(t, "/api/auth/logout", acc.Access, map[string]any{}), http.StatusUnauthorized, "token_revoked")
	g.expectTokenWorks(t, second.Tokens.AccessToken)

	// Logout-all ends every session of the user.
	expectNoContent(t, g.post(t, "/api/auth/logout-all", second.Tokens.AccessToken, map[string]any{}))
	g.expectTokenRevoked(t, second.Tokens.AccessToken)
	g.expectTokenRevoked(t, third.Tokens.AccessToken)
	expectProblem(t, g.refresh(t, second.Tokens.RefreshToken), http.StatusUnauthorized, "token_revoked")
	expectProblem(t, g.refresh(t, third.Tokens.RefreshToken), http.StatusUnauthorized, "token_revoked")

	// Nobody else is logged out.
	g.expectTokenWorks(t, stranger.Access)
	// The user can log in again.
	g.expectTokenWorks(t, g.login(t, acc.Email, acc.Password).Tokens.AccessToken)
}

func TestIdentity_RequestIDOnErrors(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)

	r := g.do(t, req{Method: http.MethodGet, Path: "/api/auth/me", Header: map[string]string{"X-Request-ID": "e2e-req_1.A"}})
	p := expectProblem(t, r, http.StatusUnauthorized, "unauthorized")
	assert.Equal(t, "e2e-req_1.A", r.Header.Get("X-Request-ID"), "a sane X-Request-ID is echoed")
	assert.Equal(t, "e2e-req_1.A", p.RequestID)

	for _, bad := range []string{"has space", strings.Repeat("a", 129), "semi;colon"} {
		r := g.do(t, req{Method: http.MethodPost, Path: "/api/auth/login", Body: rawJSON(`{`),
			Header: map[string]string{"X-Request-ID": bad}})
		p := expectProblem(t, r, http.StatusBadRequest, "bad_request")
		assert.NotEqual(t, bad, r.Header.Get("X-Request-ID"), "an insane X-Request-ID is replaced")
		assert.Equal(t, r.Header.Get("X-Request-ID"), p.RequestID)
	}

	// A success and a 204 carry them too (send checks the headers on every call).
	acc := g.newAccount(t, roleCustomer)
	expectNoContent(t, g.post(t, "/api/auth/logout", acc.Access, map[string]any{}))
}

// loopbackNets is TRUSTED_PROXIES = 127.0.0.1/32, ::1/128 (the tests' own peer).
func loopbackNets(t *testing.T) []*net.IPNet {
	t.Helper()
	var out []*net.IPNet
	for _, s := range []string{"127.0.0.1/32", "::1/128"} {
		_, n, err := net.ParseCIDR(s)
		require.NoError(t, err)
		out = append(out, n)
	}
	return out
}
