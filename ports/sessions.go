package ports

//go:generate go run github.com/golang/mock/mockgen -source=sessions.go -destination=mocks/sessions.go -package=mocks

import (
	"context"
	"time"

	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
)

// SessionStore keeps sessions where every gateway instance sees them at once
// (Redis). A session that the store does not know returns session.ErrNotFound.
// Errors reaching the store wrap domain.ErrUnavailable.
//
// Revocation epoch. Ending all of a user's sessions only reaches sessions
// that exist; a login that read the user before a block or role change but
// stores its session after the revocation would survive it. So every user
// has a revocation epoch, a counter that only RevokeAllForUser changes, and
// a session starts like this:
//
//  1. epoch := UserEpoch(user)
//  2. read the user from the database and decide (active? which role? does
//     the password match?)
//  3. Create(session, epoch)
//
// Create stores the session only if the epoch is still the one read in step
// 1; otherwise it stores nothing and returns session.ErrStale, and the
// caller goes back to step 1. The guarantee: once RevokeAllForUser has
// returned nil, no session is live (exceptID aside) whose Create was given
// an epoch read before RevokeAllForUser began; either RevokeAllForUser ended
// it or its Create failed with session.ErrStale. Because step 2 happens
// after step 1, a decision based on the user as it was before a committed
// change never yields a session that outlives the change's revocation.
type SessionStore interface {
	// UserEpoch returns the user's revocation epoch: 0 until the first
	// RevokeAllForUser, then raised by each one. It never goes back, and no
	// clock is involved.
	UserEpoch(ctx context.Context, userID string) (int64, error)
	// Create stores a new session and adds it to its user's set, atomically
	// with checking that the user's epoch still equals epoch (as returned by
	// UserEpoch before the caller read the user). When it does not, nothing
	// live is stored and the error matches session.ErrStale (which wraps
	// domain.ErrConflict); the caller re-reads the user and tries again with
	// a fresh epoch.
	Create(ctx context.Context, s *session.Session, epoch int64) error
	Get(ctx context.Context, id string) (*session.Session, error)
	// Update loads the session, applies fn and saves the result atomically with
	// respect to other Updates of the same session (one of two concurrent
	// refreshes with the same token wins). What fn changed is saved even when fn
	// returns an error, because a domain rule may change state and report it
	// (reuse detection revokes the session and returns session.ErrReuse); that
	// error is then returned.
	Update(ctx context.Context, id string, fn func(s *session.Session) error) (*session.Session, error)
	// Revoke ends one session; ending an ended or unknown session is not an error.
	Revoke(ctx context.Context, id string, now time.Time) error
	// RevokeAllForUser raises the user's revocation epoch, then ends every
	// session of the user except exceptID ("" for none). A Create racing it
	// is either ended by it or fails with session.ErrStale (see above). On an
	// error the epoch may or may not have been raised; calling it again is
	// safe.
	RevokeAllForUser(ctx context.Context, userID, exceptID string, now time.Time) error
	// ListActive returns the user's sessions that have not ended, newest first.
	ListActive(ctx context.Context, userID string, now time.Time) ([]*session.Session, error)
	// CheckAccess is the per-request check behind every bearer token, one
	// round trip to the store: what the session holds when it exists, belongs
	// to userID and has not ended; session.ErrRevoked otherwise (a session
	// the store lost counts as ended).
	CheckAccess(ctx context.Context, sessionID, userID string, now time.Time) (SessionAccess, error)
	// CacheProfile keeps u (what GET /api/auth/me shows) in the session for
	// CheckAccess to return, if the session is still live and its profile
	// generation is still gen (as CheckAccess returned it before u was read
	// from the database); otherwise it does nothing. So a profile read before
	// a change is never cached after that change's ForgetProfiles.
	CacheProfile(ctx context.Context, sessionID string, u *user.User, gen int64) error
	// ForgetProfiles drops the cached profile of every session of the user
	// and raises each one's profile generation. Every change to what `me`
	// shows that does not end the user's sessions calls it after its commit.
	ForgetProfiles(ctx context.Context, userID string) error
}

// SessionAccess is what the per-request check reads from a live session:
// what authorizes the request without the database. It only grows, so that
// a request can be served from the one lookup it already costs.
type SessionAccess struct {
	// Role is the role the session was granted; "" for a session stored
	// before sessions held their role (it authorizes nothing).
	Role user.Role
	// Profile is the user as CacheProfile stored it, nil when none is
	// cached. It holds only what `me` shows: no password hash.
	Profile *user.User
	// ProfileGen is the session's profile generation, for CacheProfile.
	ProfileGen int64
}

// AccessClaims is what an access token asserts.
type AccessClaims struct {
	UserID    string
	Role      user.Role
	SessionID string
	TokenID   string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// TokenIssuer signs and verifies access tokens and makes refresh tokens.
type TokenIssuer interface {
	// IssueAccess signs claims (TokenID, IssuedAt and ExpiresAt are filled in).
	IssueAccess(c AccessClaims) (token string, claims AccessClaims, err error)
	// ParseAccess verifies a token: session.ErrTokenExpired when it is past its
	// expiry, session.ErrTokenInvalid for anything else wrong with it.
	ParseAccess(token string) (AccessClaims, error)
	// NewRefresh makes an opaque refresh token for the session and the hash
	// that is stored instead of it.
	NewRefresh(sessionID string) (token, hash string, err error)
	// ParseRefresh splits a refresh token into its session id and hash;
	// session.ErrTokenInvalid when it is malformed.
	ParseRefresh(token string) (sessionID, hash string, err error)
}

// PasswordHasher hashes passwords with a slow, salted function.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	// Verify reports whether password matches encoded. It takes as long for a
	// mismatch as for a match.
	Verify(ctx context.Context, encoded, password string) (bool, error)
}

// LoginGuard bounds password guessing, in windows shared by every instance:
// failed logins of one email from one client (the client's address, an IPv6
// one cut to its /64), and failed logins of one email from all clients
// together. Past either limit every attempt for the email (from that client,
// or from anywhere) is refused until the window frees up. It fails closed:
// when its store cannot be reached it returns an error wrapping
// domain.ErrUnavailable, and the attempt is refused.
//
// Check reserves the attempt it lets through, so concurrent guesses cannot
// slip past the limits before their failures land; every Check that lets an
// attempt through is settled by one Fail or Reset.
type LoginGuard interface {
	// Check returns the lockout in force for the email and client; the zero
	// Lockout lets the attempt through (and reserves it).
	Check(ctx context.Context, email, client string) (Lockout, error)
	// Fail records a failed attempt and returns the lockout it caused, if any.
	Fail(ctx context.Context, email, client string) (Lockout, error)
	// Reset forgets the pair's failures after a successful login. The email's
	// failures from all clients stay counted: a success from one client says
	// nothing about the guesses from the others.
	Reset(ctx context.Context, email, client string) error
}

// Lockout is a LoginGuard's refusal: how long until an attempt may be made
// again, and the limit that was reached (for RateLimit-Limit). The zero
// value is no refusal.
type Lockout struct {
	RetryAfter time.Duration
	Limit      int
}

// Locked reports whether the attempt is refused.
func (l Lockout) Locked() bool { return l.RetryAfter > 0 }
