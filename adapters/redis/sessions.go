package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/ports"
)

// Layout (every key starts with the store's prefix):
//
//	{prefix}session:{id}            hash, fields below; expires at the session's
//	                                expiry + tombstoneGrace
//	{prefix}user_sessions:{userID}  set of the user's session ids; lives at least
//	                                as long as its longest-lived member
//
// Times are unix milliseconds; "revoked" is "0" while the session is live.
// On Cluster every multi-key step is split into single-key commands (see
// singleNode), so the layout works there too.
const (
	fieldUserID   = "user_id"
	fieldUA       = "ua"
	fieldIP       = "ip"
	fieldCurrent  = "cur"
	fieldUsed     = "used"
	fieldCreated  = "created"
	fieldLastUsed = "last_used"
	fieldExpires  = "expires"
	fieldRevoked  = "revoked"

	// tombstoneGrace keeps an ended session's record after its expiry, so a
	// refresh token of a session that just ended is answered "revoked"
	// rather than "unknown".
	tombstoneGrace = 24 * time.Hour
	// maxUpdateAttempts bounds the optimistic-transaction retries of Update;
	// only concurrent writes to one session make it retry.
	maxUpdateAttempts = 16
)

var allFields = []string{
	fieldUserID, fieldUA, fieldIP, fieldCurrent, fieldUsed,
	fieldCreated, fieldLastUsed, fieldExpires, fieldRevoked,
}

// revokeScript ends a session atomically, keeping the first end time as
// session.Revoke does, and never recreates a session that is gone.
var revokeScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'revoked') == '0' then
	redis.call('HSET', KEYS[1], 'revoked', ARGV[1])
	return 1
end
return 0
`)

// SessionStore implements ports.SessionStore on Redis.
type SessionStore struct {
	client goredis.UniversalClient
	prefix string
	// wallNow only decides when Redis may garbage-collect a record; every
	// decision about a session uses the time its caller passes in.
	wallNow func() time.Time
	// singleNode is true for a plain (or Sentinel) client: a session and its
	// user's set are then written in one MULTI. On Cluster or Ring they may
	// live on different nodes and are written by separate commands.
	singleNode bool
}

var _ ports.SessionStore = (*SessionStore)(nil)

// NewSessionStore returns a store whose keys all start with prefix ("" is
// allowed; tests pass a unique prefix so parallel runs never collide).
func NewSessionStore(client goredis.UniversalClient, prefix string) *SessionStore {
	_, single := client.(*goredis.Client)
	return &SessionStore{client: client, prefix: prefix, wallNow: time.Now, singleNode: single}
}

func (st *SessionStore) sessionKey(id string) string { return st.prefix + "session:" + id }
func (st *SessionStore) userKey(userID string) string {
	return st.prefix + "user_sessions:" + userID
}

// Create stores a new session and adds it to its user's set.
func (st *SessionStore) Create(ctx context.Context, s *session.Session) error {
	at := st.expireAt(s)
	write := func(p goredis.Pipeliner) error {
		st.addToUserSet(ctx, p, s, at)
		key := st.sessionKey(s.ID())
		p.HSet(ctx, key, encode(s))
		p.PExpireAt(ctx, key, at)
		return nil
	}
	var err error
	if st.singleNode {
		_, err = st.client.TxPipelined(ctx, write)
	} else {
		// Not MULTI: the keys may live on different nodes. The set is written
		// first; a failure half-way leaves at most an id that ListActive
		// prunes or a record nobody holds a token for, and Create reports it.
		_, err = st.client.Pipelined(ctx, write)
	}
	if err != nil {
		return storeError("create session "+s.ID(), err)
	}
	return nil
}

// Get returns the session, revoked or expired ones included while their
// record lasts.
func (st *SessionStore) Get(ctx context.Context, id string) (*session.Session, error) {
	vals, err := st.client.HGetAll(ctx, st.sessionKey(id)).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, storeError("get session "+id, err)
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("get session %s: %w", id, session.ErrNotFound)
	}
	return decode(id, vals)
}

// Update runs fn on the stored session inside WATCH/MULTI and saves what fn
// changed, also when fn fails (reuse detection revokes and reports). When
// another writer changes the session first, the transaction is retried on
// the fresh state, so fn may run more than once and must only act on the
// session it is given. fn's error is returned with the saved session.
func (st *SessionStore) Update(ctx context.Context, id string, fn func(s *session.Session) error) (*session.Session, error) {
	key := st.sessionKey(id)
	for range maxUpdateAttempts {
		var (
			saved *session.Session
			fnErr error
		)
		err := st.client.Watch(ctx, func(tx *goredis.Tx) error {
			vals, err := tx.HGetAll(ctx, key).Result()
			if err != nil && !errors.Is(err, goredis.Nil) {
				return err
			}
			if len(vals) == 0 {
				return fmt.Errorf("update session %s: %w", id, session.ErrNotFound)
			}
			s, err := decode(id, vals)
			if err != nil {
				return err
			}
			fnErr = fn(s)
			fields := encode(s)
			if maps.Equal(fields, vals) {
				saved = s // nothing to write (e.g. an unknown token)
				return nil
			}
			at := st.expireAt(s)
			// The user's set must outlive every member, so a rotation that
			// extends the session extends the set too.
			extendSet := !s.IsRevoked() && !s.ExpiresAt().Equal(expiresOf(vals))
			if extendSet && !st.singleNode {
				// Another node: extended before the session is, so if this
				// fails nothing was saved.
				if _, err := st.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
					st.addToUserSet(ctx, p, s, at)
					return nil
				}); err != nil {
					return err
				}
			}
			if _, err := tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				if extendSet && st.singleNode {
					st.addToUserSet(ctx, p, s, at)
				}
				p.HSet(ctx, key, fields)
				p.PExpireAt(ctx, key, at)
				return nil
			}); err != nil {
				return err
			}
			saved = s
			return nil
		}, key)
		switch {
		case err == nil:
			return saved, fnErr
		case errors.Is(err, goredis.TxFailedErr):
			continue // another writer won; rerun fn on what it wrote
		case errors.Is(err, session.ErrNotFound), errors.Is(err, errCorrupt):
			return nil, err
		default:
			return nil, storeError("update session "+id, err)
		}
	}
	return nil, fmt.Errorf("update session %s: still contended after %d attempts: %w",
		id, maxUpdateAttempts, domain.ErrUnavailable)
}

// Revoke ends one session in one round trip; ending an ended or unknown
// session is not an error.
func (st *SessionStore) Revoke(ctx context.Context, id string, now time.Time) error {
	if now.UnixMilli() <= 0 {
		return fmt.Errorf("revoke session %s: invalid time %v", id, now)
	}
	if err := revokeScript.Run(ctx, st.client, []string{st.sessionKey(id)}, now.UnixMilli()).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return storeError("revoke session "+id, err)
	}
	return nil
}

// RevokeAllForUser ends every session in the user's set except exceptID, in
// one pipelined round trip after reading the set.
func (st *SessionStore) RevokeAllForUser(ctx context.Context, userID, exceptID string, now time.Time) error {
	if now.UnixMilli() <= 0 {
		return fmt.Errorf("revoke sessions of user %s: invalid time %v", userID, now)
	}
	ids, err := st.client.SMembers(ctx, st.userKey(userID)).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return storeError("list sessions of user "+userID, err)
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == exceptID })
	if len(ids) == 0 {
		return nil
	}
	cmds, err := st.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, id := range ids {
			// EVAL, not EVALSHA: a pipeline cannot fall back on NOSCRIPT.
			revokeScript.Eval(ctx, p, []string{st.sessionKey(id)}, now.UnixMilli())
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return storeError("revoke sessions of user "+userID, err)
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, goredis.Nil) {
			return storeError("revoke sessions of user "+userID, err)
		}
	}
	return nil
}

// ListActive returns the user's live sessions, newest first, and removes
// ended ones from the user's set (an ended session never becomes live again).
func (st *SessionStore) ListActive(ctx context.Context, userID string, now time.Time) ([]*session.Session, error) {
	setKey := st.userKey(userID)
	ids, err := st.client.SMembers(ctx, setKey).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, storeError("list sessions of user "+userID, err)
	}
	if len(ids) == 0 {
		return []*session.Session{}, nil
	}
	cmds := make([]*goredis.MapStringStringCmd, len(ids))
	if _, err := st.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, st.sessionKey(id))
		}
		return nil
	}); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, storeError("list sessions of user "+userID, err)
	}

	active := make([]*session.Session, 0, len(ids))
	var dead []any
	for i, id := range ids {
		vals, err := cmds[i].Result()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return nil, storeError("list sessions of user "+userID, err)
		}
		if len(vals) == 0 {
			dead = append(dead, id)
			continue
		}
		s, err := decode(id, vals)
		if err != nil {
			return nil, err
		}
		if s.UserID() != userID || !s.IsActive(now) {
			dead = append(dead, id)
			continue
		}
		active = append(active, s)
	}
	if len(dead) > 0 {
		if err := st.client.SRem(ctx, setKey, dead...).Err(); err != nil {
			return nil, storeError("prune sessions of user "+userID, err)
		}
	}
	slices.SortFunc(active, func(a, b *session.Session) int {
		if c := b.CreatedAt().Compare(a.CreatedAt()); c != 0 {
			return c
		}
		return strings.Compare(a.ID(), b.ID())
	})
	return active, nil
}

// CheckAccess is one HMGET: it runs on every authenticated request.
func (st *SessionStore) CheckAccess(ctx context.Context, sessionID, userID string, now time.Time) error {
	vals, err := st.client.HMGet(ctx, st.sessionKey(sessionID), fieldUserID, fieldRevoked, fieldExpires).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return storeError("check session "+sessionID, err)
	}
	if len(vals) != 3 {
		return fmt.Errorf("check session %s: %w", sessionID, session.ErrRevoked)
	}
	owner, _ := vals[0].(string)
	revoked, _ := vals[1].(string)
	expires, _ := vals[2].(string)
	if owner == "" || owner != userID {
		// Unknown (Redis lost it, or it was never ours) counts as ended.
		return fmt.Errorf("check session %s: %w", sessionID, session.ErrRevoked)
	}
	if revoked != "0" {
		return fmt.Errorf("check session %s: %w", sessionID, session.ErrRevoked)
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return fmt.Errorf("check session %s: %w: field %s", sessionID, errCorrupt, fieldExpires)
	}
	if now.UnixMilli() >= exp {
		return fmt.Errorf("check session %s: %w", sessionID, session.ErrExpired)
	}
	return nil
}

// addToUserSet queues SADD and a TTL for the user's set that never shortens
// it: NX sets a TTL on a new set, GT only ever extends it.
func (st *SessionStore) addToUserSet(ctx context.Context, p goredis.Pipeliner, s *session.Session, at time.Time) {
	key := st.userKey(s.UserID())
	ttl := at.Sub(st.wallNow()).Truncate(time.Second) + time.Second
	p.SAdd(ctx, key, s.ID())
	p.ExpireNX(ctx, key, ttl)
	p.ExpireGT(ctx, key, ttl)
}

// expireAt is when Redis may drop the record: tombstoneGrace after the
// session's expiry, counted from the wall clock when that expiry is already
// past (or the session's clock is a test's), so a write is never lost at once.
func (st *SessionStore) expireAt(s *session.Session) time.Time {
	at := s.ExpiresAt()
	if now := st.wallNow(); at.Before(now) {
		at = now
	}
	return at.Add(tombstoneGrace)
}

var errCorrupt = errors.New("stored session is malformed")

func encode(s *session.Session) map[string]string {
	used, _ := json.Marshal(s.UsedHashes()) // []string cannot fail
	if string(used) == "null" {
		used = []byte("[]")
	}
	return map[string]string{
		fieldUserID:   s.UserID(),
		fieldUA:       s.UserAgent(),
		fieldIP:       s.IP(),
		fieldCurrent:  s.CurrentHash(),
		fieldUsed:     string(used),
		fieldCreated:  encodeTime(s.CreatedAt()),
		fieldLastUsed: encodeTime(s.LastUsedAt()),
		fieldExpires:  encodeTime(s.ExpiresAt()),
		fieldRevoked:  encodeTime(s.RevokedAt()),
	}
}

func decode(id string, vals map[string]string) (*session.Session, error) {
	for _, f := range allFields {
		if _, ok := vals[f]; !ok {
			return nil, fmt.Errorf("session %s: %w: missing %s", id, errCorrupt, f)
		}
	}
	if vals[fieldUserID] == "" {
		return nil, fmt.Errorf("session %s: %w: empty %s", id, errCorrupt, fieldUserID)
	}
	var used []string
	if err := json.Unmarshal([]byte(vals[fieldUsed]), &used); err != nil {
		return nil, fmt.Errorf("session %s: %w: %s", id, errCorrupt, fieldUsed)
	}
	if len(used) == 0 {
		used = nil // as session.New leaves it
	}
	times := make([]time.Time, 4)
	for i, f := range []string{fieldCreated, fieldLastUsed, fieldExpires, fieldRevoked} {
		t, err := decodeTime(vals[f])
		if err != nil {
			return nil, fmt.Errorf("session %s: %w: %s", id, errCorrupt, f)
		}
		times[i] = t
	}
	return session.Restore(id, vals[fieldUserID], vals[fieldUA], vals[fieldIP], vals[fieldCurrent], used,
		times[0], times[1], times[2], times[3]), nil
}

// expiresOf reads the stored expiry; a bad value reads as zero, which only
// makes Update extend the user's set once more.
func expiresOf(vals map[string]string) time.Time {
	t, _ := decodeTime(vals[fieldExpires])
	return t
}

func encodeTime(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func decodeTime(s string) (time.Time, error) {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	if ms == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(ms).UTC(), nil
}
