package jwt_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/jwt"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testsupport"
)

var (
	secret = []byte("test-secret-test-secret-test-secret!")
	t0     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func newIssuer(t *testing.T, mod func(*jwt.Config)) (*jwt.TokenIssuer, *testsupport.Clock) {
	t.Helper()
	c := testsupport.NewClock(t0)
	cfg := jwt.Config{Secret: secret, Issuer: "ultramarket", Audience: "ultramarket-api", TTL: 15 * time.Minute, Now: c.Now}
	if mod != nil {
		mod(&cfg)
	}
	iss, err := jwt.NewTokenIssuer(cfg)
	require.NoError(t, err)
	return iss, c
}

func sampleClaims() ports.AccessClaims {
	return ports.AccessClaims{UserID: uuid.NewString(), Role: user.RoleSeller, SessionID: uuid.NewString()}
}

// signed builds a token with the given method and key and our claims, so a
// test can vary exactly one thing.
func signed(t *testing.T, m jwtlib.SigningMethod, key any, mod func(jwtlib.MapClaims)) string {
	t.Helper()
	c := jwtlib.MapClaims{
		"sub": uuid.NewString(), "role": "customer", "sid": uuid.NewString(), "jti": uuid.NewString(),
		"iat": t0.Unix(), "exp": t0.Add(15 * time.Minute).Unix(), "iss": "ultramarket", "aud": []string{"ultramarket-api"},
	}
	if mod != nil {
		mod(c)
	}
	tok, err := jwtlib.NewWithClaims(m, c).SignedString(key)
	require.NoError(t, err)
	return tok
}

func TestNewTokenIssuer_RefusesBadConfig(t *testing.T) {
	for name, mod := range map[string]func(*jwt.Config){
		"no secret":   func(c *jwt.Config) { c.Secret = nil },
		"no issuer":   func(c *jwt.Config) { c.Issuer = "" },
		"no audience": func(c *jwt.Config) { c.Audience = "" },
		"zero ttl":    func(c *jwt.Config) { c.TTL = 0 },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := jwt.Config{Secret: secret, Issuer: "i", Audience: "a", TTL: time.Minute}
			mod(&cfg)
			_, err := jwt.NewTokenIssuer(cfg)
			assert.Error(t, err)
		})
	}
}

func TestAccess_RoundTrip(t *testing.T) {
	iss, c := newIssuer(t, nil)
	c.Set(t0.Add(123 * time.Millisecond))
	in := sampleClaims()

	tok, out, err := iss.IssueAccess(in)
	require.NoError(t, err)
	assert.Equal(t, in.UserID, out.UserID)
	assert.Equal(t, in.SessionID, out.SessionID)
	assert.Equal(t, in.Role, out.Role)
	assert.NoError(t, uuid.Validate(out.TokenID))
	assert.Equal(t, t0, out.IssuedAt, "whole seconds, as in the token")
	assert.Equal(t, t0.Add(15*time.Minute), out.ExpiresAt)

	got, err := iss.ParseAccess(tok)
	require.NoError(t, err)
	assert.Equal(t, out.UserID, got.UserID)
	assert.Equal(t, out.Role, got.Role)
	assert.Equal(t, out.SessionID, got.SessionID)
	assert.Equal(t, out.TokenID, got.TokenID)
	assert.True(t, out.IssuedAt.Equal(got.IssuedAt))
	assert.True(t, out.ExpiresAt.Equal(got.ExpiresAt))

	// The header names HS256 and the payload carries exactly the agreed claims.
	parsed, _, err := jwtlib.NewParser().ParseUnverified(tok, jwtlib.MapClaims{})
	require.NoError(t, err)
	assert.Equal(t, "HS256", parsed.Header["alg"])
	keys := make([]string, 0)
	for k := range parsed.Claims.(jwtlib.MapClaims) {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"sub", "role", "sid", "jti", "iat", "exp", "iss", "aud"}, keys)
}

func TestAccess_EveryTokenIDDiffers(t *testing.T) {
	iss, _ := newIssuer(t, nil)
	a, ca, err := iss.IssueAccess(sampleClaims())
	require.NoError(t, err)
	b, cb, err := iss.IssueAccess(sampleClaims())
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	assert.NotEqual(t, ca.TokenID, cb.TokenID)
}

func TestIssueAccess_RefusesIncompleteClaims(t *testing.T) {
	iss, _ := newIssuer(t, nil)
	for name, c := range map[string]ports.AccessClaims{
		"no user":    {Role: user.RoleCustomer, SessionID: "s"},
		"no session": {UserID: "u", Role: user.RoleCustomer},
		"bad role":   {UserID: "u", Role: "root", SessionID: "s"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := iss.IssueAccess(c)
			assert.Error(t, err, name)
		})
	}
}

func TestAccess_Expired(t *testing.T) {
	iss, c := newIssuer(t, nil)
	tok, _, err := iss.IssueAccess(sampleClaims())
	require.NoError(t, err)

	c.Set(t0.Add(15*time.Minute - time.Second))
	_, err = iss.ParseAccess(tok)
	require.NoError(t, err)

	c.Set(t0.Add(15 * time.Minute)) // exp is exclusive
	_, err = iss.ParseAccess(tok)
	assert.ErrorIs(t, err, session.ErrTokenExpired)
	assert.NotErrorIs(t, err, session.ErrTokenInvalid)
}

func TestAccess_ExpiredButAlsoWrongIsInvalid(t *testing.T) {
	iss, c := newIssuer(t, nil)
	c.Set(t0.Add(time.Hour))
	tok := signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { m["aud"] = "someone-else" })
	_, err := iss.ParseAccess(tok)
	assert.ErrorIs(t, err, session.ErrTokenInvalid)

	// An expired token with a bad signature must not be reported as merely expired.
	tok = signed(t, jwtlib.SigningMethodHS256, []byte("another key, equally long......."), nil)
	_, err = iss.ParseAccess(tok)
	assert.ErrorIs(t, err, session.ErrTokenInvalid)
}

func TestAccess_Refused(t *testing.T) {
	iss, _ := newIssuer(t, nil)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	good, _, err := iss.IssueAccess(sampleClaims())
	require.NoError(t, err)
	parts := strings.Split(good, ".")
	require.Len(t, parts, 3)

	otherIssuer, _ := newIssuer(t, func(c *jwt.Config) { c.Issuer = "evil" })
	wrongIss, _, err := otherIssuer.IssueAccess(sampleClaims())
	require.NoError(t, err)
	otherAudience, _ := newIssuer(t, func(c *jwt.Config) { c.Audience = "other-service" })
	wrongAud, _, err := otherAudience.IssueAccess(sampleClaims())
	require.NoError(t, err)

	// alg none, built by hand as an attacker would (no signature at all).
	b64 := base64.RawURLEncoding.EncodeToString
	algNone := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	algNoneLib := signed(t, jwtlib.SigningMethodNone, jwtlib.UnsafeAllowNoneSignatureType, nil)
	// The real payload re-signed by the right key but under a header that says HS512.
	hs512 := signed(t, jwtlib.SigningMethodHS512, secret, nil)

	cases := map[string]string{
		"empty":              "",
		"garbage":            "not a token",
		"two segments":       parts[0] + "." + parts[1],
		"four segments":      good + ".x",
		"bad base64":         parts[0] + ".%%%." + parts[2],
		"json array payload": parts[0] + "." + b64([]byte(`[1,2]`)) + "." + parts[2],
		"alg none":           algNone,
		"alg none (lib)":     algNoneLib,
		"other key":          signed(t, jwtlib.SigningMethodHS256, []byte("another key, equally long......."), nil),
		"RS256":              signed(t, jwtlib.SigningMethodRS256, rsaKey, nil),
		"HS512 same secret":  hs512,
		"tampered payload":   parts[0] + "." + b64([]byte(`{"sub":"x","role":"super_admin"}`)) + "." + parts[2],
		"tampered signature": parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"wrong iss":          wrongIss,
		"wrong aud":          wrongAud,
		"no exp":             signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { delete(m, "exp") }),
		"no iat":             signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { delete(m, "iat") }),
		"no iss":             signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { delete(m, "iss") }),
		"no aud":             signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { delete(m, "aud") }),
		"no sub":             signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { delete(m, "sub") }),
		"no sid":             signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { delete(m, "sid") }),
		"no jti":             signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { delete(m, "jti") }),
		"unknown role":       signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { m["role"] = "root" }),
		"role wrong type":    signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { m["role"] = 7 }),
		"exp wrong type":     signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { m["exp"] = "tomorrow" }),
		"iat in the future":  signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { m["iat"] = t0.Add(time.Hour).Unix() }),
		"exp before iat":     signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { m["exp"] = t0.Add(-time.Second).Unix() }),
		"nbf in the future":  signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) { m["nbf"] = t0.Add(time.Hour).Unix() }),
		"oversized":          good + strings.Repeat("A", 5000),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := iss.ParseAccess(tok)
			require.ErrorIs(t, err, session.ErrTokenInvalid)
			assert.Equal(t, session.ErrTokenInvalid.Error(), err.Error(), "no library message leaks")
		})
	}
}

func TestAccess_AudienceAmongOthers(t *testing.T) {
	iss, _ := newIssuer(t, nil)
	tok := signed(t, jwtlib.SigningMethodHS256, secret, func(m jwtlib.MapClaims) {
		m["aud"] = []string{"something-else", "ultramarket-api"}
	})
	_, err := iss.ParseAccess(tok)
	assert.NoError(t, err)
}

func TestAccess_SmallClockSkewTolerated(t *testing.T) {
	iss, c := newIssuer(t, nil)
	tok, _, err := iss.IssueAccess(sampleClaims())
	require.NoError(t, err)
	c.Set(t0.Add(-5 * time.Second)) // another instance whose clock is behind
	_, err = iss.ParseAccess(tok)
	assert.NoError(t, err)
}

func TestRefresh_RoundTrip(t *testing.T) {
	iss, _ := newIssuer(t, nil)
	sid := uuid.NewString()

	tok, hash, err := iss.NewRefresh(sid)
	require.NoError(t, err)
	prefix, rest, ok := strings.Cut(tok, ".")
	require.True(t, ok)
	assert.Equal(t, sid, prefix)
	assert.Len(t, rest, 43)
	assert.Len(t, hash, 64)
	assert.NotContains(t, hash, rest)

	gotSID, gotHash, err := iss.ParseRefresh(tok)
	require.NoError(t, err)
	assert.Equal(t, sid, gotSID)
	assert.Equal(t, hash, gotHash, "hash is deterministic")

	_, gotHash2, err := iss.ParseRefresh(tok)
	require.NoError(t, err)
	assert.Equal(t, gotHash, gotHash2)

	tok2, hash2, err := iss.NewRefresh(sid)
	require.NoError(t, err)
	assert.NotEqual(t, tok, tok2)
	assert.NotEqual(t, hash, hash2)
}

func TestRefresh_KnownHash(t *testing.T) {
	iss, _ := newIssuer(t, nil)
	// SHA-256 of the whole token string, hex: fixed so a format change is noticed.
	tok := "0b7d9f4e-2a47-4c8e-9a3e-5d1c2b3a4f50." + strings.Repeat("A", 43)
	_, hash, err := iss.ParseRefresh(tok)
	require.NoError(t, err)
	assert.Equal(t, "8dee131116907892d4babd71c3f8664138086ca59a4b603d5e1cadefdc9fda34", hash)
}

func TestNewRefresh_RefusesBadSessionID(t *testing.T) {
	iss, _ := newIssuer(t, nil)
	for _, sid := range []string{"", "abc", strings.ToUpper(uuid.NewString()), "{" + uuid.NewString() + "}"} {
		_, _, err := iss.NewRefresh(sid)
		assert.Error(t, err, sid)
	}
}

func TestParseRefresh_Malformed(t *testing.T) {
	iss, _ := newIssuer(t, nil)
	good, _, err := iss.NewRefresh(uuid.NewString())
	require.NoError(t, err)
	sid, secretPart, _ := strings.Cut(good, ".")

	// Flip the last character to one whose unused low bits are set.
	lastBitsSet := secretPart[:42] + "B"
	if secretPart[42] == 'B' {
		lastBitsSet = secretPart[:42] + "C"
	}

	cases := map[string]string{
		"empty":              "",
		"no dot":             sid + secretPart,
		"short secret":       sid + "." + secretPart[:42],
		"long secret":        sid + "." + secretPart + "A",
		"padded":             sid + "." + secretPart + "=",
		"std alphabet":       sid + "." + "+" + secretPart[1:],
		"slash":              sid + "." + "/" + secretPart[1:],
		"newline":            sid + "." + secretPart[:20] + "\n" + secretPart[21:],
		"non-canonical tail": sid + "." + lastBitsSet,
		"two dots":           sid + "." + secretPart + ".x",
		"uppercase sid":      strings.ToUpper(sid) + "." + secretPart,
		"short sid":          sid[:35] + "." + secretPart,
		"sid without dashes": strings.ReplaceAll(sid, "-", "") + "." + secretPart,
		"sid not hex":        "g" + sid[1:] + "." + secretPart,
		"empty sid":          "." + secretPart,
		"empty secret":       sid + ".",
		"access token shape": "a.b.c",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			gotSID, hash, err := iss.ParseRefresh(tok)
			require.ErrorIs(t, err, session.ErrTokenInvalid)
			assert.Empty(t, gotSID)
			assert.Empty(t, hash)
		})
	}
}
