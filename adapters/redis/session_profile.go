package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/user"
)

// The profile cache lives in the session hash itself, so that CheckAccess's
// one HMGET returns it and GET /api/auth/me reads no database row:
//
//	profile   the user as `me` shows it (profileJSON); absent until the
//	          first `me` of the session fills it
//	pgen      the session's profile generation; absent reads as 0
//
// ForgetProfiles (after a committed change) deletes profile and raises pgen;
// CacheProfile writes only while pgen is still the value CheckAccess returned
// before the user was read, so a read older than a change never lands.
const (
	fieldProfile    = "profile"
	fieldProfileGen = "pgen"
)

// profileJSON is what `me` shows, no password hash.
type profileJSON struct {
	ID            string      `json:"id"`
	Email         string      `json:"email"`
	FullName      string      `json:"full_name"`
	Phone         string      `json:"phone"`
	PhoneVerified bool        `json:"phone_verified"`
	Role          user.Role   `json:"role"`
	Status        user.Status `json:"status"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
	// Seller is the seller profile (issue 11), nil when none was set.
	Seller *sellerJSON `json:"seller,omitempty"`
}

type sellerJSON struct {
	TIN      string `json:"tin"`
	PINFL    string `json:"pinfl"`
	VATPayer bool   `json:"vat_payer"`
}

// cacheProfileScript fills the profile of a live session of ARGV[1] whose
// generation is still ARGV[2]; it never recreates a session that is gone.
var cacheProfileScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'user_id') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'revoked') ~= '0' then return 0 end
local gen = redis.call('HGET', KEYS[1], 'pgen') or '0'
if gen ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'profile', ARGV[3])
return 1
`)

// forgetProfileScript drops a session's profile and raises its generation,
// only on a session that exists (HINCRBY alone would create a stub hash).
var forgetProfileScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[1], 'profile')
redis.call('HINCRBY', KEYS[1], 'pgen', 1)
return 1
`)

// CacheProfile is one EVALSHA (see cacheProfileScript).
func (st *SessionStore) CacheProfile(ctx context.Context, sessionID string, u *user.User, gen int64) error {
	p := profileJSON{
		ID: u.ID(), Email: u.Email(), FullName: u.FullName(), Phone: u.Phone(), PhoneVerified: u.PhoneVerified(),
		Role: u.Role(), Status: u.Status(), CreatedAt: u.CreatedAt(), UpdatedAt: u.UpdatedAt(),
	}
	if sp, ok := u.SellerProfile(); ok {
		p.Seller = &sellerJSON{TIN: sp.TIN(), PINFL: sp.PINFL(), VATPayer: sp.VATPayer()}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode profile of user %s: %w", u.ID(), err)
	}
	err = cacheProfileScript.Run(ctx, st.client, []string{st.sessionKey(sessionID)},
		u.ID(), strconv.FormatInt(gen, 10), string(b)).Err()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return storeError("cache profile in session "+sessionID, err)
	}
	return nil
}

// ForgetProfiles reads the user's set and runs forgetProfileScript on every
// member in one pipelined round trip: two round trips in all.
func (st *SessionStore) ForgetProfiles(ctx context.Context, userID string) error {
	ids, err := st.client.SMembers(ctx, st.userKey(userID)).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return storeError("forget profiles of user "+userID, err)
	}
	if len(ids) == 0 {
		return nil
	}
	cmds, err := st.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, id := range ids {
			// EVAL, not EVALSHA: a pipeline cannot fall back on NOSCRIPT.
			forgetProfileScript.Eval(ctx, p, []string{st.sessionKey(id)})
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return storeError("forget profiles of user "+userID, err)
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, goredis.Nil) {
			return storeError("forget profiles of user "+userID, err)
		}
	}
	return nil
}

// decodeProfile reads the cached profile and generation CheckAccess fetched;
// a profile that is absent, of another user or unreadable is no profile (me
// then reads Postgres), never an error.
func decodeProfile(userID, raw, gen string) (*user.User, int64, error) {
	g := int64(0)
	if gen != "" {
		n, err := strconv.ParseInt(gen, 10, 64)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %s", errCorrupt, fieldProfileGen)
		}
		g = n
	}
	if raw == "" {
		return nil, g, nil
	}
	p, ok := parseProfile(raw)
	if !ok || p.ID != userID {
		return nil, g, nil // unreadable: me reads the row, and its fill replaces this
	}
	u := user.Restore(p.ID, p.Email, "", p.FullName, p.Phone, p.Role, p.Status, p.CreatedAt, p.UpdatedAt).
		WithPhoneVerified(p.PhoneVerified)
	if p.Seller != nil {
		u.WithSellerProfile(fiscal.RestoreSellerProfile(p.Seller.TIN, p.Seller.PINFL, p.Seller.VATPayer))
	}
	return u, g, nil
}

// parseProfile is false for a profile that is not valid JSON.
func parseProfile(raw string) (profileJSON, bool) {
	var p profileJSON
	return p, json.Unmarshal([]byte(raw), &p) == nil
}
