package jwt_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ultramarket/gateway/adapters/jwt"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// The fuzz targets verify with this key at this instant; the seed tokens in
// testdata/fuzz were issued with it at fuzzNow.
var (
	fuzzKey  = []byte("fuzz-secret-fuzz-secret-fuzz-secret!!")
	otherKey = []byte("not-the-key-not-the-key-not-the-key!!")
	fuzzNow  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fuzzIss  = "ultramarket"
	fuzzAud  = "ultramarket-api"
	b64      = base64.RawURLEncoding
)

func fuzzIssuer(tb testing.TB) *jwt.TokenIssuer {
	iss, err := jwt.NewTokenIssuer(jwt.Config{Secret: fuzzKey, Issuer: fuzzIss, Audience: fuzzAud, TTL: 15 * time.Minute,
		Now: func() time.Time { return fuzzNow }})
	if err != nil {
		tb.Fatal(err)
	}
	return iss
}

// hs256 is the signature part of header.payload under key, computed
// independently of the library.
func hs256(key []byte, signingInput string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signingInput))
	return b64.EncodeToString(mac.Sum(nil))
}

// checkParsed checks one ParseAccess outcome: only the two errors the port
// names, and an accepted token is one signed with fuzzKey under HS256
// whose claims are complete and current.
func checkParsed(t *testing.T, token string, c ports.AccessClaims, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, session.ErrTokenInvalid) && !errors.Is(err, session.ErrTokenExpired) {
			t.Fatalf("ParseAccess(%q) returned %v: only ErrTokenInvalid or ErrTokenExpired may leave it", token, err)
		}
		if c != (ports.AccessClaims{}) {
			t.Fatalf("claims returned with an error for %q: %+v", token, c)
		}
		return
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("accepted a token of %d parts: %q", len(parts), token)
	}
	if !hmac.Equal([]byte(parts[2]), []byte(hs256(fuzzKey, parts[0]+"."+parts[1]))) {
		t.Fatalf("accepted a token not signed with the key: %q", token)
	}
	var header map[string]any
	raw, derr := b64.DecodeString(parts[0])
	if derr != nil || json.Unmarshal(raw, &header) != nil || header["alg"] != "HS256" {
		t.Fatalf("accepted a token whose header is not alg HS256: %q", token)
	}
	if _, rerr := user.ParseRole(string(c.Role)); rerr != nil || c.UserID == "" || c.SessionID == "" || c.TokenID == "" {
		t.Fatalf("accepted incomplete claims %+v from %q", c, token)
	}
	if !c.ExpiresAt.After(fuzzNow) || c.IssuedAt.After(fuzzNow.Add(time.Minute)) || !c.ExpiresAt.After(c.IssuedAt) {
		t.Fatalf("accepted claims outside their time %+v from %q", c, token)
	}
}

// FuzzParseAccess feeds arbitrary strings to ParseAccess, then the same
// header and payload re-signed with another key and with alg none. It never
// panics, answers only ErrTokenInvalid or ErrTokenExpired, and never accepts
// a token whose signature is not HS256 with the key (checked independently
// with crypto/hmac). The seed corpus is in testdata/fuzz/FuzzParseAccess.
func FuzzParseAccess(f *testing.F) {
	iss := fuzzIssuer(f)
	valid, _, err := iss.IssueAccess(ports.AccessClaims{UserID: "6f1c9a52-3b7e-4d0a-9c1e-2a4b5c6d7e8f",
		Role: user.RoleCustomer, SessionID: "0b5e7d3a-1c2f-4e6a-8b9d-0c1e2f3a4b5c"})
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(valid, ".")
	for _, seed := range []string{
		valid, "", ".", "..", "a.b.c", parts[0] + "." + parts[1] + ".",
		b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".",
		parts[0] + "." + parts[1] + "." + hs256(otherKey, parts[0]+"."+parts[1]),
		parts[0] + "=." + parts[1] + "." + parts[2], valid + ".x", strings.Repeat("a", 5000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := iss.ParseAccess(token)
		checkParsed(t, token, c, err)

		head, payload, ok := strings.Cut(token, ".")
		payload, _, _ = strings.Cut(payload, ".")
		if !ok {
			return
		}
		for _, forged := range []string{
			head + "." + payload + "." + hs256(otherKey, head+"."+payload),
			head + "." + payload + ".",
			b64.EncodeToString([]byte(`{"alg":"none"}`)) + "." + payload + ".",
		} {
			if _, err := iss.ParseAccess(forged); !errors.Is(err, session.ErrTokenInvalid) {
				t.Fatalf("a token not signed with the key must be ErrTokenInvalid, got %v for %q", err, forged)
			}
		}
	})
}

// FuzzParseAccessSigned signs arbitrary headers and payloads correctly with
// the key, so the fuzzer explores the claim checks behind the signature:
// whatever it accepts has alg HS256, our iss and aud, a known role, a
// subject, session and id, and is current at fuzzNow (checked with
// encoding/json, not the library). The same token under another key is
// always refused. The seed corpus is in testdata/fuzz/FuzzParseAccessSigned.
func FuzzParseAccessSigned(f *testing.F) {
	iss := fuzzIssuer(f)
	good := `{"sub":"u1","role":"seller","sid":"s1","jti":"j1","iat":1772366400,"exp":1772367300,"iss":"ultramarket","aud":["ultramarket-api"]}`
	for _, seed := range [][2]string{
		{`{"alg":"HS256","typ":"JWT"}`, good},
		{`{"alg":"HS256"}`, strings.Replace(good, `["ultramarket-api"]`, `"ultramarket-api"`, 1)},
		{`{"alg":"HS384","typ":"JWT"}`, good},
		{`{"alg":"none"}`, good},
		{`{"alg":"HS256","typ":"JWT"}`, strings.Replace(good, `"seller"`, `"root"`, 1)},
		{`{"alg":"HS256","typ":"JWT"}`, strings.Replace(good, `1772367300`, `1772366400`, 1)},
		{`{"alg":"HS256","typ":"JWT"}`, strings.Replace(good, `"iss":"ultramarket"`, `"iss":"evil"`, 1)},
		{`{"alg":"HS256","typ":"JWT"}`, strings.Replace(good, `1772366400`, `1772366400.5`, 1)},
		{`{"alg":"HS256","typ":"JWT"}`, `{"sub":"u1","role":"seller","sid":"s1","jti":"j1","iat":1772366400,"exp":1e30,"iss":"ultramarket","aud":"ultramarket-api","nbf":1772366400}`},
		{`{"alg":"HS256","alg":"none"}`, good}, {`[]`, `null`}, {``, ``},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
		token := input + "." + hs256(fuzzKey, input)
		c, err := iss.ParseAccess(token)
		checkParsed(t, token, c, err)
		if err == nil {
			var claims struct {
				Sub, Role, Sid, Jti, Iss string
				Aud                      any
			}
			if json.Unmarshal(payload, &claims) != nil || claims.Iss != fuzzIss || claims.Sub != c.UserID ||
				claims.Sid != c.SessionID || claims.Jti != c.TokenID || claims.Role != string(c.Role) {
				t.Fatalf("accepted claims %+v that the payload does not say: %s", c, payload)
			}
			if aud, _ := claims.Aud.(string); aud != fuzzAud {
				list, _ := claims.Aud.([]any)
				found := false
				for _, a := range list {
					found = found || a == fuzzAud
				}
				if !found {
					t.Fatalf("accepted a token without our audience: %s", payload)
				}
			}
		}
		forged := input + "." + hs256(otherKey, input)
		if _, err := iss.ParseAccess(forged); !errors.Is(err, session.ErrTokenInvalid) {
			t.Fatalf("a token signed with another key must be ErrTokenInvalid, got %v for %q", err, forged)
		}
	})
}

// FuzzParseRefresh feeds arbitrary strings to ParseRefresh. It never panics;
// a refusal is ErrTokenInvalid with nothing else; an acceptance is exactly
// "<canonical lower-case UUID>.<43 base64url chars of 32 bytes>" in its one
// spelling (re-encoding the bytes gives it back), and the hash is the hex
// SHA-256 of the whole token. Tokens NewRefresh makes always parse back.
// The seed corpus is in testdata/fuzz/FuzzParseRefresh.
func FuzzParseRefresh(f *testing.F) {
	iss := fuzzIssuer(f)
	made, _, err := iss.NewRefresh("0b5e7d3a-1c2f-4e6a-8b9d-0c1e2f3a4b5c")
	if err != nil {
		f.Fatal(err)
	}
	sid, secretPart, _ := strings.Cut(made, ".")
	for _, seed := range []string{
		made, "", ".", sid + ".", "." + secretPart, strings.ToUpper(sid) + "." + secretPart,
		"{" + sid + "}." + secretPart, sid + "." + secretPart[:42] + "B", sid + "." + secretPart + "=",
		sid + "." + secretPart + "." + secretPart, strings.ReplaceAll(sid, "-", "") + "." + secretPart,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		sid, hash, err := iss.ParseRefresh(token)
		if err != nil {
			if !errors.Is(err, session.ErrTokenInvalid) || sid != "" || hash != "" {
				t.Fatalf("ParseRefresh(%q) = %q, %q, %v: a refusal is ErrTokenInvalid alone", token, sid, hash, err)
			}
		} else {
			id, secretPart, ok := strings.Cut(token, ".")
			if !ok || id != sid || !canonicalUUID(id) {
				t.Fatalf("accepted %q with session id %q", token, sid)
			}
			b, derr := b64.Strict().DecodeString(secretPart)
			if derr != nil || len(b) != 32 || b64.EncodeToString(b) != secretPart {
				t.Fatalf("accepted %q whose secret is not one spelling of 32 bytes", token)
			}
			sum := sha256.Sum256([]byte(token))
			if hash != hex.EncodeToString(sum[:]) {
				t.Fatalf("hash of %q is %q", token, hash)
			}
		}

		// Whatever the input, a token made for a canonical id parses back.
		if canonicalUUID(token) {
			made, wantHash, err := iss.NewRefresh(token)
			if err != nil {
				t.Fatalf("NewRefresh(%q): %v", token, err)
			}
			gotSID, gotHash, err := iss.ParseRefresh(made)
			if err != nil || gotSID != token || gotHash != wantHash {
				t.Fatalf("NewRefresh(%q) = %q does not parse back: %q %q %v", token, made, gotSID, gotHash, err)
			}
		}
	})
}

// canonicalUUID is the lower-case 8-4-4-4-12 form, written independently of
// the adapter.
func canonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		default:
			return false
		}
	}
	return true
}
