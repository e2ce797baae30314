package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// startAttempts bounds how often a session start is retried after the user's
// sessions were revoked under it: once is enough for one block or role
// change; more in a row means something keeps revoking, and the client is
// better told to come back than kept waiting.
const startAttempts = 2

// SessionPolicy bounds sessions: how long each lives (REFRESH_TOKEN_TTL,
// SESSION_MAX_AGE) and how many one user may have (SESSION_MAX_PER_USER).
type SessionPolicy struct {
	Lifetime session.Lifetime
	// MaxPerUser is how many live sessions a user may have; a login beyond
	// it ends the least recently used ones. Without a bound, every login
	// adds a record that lives as long as its refresh tokens do, and a
	// script logging in in a loop fills Redis.
	MaxPerUser int
}

// sessionStarter opens a session for a user who just proved who they are
// (register, login) and hands out its first token pair.
type sessionStarter struct {
	sessions ports.SessionStore
	tokens   ports.TokenIssuer
	ids      ports.IDGenerator
	clock    ports.Clock
	life     session.Lifetime
	// maxPerUser bounds the user's live sessions once the new one is stored
	// (see endExcess); 0 leaves them alone, for a new account, which has no
	// other session.
	maxPerUser int
}

// loadUser returns the user a session is to start for, as the database has
// it now, or the error that forbids the session (blocked, password no longer
// matching, ...). It runs after the user's revocation epoch was read, so the
// decision it makes is on state no older than that epoch. attempt counts from
// 0; a later attempt runs because the user's sessions were revoked since the
// previous one read the user.
type loadUser func(ctx context.Context, attempt int) (*user.User, error)

// start reads userID's revocation epoch, lets load read and check the user,
// and stores the session only if no revocation of the user's sessions
// happened in between (ports.SessionStore.Create). If one did, the session is
// not stored and load runs again on the fresh state; when that happens
// startAttempts times in a row the error wraps domain.ErrUnavailable. It
// returns the user load returned last, with the tokens. With maxPerUser set,
// the user's least recently used sessions beyond it end (endExcess).
func (s sessionStarter) start(ctx context.Context, userID, userAgent, ip string, load loadUser) (*user.User, Tokens, error) {
	var stale error
	for attempt := range startAttempts {
		epoch, err := s.sessions.UserEpoch(ctx, userID)
		if err != nil {
			return nil, Tokens{}, fmt.Errorf("read revocation epoch of user %s: %w", userID, err)
		}
		u, err := load(ctx, attempt)
		if err != nil {
			return nil, Tokens{}, err
		}
		id, tokens, err := s.create(ctx, u, epoch, userAgent, ip)
		if errors.Is(err, session.ErrStale) {
			stale = err
			continue
		}
		if err != nil {
			return nil, Tokens{}, err
		}
		if err := s.endExcess(ctx, userID, id); err != nil {
			return nil, Tokens{}, err
		}
		return u, tokens, nil
	}
	// %v: the client should retry later (503), not see a conflict.
	//nolint:errorlint // deliberately not wrapped, see above
	return nil, Tokens{}, fmt.Errorf("start session for user %s: sessions revoked during each of %d attempts (last: %v): %w",
		userID, startAttempts, stale, domain.ErrUnavailable)
}

// create makes the session and its tokens and stores it at epoch; it
// returns the session's id with the tokens.
func (s sessionStarter) create(ctx context.Context, u *user.User, epoch int64, userAgent, ip string) (string, Tokens, error) {
	id := s.ids.NewID()
	refresh, hash, err := s.tokens.NewRefresh(id)
	if err != nil {
		return "", Tokens{}, fmt.Errorf("new refresh token for session %s: %w", id, err)
	}
	sess, err := session.New(id, u.ID(), u.Role(), hash, userAgent, ip, s.clock.Now(), s.life)
	if err != nil {
		// Only our own wiring can make this fail (empty id, ttl <= 0): %v keeps
		// it from reaching the client as a 422.
		//nolint:errorlint // deliberately not wrapped, see above
		return "", Tokens{}, fmt.Errorf("new session for user %s: %v", u.ID(), err)
	}
	// The access token is signed before the session is stored so that a
	// failure here leaves no orphan session behind; it reaches nobody until
	// the session exists.
	access, claims, err := s.tokens.IssueAccess(ports.AccessClaims{UserID: u.ID(), Role: u.Role(), SessionID: id})
	if err != nil {
		return "", Tokens{}, fmt.Errorf("issue access token for session %s: %w", id, err)
	}
	if err := s.sessions.Create(ctx, sess, epoch); err != nil {
		return "", Tokens{}, fmt.Errorf("create session %s: %w", id, err)
	}
	return id, tokensOf(access, refresh, claims), nil
}

// endExcess ends the user's least recently used sessions beyond maxPerUser,
// now that session newID is stored. It runs after the store, not before, so
// that logins racing each other cannot each make room for one and leave the
// user over the bound: the last of them to list sees every session, and
// all of them pick the same ones to end (session.Excess). The new session is
// the most recently used, so it only ends itself if maxPerUser concurrent
// logins overtake it.
//
// When the store fails half-way, the new session is ended too (best effort:
// the store is likely down) and the login fails: its tokens never reach the
// client, so no session is left that nobody holds.
func (s sessionStarter) endExcess(ctx context.Context, userID, newID string) error {
	if s.maxPerUser <= 0 {
		return nil
	}
	now := s.clock.Now()
	err := func() error {
		live, err := s.sessions.ListActive(ctx, userID, now)
		if err != nil {
			return err
		}
		for _, old := range session.Excess(live, s.maxPerUser) {
			if err := s.sessions.Revoke(ctx, old.ID(), now); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		_ = s.sessions.Revoke(ctx, newID, now) // its own failure changes nothing for the caller
		return fmt.Errorf("end the least recently used sessions of user %s: %w", userID, err)
	}
	return nil
}

func tokensOf(access, refresh string, claims ports.AccessClaims) Tokens {
	return Tokens{
		AccessToken:  access,
		RefreshToken: refresh,
		TokenType:    TokenTypeBearer,
		ExpiresIn:    int64(claims.ExpiresAt.Sub(claims.IssuedAt) / time.Second),
	}
}
