package e2e

// Phone login end to end (API.md, "Phone login"): a whole gateway on real
// Postgres and Redis with the console SMS provider, whose one log line per
// text is where the tests read the codes, as a developer would.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/test/testenv"
)

// consoleSMSMessage is the console provider's log message.
const consoleSMSMessage = "sms not sent: console provider (development)"

var codeInText = regexp.MustCompile(`\b(\d{6})\b`)

// phoneGateway is a gateway with the console SMS provider and a Redis prefix
// the test knows, so it can let a cooldown pass (see passCooldown).
type phoneGateway struct {
	*gateway
	redis  goredis.UniversalClient
	prefix string
}

func newPhoneGateway(t *testing.T) *phoneGateway {
	t.Helper()
	client, prefix := testenv.Redis(t)
	cfg := identityConfig(t)
	require.Equal(t, config.SMSConsole, cfg.SMSProvider, "the test configuration texts through the console")
	return &phoneGateway{gateway: startGateway(t, cfg, prefix), redis: client, prefix: prefix}
}

// smsLine is one console provider log line.
type smsLine struct {
	Msg  string `json:"msg"`
	To   string `json:"to"`
	Text string `json:"text"`
}

// texts returns the console provider's lines so far, oldest first.
func (g *phoneGateway) texts(t *testing.T) []smsLine {
	t.Helper()
	var out []smsLine
	sc := bufio.NewScanner(bytes.NewReader(g.Logs.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l smsLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == consoleSMSMessage {
			out = append(out, l)
		}
	}
	return out
}

// askCode asks for a code for phone and returns the answer.
func (g *phoneGateway) askCode(t *testing.T, phone string) response {
	t.Helper()
	return g.post(t, "/api/auth/otp", "", map[string]any{"phone": phone})
}

// code asks for a code for phone, requires the 202, and reads the code from
// the console line texted to it.
func (g *phoneGateway) code(t *testing.T, phone string) string {
	t.Helper()
	before := len(g.texts(t))
	r := g.askCode(t, phone)
	expectJSON(t, r, http.StatusAccepted)
	body := asMap(t, r)
	assertKeys(t, body, []string{"expires_in", "resend_in"}, "otp answer")
	assert.Equal(t, 180.0, body["expires_in"], "OTP_TTL, 3 minutes by default")
	assert.Equal(t, 60.0, body["resend_in"], "the cooldown")
	lines := g.texts(t)
	require.Len(t, lines, before+1, "one text per code")
	last := lines[len(lines)-1]
	assert.Equal(t, phone[1:6]+"***"+phone[len(phone)-4:], last.To, "the number is masked in the log")
	m := codeInText.FindStringSubmatch(last.Text)
	require.NotNil(t, m, "a 6-digit code in %q", last.Text)
	return m[1]
}

// passCooldown stands in for the minute a phone must wait between codes:
// it forgets the phones' sends (not their codes).
func (g *phoneGateway) passCooldown(t *testing.T) {
	t.Helper()
	for _, k := range testenv.RedisKeys(t, g.redis, g.prefix+"otp:") {
		if strings.HasSuffix(k, ":sends") {
			require.NoError(t, g.redis.Del(context.Background(), k).Err())
		}
	}
}

func (g *phoneGateway) verify(t *testing.T, phone, code string) response {
	t.Helper()
	return g.post(t, "/api/auth/otp/verify", "", map[string]any{"phone": phone, "code": code})
}

type phoneLoginResult struct {
	User    userDTO   `json:"user"`
	Tokens  tokensDTO `json:"tokens"`
	Created bool      `json:"created"`
}

func (g *phoneGateway) phoneLogin(t *testing.T, phone string) phoneLoginResult {
	t.Helper()
	r := g.verify(t, phone, g.code(t, phone))
	expectJSON(t, r, http.StatusOK)
	body := asMap(t, r)
	assertKeys(t, body, []string{"user", "tokens", "created"}, "phone login")
	assertUserShape(t, body["user"])
	assertTokensShape(t, body["tokens"], g.Config.AccessTokenTTL)
	return decode[phoneLoginResult](t, r)
}

func TestPhone_SignUpThenLogInAgainToTheSameAccount(t *testing.T) {
	g := newPhoneGateway(t)
	const phone = "+998901110001"

	first := g.phoneLogin(t, phone)
	assert.True(t, first.Created)
	me := asMap(t, g.me(t, first.Tokens.AccessToken))["user"].(map[string]any)
	assert.Nil(t, me["email"], "an account made by phone has no email")
	assert.Equal(t, phone, me["phone"])
	assert.Equal(t, true, me["phone_verified"])
	assert.Equal(t, "", me["full_name"])
	assert.Equal(t, roleCustomer, me["role"])

	g.passCooldown(t)
	second := g.phoneLogin(t, phone)
	assert.False(t, second.Created)
	assert.Equal(t, first.User.ID, second.User.ID, "the same account")
	g.expectTokenWorks(t, first.Tokens.AccessToken)

	// It sets a name and an email; an email another account has is refused.
	other := g.register(t, uniqueEmail("taken"), defaultPassword)
	r := g.do(t, req{Method: http.MethodPatch, Path: "/api/auth/me", Token: second.Tokens.AccessToken,
		Body: map[string]any{"email": strings.ToUpper(other.User.Email)}})
	expectProblem(t, r, http.StatusConflict, "email_taken")
	email := uniqueEmail("by-phone")
	r = g.do(t, req{Method: http.MethodPatch, Path: "/api/auth/me", Token: second.Tokens.AccessToken,
		Body: map[string]any{"full_name": "Aziza Karimova", "email": email}})
	expectJSON(t, r, http.StatusOK)
	u := decode[struct{ User userDTO }](t, r).User
	assert.Equal(t, "Aziza Karimova", u.FullName)
	assert.Equal(t, email, u.Email)

	// No password yet: email/password login fails like a wrong password.
	expectProblem(t, g.loginWith(t, email, defaultPassword, nil), http.StatusUnauthorized, "invalid_credentials")
}

func TestPhone_FiveWrongCodesEndTheCode(t *testing.T) {
	g := newPhoneGateway(t)
	const phone = "+998901110002"
	code := g.code(t, phone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for range 5 {
		expectProblem(t, g.verify(t, phone, wrong), http.StatusUnauthorized, "invalid_credentials")
	}
	expectProblem(t, g.verify(t, phone, code), http.StatusUnauthorized, "invalid_credentials")
	var n int
	require.NoError(t, g.DB.Get(&n, `SELECT count(*) FROM users WHERE phone = $1`, phone))
	assert.Zero(t, n, "no account was made")
}

func TestPhone_ResendTooEarlyIs429WithRetryAfter(t *testing.T) {
	g := newPhoneGateway(t)
	const phone = "+998901110003"
	code := g.code(t, phone)
	r := g.askCode(t, phone)
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	retryAfter(t, r.Header, time.Minute)
	assert.Len(t, g.texts(t), 1, "nothing texted")
	// The refused request did not end the code it would have replaced.
	expectJSON(t, g.verify(t, phone, code), http.StatusOK)

	// Only Uzbek numbers; nothing is texted to others.
	for _, p := range []string{"+79161234567", "998901110003", "+99890111000"} {
		expectValidation(t, g.askCode(t, p), "phone")
	}
	assert.Len(t, g.texts(t), 1)
}

func TestPhone_TypedAtRegistrationIsNotLoggedIntoByCode(t *testing.T) {
	g := newPhoneGateway(t)
	const phone = "+998901110004"
	body := registerBody(uniqueEmail("typed"), defaultPassword)
	body["phone"] = phone
	r := g.post(t, "/api/auth/register", "", body)
	expectJSON(t, r, http.StatusCreated)
	typed := decode[authResult](t, r)
	assert.False(t, asMap(t, r)["user"].(map[string]any)["phone_verified"].(bool))

	res := g.phoneLogin(t, phone)
	assert.True(t, res.Created, "a new account, not the one that typed the phone")
	assert.NotEqual(t, typed.User.ID, res.User.ID)

	// Now verified by another account, the phone cannot be typed again.
	body = registerBody(uniqueEmail("again"), defaultPassword)
	body["phone"] = phone
	expectProblem(t, g.post(t, "/api/auth/register", "", body), http.StatusConflict, "conflict")
}

func TestPhone_PasswordResetByCodeEndsOldSessions(t *testing.T) {
	g := newPhoneGateway(t)
	const phone = "+998901110005"
	first := g.phoneLogin(t, phone)
	email := uniqueEmail("reset")
	r := g.do(t, req{Method: http.MethodPatch, Path: "/api/auth/me", Token: first.Tokens.AccessToken,
		Body: map[string]any{"email": email}})
	expectJSON(t, r, http.StatusOK)

	g.passCooldown(t)
	code := g.code(t, phone)
	// A password the policy refuses does not use the code up.
	expectValidation(t, g.post(t, "/api/auth/password/reset", "",
		map[string]any{"phone": phone, "code": code, "new_password": "short"}), "new_password")
	expectNoContent(t, g.post(t, "/api/auth/password/reset", "",
		map[string]any{"phone": phone, "code": code, "new_password": defaultPassword}))

	g.expectTokenRevoked(t, first.Tokens.AccessToken)
	expectProblem(t, g.refresh(t, first.Tokens.RefreshToken), http.StatusUnauthorized, "token_revoked")
	login := g.login(t, email, defaultPassword)
	assert.Equal(t, first.User.ID, login.User.ID)
	// The code was used.
	expectProblem(t, g.post(t, "/api/auth/password/reset", "",
		map[string]any{"phone": phone, "code": code, "new_password": "Another-Fine-Pass-42"}), http.StatusUnauthorized, "invalid_credentials")
}

func TestPhone_BlockedAccountIs403(t *testing.T) {
	g := newPhoneGateway(t)
	const phone = "+998901110006"
	res := g.phoneLogin(t, phone)
	admin := g.newAccount(t, roleAdmin)
	expectJSON(t, g.patchStatus(t, admin.Access, res.User.ID, map[string]any{"status": "blocked"}), http.StatusOK)
	g.expectTokenRevoked(t, res.Tokens.AccessToken)

	g.passCooldown(t)
	expectProblem(t, g.verify(t, phone, g.code(t, phone)), http.StatusForbidden, "forbidden")
}

// Nothing prints a code but the console provider's one line per text: not
// another log line, not the demo output, not an answer.
func TestPhone_CodesAppearOnlyInTheConsoleLine(t *testing.T) {
	g := newPhoneGateway(t)
	const phone = "+998901110007"
	var answers []string
	res := g.phoneLogin(t, phone)
	g.passCooldown(t)
	code := g.code(t, phone)
	for _, r := range []response{
		g.verify(t, phone, "999999"),
		g.post(t, "/api/auth/password/reset", "", map[string]any{"phone": phone, "code": code, "new_password": defaultPassword}),
		g.post(t, "/api/auth/password/reset", "", map[string]any{"phone": phone, "code": code, "new_password": defaultPassword}),
		g.get(t, "/api/auth/me", res.Tokens.AccessToken),
	} {
		answers = append(answers, string(r.Body))
	}

	texts := g.texts(t)
	require.Len(t, texts, 2)
	var codes []string
	for _, l := range texts {
		codes = append(codes, codeInText.FindStringSubmatch(l.Text)[1])
	}
	sc := bufio.NewScanner(bytes.NewReader(g.Logs.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	consoleLines := 0
	for sc.Scan() {
		line := sc.Text()
		var l smsLine
		require.NoError(t, json.Unmarshal([]byte(line), &l), line)
		if l.Msg == consoleSMSMessage {
			consoleLines++
			continue
		}
		for _, c := range codes {
			// As a word: six digits inside a request id or a timestamp are
			// not the code.
			assert.NotRegexp(t, `\b`+c+`\b`, line, "a code in a log line other than the console provider's")
		}
	}
	assert.Equal(t, 2, consoleLines, "one line per text")
	for _, c := range codes {
		assert.NotContains(t, g.Stdout.String(), c)
		for _, a := range answers {
			assert.NotContains(t, a, c, "a code in an answer")
		}
	}
}
