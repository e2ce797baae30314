// Package session holds one login on one device: the role it was granted,
// its refresh-token family, reuse detection (a replayed refresh token ends the
// whole session) and the errors the token layer reports.
package session

import (
	"cmp"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
)

var (
	ErrNotFound = fmt.Errorf("session: %w", domain.ErrNotFound)
	// ErrRevoked is an ended session (API code token_revoked).
	ErrRevoked = fmt.Errorf("session: revoked: %w", domain.ErrUnauthorized)
	// ErrReuse wraps ErrRevoked because a replayed token is answered exactly
	// like an ended session, but the caller may want to log it as theft.
	ErrReuse = fmt.Errorf("session: refresh token reused, session revoked: %w", ErrRevoked)
	// ErrExpired wraps ErrRevoked: an expired session is an ended one.
	ErrExpired = fmt.Errorf("session: expired: %w", ErrRevoked)
	// ErrUnknownToken is a token this session never issued (API code unauthorized).
	ErrUnknownToken = fmt.Errorf("session: unknown refresh token: %w", domain.ErrUnauthorized)

	// ErrTokenExpired is an access token past its exp (API code token_expired).
	ErrTokenExpired = fmt.Errorf("session: access token expired: %w", domain.ErrUnauthorized)
	// ErrTokenInvalid is a malformed or forged access token (API code unauthorized).
	ErrTokenInvalid = fmt.Errorf("session: access token invalid: %w", domain.ErrUnauthorized)
	// ErrRoleMismatch is a well-signed access token whose role is not the one
	// its session holds: forged with a leaked key, or left over from before a
	// role change. It is answered like any invalid token (API code unauthorized).
	ErrRoleMismatch = fmt.Errorf("session: the token's role is not its session's: %w", ErrTokenInvalid)
	// ErrRoleChanged ends a session whose user no longer has the role it was
	// granted: a role change ends the user's sessions, and this catches one
	// that outlived a failed revoke.
	ErrRoleChanged = fmt.Errorf("session: the user's role changed: %w", ErrRevoked)
)

const (
	maxUserAgentBytes = 512
	// maxUsedHashes bounds the stored family; a token older than the last 64
	// rotations is reported as unknown instead of as reuse.
	maxUsedHashes = 64
)

// Session stores only hashes of refresh tokens, so a leaked row cannot be
// replayed.
//
// It holds the role its user had at login, and that role, not the claim of a
// token, is what authorizes a request: a token can be forged by whoever has
// the signing key, a session cannot. A role change ends the user's sessions,
// so a live session's role is the user's current one.
type Session struct {
	id, userID, userAgent, ip, currentHash      string
	role                                        user.Role
	usedHashes                                  []string
	createdAt, lastUsedAt, expiresAt, revokedAt time.Time
}

// Lifetime bounds how long a session lives: TTL after its login and after
// each refresh, but never more than MaxAge after its login, however often it
// is refreshed (SESSION_MAX_AGE). Without the bound a stolen refresh token,
// used now and then, would keep a session alive for ever.
type Lifetime struct {
	TTL    time.Duration
	MaxAge time.Duration
}

// expiry is when a session that began at createdAt and is (re)issued a token
// at now ends.
func (l Lifetime) expiry(createdAt, now time.Time) time.Time {
	return minTime(now.Add(l.TTL), createdAt.Add(l.MaxAge))
}

// New starts a session of a user with role that lives life.TTL from now
// unless rotated, and at most life.MaxAge.
func New(id, userID string, role user.Role, refreshHash, userAgent, ip string, now time.Time, life Lifetime) (*Session, error) {
	verr := &domain.ValidationError{}
	if id == "" {
		verr.Add("id", domain.MsgNotEmpty)
	}
	if userID == "" {
		verr.Add("user_id", domain.MsgNotEmpty)
	}
	if _, err := user.ParseRole(string(role)); err != nil {
		verr.Add("role", domain.MsgOneOf, domain.Args{"Values": "customer, seller, admin, super_admin"})
	}
	if refreshHash == "" {
		verr.Add("refresh_token", domain.MsgNotEmpty)
	}
	if life.TTL <= 0 {
		verr.Add("ttl", domain.MsgPositive)
	}
	if life.MaxAge <= 0 {
		verr.Add("max_age", domain.MsgPositive)
	}
	if err := verr.OrNil(); err != nil {
		return nil, err
	}
	return &Session{
		id: id, userID: userID, role: role, userAgent: truncateUTF8(userAgent, maxUserAgentBytes), ip: ip,
		currentHash: refreshHash, createdAt: now, lastUsedAt: now, expiresAt: life.expiry(now, now),
	}, nil
}

// Restore rebuilds a stored session; adapters only. role is "" for a session
// stored before sessions held their role: such a session authorizes nothing
// until a refresh gives it its user's role (see Rotate).
func Restore(id, userID string, role user.Role, userAgent, ip, currentHash string, usedHashes []string, createdAt, lastUsedAt, expiresAt, revokedAt time.Time) *Session {
	return &Session{
		id: id, userID: userID, role: role, userAgent: userAgent, ip: ip, currentHash: currentHash,
		usedHashes: slices.Clone(usedHashes),
		createdAt:  createdAt, lastUsedAt: lastUsedAt, expiresAt: expiresAt, revokedAt: revokedAt,
	}
}

func (s *Session) ID() string            { return s.id }
func (s *Session) UserID() string        { return s.userID }
func (s *Session) Role() user.Role       { return s.role }
func (s *Session) UserAgent() string     { return s.userAgent }
func (s *Session) IP() string            { return s.ip }
func (s *Session) CurrentHash() string   { return s.currentHash }
func (s *Session) UsedHashes() []string  { return slices.Clone(s.usedHashes) }
func (s *Session) CreatedAt() time.Time  { return s.createdAt }
func (s *Session) LastUsedAt() time.Time { return s.lastUsedAt }
func (s *Session) ExpiresAt() time.Time  { return s.expiresAt }
func (s *Session) RevokedAt() time.Time  { return s.revokedAt }

// IsRevoked reports an explicit end (logout, reuse, password change, ...).
func (s *Session) IsRevoked() bool { return !s.revokedAt.IsZero() }

// IsActive is what access-token checks ask: the session must be neither
// revoked nor past its expiry.
func (s *Session) IsActive(now time.Time) bool {
	return !s.IsRevoked() && now.Before(s.expiresAt)
}

// Rotate exchanges the presented refresh token for newHash. A token that was
// already exchanged means two parties hold the family, so the whole session
// ends rather than guessing which one is legitimate.
//
// role is the user's role now. A session granted another role ends
// (ErrRoleChanged): its tokens would authorize what the user may no longer
// do. A session stored without a role (from before sessions held one) takes
// this one.
//
// The new expiry is life.TTL from now, cut at life.MaxAge after the login; a
// session past that age is expired even if it was stored with a later expiry
// (by a process with a longer SESSION_MAX_AGE).
func (s *Session) Rotate(presentedHash, newHash string, role user.Role, now time.Time, life Lifetime) error {
	if s.IsRevoked() {
		return ErrRevoked
	}
	if !now.Before(minTime(s.expiresAt, s.createdAt.Add(life.MaxAge))) {
		return ErrExpired
	}
	switch {
	case presentedHash != "" && presentedHash == s.currentHash:
		// Only the holder of the current token can end the session this way.
		if s.role != "" && s.role != role {
			s.Revoke(now)
			return ErrRoleChanged
		}
		s.role = role
		s.usedHashes = append(s.usedHashes, s.currentHash)
		if n := len(s.usedHashes); n > maxUsedHashes {
			s.usedHashes = slices.Clone(s.usedHashes[n-maxUsedHashes:])
		}
		s.currentHash = newHash
		s.lastUsedAt = now
		s.expiresAt = life.expiry(s.createdAt, now)
		return nil
	case presentedHash != "" && slices.Contains(s.usedHashes, presentedHash):
		s.Revoke(now)
		return ErrReuse
	}
	return ErrUnknownToken
}

// Revoke ends the session; the first end time is kept so a later logout
// does not rewrite when the session really ended.
func (s *Session) Revoke(now time.Time) {
	if s.revokedAt.IsZero() {
		s.revokedAt = now
	}
}

// Touch records activity for the session list without extending the expiry.
func (s *Session) Touch(now time.Time) { s.lastUsedAt = now }

// LeastRecentlyUsedFirst orders sessions by which ends first when a user has
// too many: the one used least recently (last use counts to the millisecond,
// as the store keeps it), on a tie the older one, then by id, so that every
// instance, and two logins racing, pick the same.
func LeastRecentlyUsedFirst(a, b *Session) int {
	return cmp.Or(
		cmp.Compare(a.lastUsedAt.UnixMilli(), b.lastUsedAt.UnixMilli()),
		cmp.Compare(a.createdAt.UnixMilli(), b.createdAt.UnixMilli()),
		cmp.Compare(a.id, b.id),
	)
}

// Excess returns the sessions of live to end so that at most maxLive remain:
// the least recently used ones (LeastRecentlyUsedFirst), none when there are
// not more than maxLive. live must hold one user's live sessions.
func Excess(live []*Session, maxLive int) []*Session {
	if maxLive < 0 || len(live) <= maxLive {
		return nil
	}
	sorted := slices.Clone(live)
	slices.SortFunc(sorted, LeastRecentlyUsedFirst)
	return sorted[:len(sorted)-maxLive]
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// truncateUTF8 cuts at a rune boundary so a stored user agent is never
// invalid UTF-8.
func truncateUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
