// Package jwt signs and verifies access tokens (HS256 JWTs) and makes the
// opaque refresh tokens, behind ports.TokenIssuer.
package jwt

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

var _ ports.TokenIssuer = (*TokenIssuer)(nil)

const (
	algorithm = "HS256"
	// maxTokenLen refuses oversized input before any decoding; a real token of
	// ours is about 400 bytes.
	maxTokenLen = 4096
	// issuedAtSkew tolerates clocks of gateway instances that differ a little:
	// a token issued by one instance must verify on another at once.
	issuedAtSkew = time.Minute

	refreshSecretBytes = 32
	refreshSecretLen   = 43 // unpadded base64url of 32 bytes
)

// Config configures a TokenIssuer. Secret is the HS256 key; JWT_SECRET's
// length and value are checked by the configuration at start-up.
type Config struct {
	Secret   []byte
	Issuer   string
	Audience string
	TTL      time.Duration    // access token lifetime
	Now      func() time.Time // nil means time.Now
}

// TokenIssuer implements ports.TokenIssuer.
type TokenIssuer struct {
	secret   []byte
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
	parser   *jwtlib.Parser
}

// claims is the access token's payload: the registered claims plus the
// user's role and the session the token belongs to.
type claims struct {
	jwtlib.RegisteredClaims
	Role string `json:"role"`
	SID  string `json:"sid"`
}

// NewTokenIssuer checks cfg and returns an issuer.
func NewTokenIssuer(cfg Config) (*TokenIssuer, error) {
	switch {
	case len(cfg.Secret) == 0:
		return nil, errors.New("jwt: secret must not be empty")
	case cfg.Issuer == "":
		return nil, errors.New("jwt: issuer must not be empty")
	case cfg.Audience == "":
		return nil, errors.New("jwt: audience must not be empty")
	case cfg.TTL <= 0:
		return nil, errors.New("jwt: access token ttl must be positive")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &TokenIssuer{
		secret:   slices.Clone(cfg.Secret),
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		ttl:      cfg.TTL,
		now:      now,
		// Claims are checked by hand in ParseAccess so that "expired" is only
		// reported for a token with nothing else wrong with it; the library
		// checks the algorithm and the signature.
		parser: jwtlib.NewParser(
			jwtlib.WithValidMethods([]string{algorithm}),
			jwtlib.WithoutClaimsValidation(),
			jwtlib.WithStrictDecoding(),
		),
	}, nil
}

// IssueAccess signs c for the issuer's ttl. Times are whole seconds, as a
// JWT carries them, so the returned claims equal what ParseAccess returns.
func (i *TokenIssuer) IssueAccess(c ports.AccessClaims) (string, ports.AccessClaims, error) {
	if c.UserID == "" || c.SessionID == "" {
		return "", ports.AccessClaims{}, errors.New("jwt: access claims need a user id and a session id")
	}
	if _, err := user.ParseRole(string(c.Role)); err != nil {
		return "", ports.AccessClaims{}, fmt.Errorf("jwt: access claims role: %w", err)
	}
	c.TokenID = uuid.NewString()
	c.IssuedAt = i.now().Truncate(time.Second)
	c.ExpiresAt = c.IssuedAt.Add(i.ttl)

	tok := jwtlib.NewWithClaims(jwtlib.SigningMethodHS256, claims{
		RegisteredClaims: jwtlib.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   c.UserID,
			Audience:  jwtlib.ClaimStrings{i.audience},
			ExpiresAt: jwtlib.NewNumericDate(c.ExpiresAt),
			IssuedAt:  jwtlib.NewNumericDate(c.IssuedAt),
			ID:        c.TokenID,
		},
		Role: string(c.Role),
		SID:  c.SessionID,
	})
	signed, err := tok.SignedString(i.secret)
	if err != nil {
		return "", ports.AccessClaims{}, fmt.Errorf("jwt: sign access token: %w", err)
	}
	return signed, c, nil
}

// ParseAccess verifies signature, algorithm, iss, aud, iat and exp. It
// returns only session.ErrTokenExpired or session.ErrTokenInvalid: what the
// library or the token says is never passed on.
func (i *TokenIssuer) ParseAccess(token string) (ports.AccessClaims, error) {
	if token == "" || len(token) > maxTokenLen {
		return ports.AccessClaims{}, session.ErrTokenInvalid
	}
	var cl claims
	_, err := i.parser.ParseWithClaims(token, &cl, func(t *jwtlib.Token) (any, error) {
		// WithValidMethods already pinned the name; this also pins the type.
		if t.Method != jwtlib.SigningMethodHS256 {
			return nil, errors.New("unexpected signing method")
		}
		return i.secret, nil
	})
	if err != nil {
		return ports.AccessClaims{}, session.ErrTokenInvalid
	}

	role, err := user.ParseRole(cl.Role)
	now := i.now()
	switch {
	case err != nil,
		cl.Issuer != i.issuer,
		!slices.Contains(cl.Audience, i.audience),
		cl.Subject == "", cl.SID == "", cl.ID == "",
		cl.IssuedAt == nil, cl.ExpiresAt == nil,
		cl.IssuedAt.After(now.Add(issuedAtSkew)),
		!cl.ExpiresAt.After(cl.IssuedAt.Time),
		cl.NotBefore != nil && cl.NotBefore.After(now.Add(issuedAtSkew)):
		return ports.AccessClaims{}, session.ErrTokenInvalid
	case !now.Before(cl.ExpiresAt.Time):
		return ports.AccessClaims{}, session.ErrTokenExpired
	}
	return ports.AccessClaims{
		UserID:    cl.Subject,
		Role:      role,
		SessionID: cl.SID,
		TokenID:   cl.ID,
		IssuedAt:  cl.IssuedAt.Time,
		ExpiresAt: cl.ExpiresAt.Time,
	}, nil
}

// NewRefresh returns "<sessionID>.<43 chars of base64url>" (32 random bytes)
// and the hex SHA-256 of the whole token, which is all the store keeps.
func (i *TokenIssuer) NewRefresh(sessionID string) (token, hash string, err error) {
	if !isSessionID(sessionID) {
		return "", "", errors.New("jwt: refresh token needs a canonical uuid session id")
	}
	secret := make([]byte, refreshSecretBytes)
	if _, err := rand.Read(secret); err != nil {
		return "", "", fmt.Errorf("jwt: read random bytes: %w", err)
	}
	token = sessionID + "." + base64.RawURLEncoding.EncodeToString(secret)
	return token, hashRefresh(token), nil
}

// ParseRefresh checks the shape of a refresh token and returns its session id
// and hash; whether the hash is the session's is for the session to say.
func (i *TokenIssuer) ParseRefresh(token string) (sessionID, hash string, err error) {
	sid, secret, ok := strings.Cut(token, ".")
	if !ok || !isSessionID(sid) || len(secret) != refreshSecretLen || !isBase64URL(secret) {
		return "", "", session.ErrTokenInvalid
	}
	// Strict also refuses a last character whose unused bits are set, so one
	// token has exactly one spelling.
	if b, err := base64.RawURLEncoding.Strict().DecodeString(secret); err != nil || len(b) != refreshSecretBytes {
		return "", "", session.ErrTokenInvalid
	}
	return sid, hashRefresh(token), nil
}

func hashRefresh(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// isSessionID accepts an id (domain.IsID) in the lower-case form the id
// generator makes, and no other spelling of it: the token is compared as
// text.
func isSessionID(s string) bool {
	id, ok := domain.ParseID(s)
	return ok && id == s
}

func isBase64URL(s string) bool {
	for _, c := range []byte(s) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
