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
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Layout (every key starts with the store's prefix):
//
//	{prefix}session:{id}            hash, fields below; expires at the session's
//	                                expiry + tombstoneGrace
//	{prefix}user_sessions:{userID}  set of the user's session ids; lives at least
//	                                as long as its longest-lived member
//	{prefix}user_epoch:{userID}     the user's revocation epoch (an integer that
//	                                RevokeAllForUser INCRs); absent reads as 0.
//	                                It never expires: were it to vanish while a
//	                                login holds its value n, the next INCRs
//	                                would count 1, 2, ... and could hit n again,
//	                                letting that login's stale Create through.
//	                                It is one small key per user who ever had
//	                                all sessions revoked.
//
// Times are unix milliseconds; "revoked" is "0" while the session is live.
// "role" is the role the session was granted; a session stored before
// sessions held their role has none (absent or ""), and authorizes nothing
// until a refresh gives it one.
// On Cluster every multi-key step is split into single-key commands (see
// singleNode), so the layout works there too.
const (
	fieldUserID   = "user_id"
	fieldRole     = "role"
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

// allFields are the fields every stored session has; fieldRole is not one of
// them (see the layout above).
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
func (st *SessionStore) epochKey(userID string) string {
	return st.prefix + "user_epoch:" + userID
}

// UserEpoch is one GET; a user never revoked has epoch 0.
func (st *SessionStore) UserEpoch(ctx context.Context, userID string) (int64, error) {
	epoch, err := readEpoch(ctx, st.client, st.epochKey(userID))
	if err != nil {
		return 0, epochError("read revocation epoch of user "+userID, err)
	}
	return epoch, nil
}

// readEpoch reads an epoch key; a missing key is 0.
func readEpoch(ctx context.Context, c goredis.Cmdable, key string) (int64, error) {
	v, err := c.Get(ctx, key).Result()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	epoch, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is not an integer", errCorrupt, key)
	}
	return epoch, nil
}

// epochError is storeError, except that a malformed epoch is not an outage.
func epochError(op string, err error) error {
	if errors.Is(err, errCorrupt) {
		return fmt.Errorf("redis %s: %w", op, err)
	}
	return storeError(op, err)
}

// Create stores a new session and adds it to its user's set if the user's
// revocation epoch is still epoch; otherwise it returns session.ErrStale.
//
// On one node this is WATCH on the epoch, GET, and MULTI writing the session
// and the set: RevokeAllForUser's MULTI (INCR the epoch, SMEMBERS the set)
// runs either wholly before it (the GET or the EXEC sees the new epoch and
// nothing is written) or wholly after it (the set holds the session, which
// RevokeAllForUser then ends).
func (st *SessionStore) Create(ctx context.Context, s *session.Session, epoch int64) error {
	at := st.expireAt(s)
	write := func(p goredis.Pipeliner) error {
		st.addToUserSet(ctx, p, s, at)
		key := st.sessionKey(s.ID())
		p.HSet(ctx, key, encode(s))
		p.PExpireAt(ctx, key, at)
		return nil
	}
	epochKey := st.epochKey(s.UserID())
	if !st.singleNode {
		return st.createMultiNode(ctx, s, epoch, write)
	}
	err := st.client.Watch(ctx, func(tx *goredis.Tx) error {
		current, err := readEpoch(ctx, tx, epochKey)
		if err != nil {
			return err
		}
		if current != epoch {
			return staleError(s, epoch, current)
		}
		_, err = tx.TxPipelined(ctx, write)
		return err
	}, epochKey)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, session.ErrStale):
		return err
	case errors.Is(err, goredis.TxFailedErr):
		// Only the epoch is watched, and only RevokeAllForUser writes it.
		return fmt.Errorf("create session %s: the revocation epoch of user %s changed: %w",
			s.ID(), s.UserID(), session.ErrStale)
	default:
		return epochError("create session "+s.ID(), err)
	}
}

// createMultiNode is Create where the epoch, the set and the session may live
// on different nodes, so no MULTI or WATCH spans them. It checks the epoch,
// writes, and checks the epoch again; RevokeAllForUser INCRs the epoch and
// only then reads the set. Each command is atomic on its key, so either the
// second check here follows the INCR (and sees it), or the SMEMBERS there
// follows this write (and RevokeAllForUser ends the session). A stale session
// found by the second check is ended before ErrStale is returned: what
// remains is a revoked record, never a live one.
func (st *SessionStore) createMultiNode(ctx context.Context, s *session.Session, epoch int64, write func(goredis.Pipeliner) error) error {
	epochKey := st.epochKey(s.UserID())
	current, err := readEpoch(ctx, st.client, epochKey)
	if err != nil {
		return epochError("create session "+s.ID(), err)
	}
	if current != epoch {
		return staleError(s, epoch, current)
	}
	// Not MULTI: the keys may live on different nodes. The set is written
	// first; a failure half-way leaves at most an id that ListActive prunes
	// or a record nobody holds a token for, and Create reports it.
	if _, err := st.client.Pipelined(ctx, write); err != nil {
		return storeError("create session "+s.ID(), err)
	}
	current, err = readEpoch(ctx, st.client, epochKey)
	if err != nil {
		return epochError("create session "+s.ID(), err)
	}
	if current == epoch {
		return nil
	}
	// Ended as of its creation: its tokens were never handed out. (If this
	// fails the record may stay live, but nobody holds a token for it.)
	if err := st.Revoke(ctx, s.ID(), s.CreatedAt()); err != nil {
		return err
	}
	return staleError(s, epoch, current)
}

func staleError(s *session.Session, epoch, current int64) error {
	return fmt.Errorf("create session %s: user %s at revocation epoch %d, not %d: %w",
		s.ID(), s.UserID(), current, epoch, session.ErrStale)
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
			// The profile cache's fields are not the session's: HSET below
			// leaves them as they are.
			stored := maps.Clone(vals)
			delete(stored, fieldProfile)
			delete(stored, fieldProfileGen)
			if maps.Equal(fields, stored) {
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

// RevokeAllForUser raises the user's revocation epoch and reads the user's
// set in one MULTI (on Cluster: INCR, then SMEMBERS), then ends every session
// in the set except exceptID in one pipelined round trip. From the INCR on,
// a Create with an older epoch fails, so the set read after it holds every
// session such a Create stored.
func (st *SessionStore) RevokeAllForUser(ctx context.Context, userID, exceptID string, now time.Time) error {
	if now.UnixMilli() <= 0 {
		return fmt.Errorf("revoke sessions of user %s: invalid time %v", userID, now)
	}
	ids, err := st.bumpEpochAndList(ctx, userID)
	if err != nil {
		return storeError("revoke sessions of user "+userID, err)
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

// bumpEpochAndList INCRs the user's epoch and then reads the user's set. The
// order matters, not the atomicity: the set must be read after the INCR has
// taken effect.
func (st *SessionStore) bumpEpochAndList(ctx context.Context, userID string) ([]string, error) {
	epochKey, setKey := st.epochKey(userID), st.userKey(userID)
	if !st.singleNode {
		// Two round trips: a pipeline may reach the two nodes in any order.
		if err := st.client.Incr(ctx, epochKey).Err(); err != nil {
			return nil, err
		}
		ids, err := st.client.SMembers(ctx, setKey).Result()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return nil, err
		}
		return ids, nil
	}
	var members *goredis.StringSliceCmd
	if _, err := st.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Incr(ctx, epochKey)
		members = p.SMembers(ctx, setKey)
		return nil
	}); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, err
	}
	ids, err := members.Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, err
	}
	return ids, nil
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

// CheckAccess is one HMGET: it runs on every authenticated request, so what
// it returns grows by fields of this one hash, never by another lookup. It
// returns the cached profile too (session_profile.go).
func (st *SessionStore) CheckAccess(ctx context.Context, sessionID, userID string, now time.Time) (ports.SessionAccess, error) {
	vals, err := st.client.HMGet(ctx, st.sessionKey(sessionID),
		fieldUserID, fieldRevoked, fieldExpires, fieldRole, fieldProfile, fieldProfileGen).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return ports.SessionAccess{}, storeError("check session "+sessionID, err)
	}
	if len(vals) != 6 {
		return ports.SessionAccess{}, fmt.Errorf("check session %s: %w", sessionID, session.ErrRevoked)
	}
	owner, _ := vals[0].(string)
	revoked, _ := vals[1].(string)
	expires, _ := vals[2].(string)
	role, _ := vals[3].(string)
	rawProfile, _ := vals[4].(string)
	gen, _ := vals[5].(string)
	if owner == "" || owner != userID {
		// Unknown (Redis lost it, or it was never ours) counts as ended.
		return ports.SessionAccess{}, fmt.Errorf("check session %s: %w", sessionID, session.ErrRevoked)
	}
	if revoked != "0" {
		return ports.SessionAccess{}, fmt.Errorf("check session %s: %w", sessionID, session.ErrRevoked)
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return ports.SessionAccess{}, fmt.Errorf("check session %s: %w: field %s", sessionID, errCorrupt, fieldExpires)
	}
	if now.UnixMilli() >= exp {
		return ports.SessionAccess{}, fmt.Errorf("check session %s: %w", sessionID, session.ErrExpired)
	}
	r, err := decodeRole(role)
	if err != nil {
		return ports.SessionAccess{}, fmt.Errorf("check session %s: %w", sessionID, err)
	}
	profile, pgen, err := decodeProfile(userID, rawProfile, gen)
	if err != nil {
		return ports.SessionAccess{}, fmt.Errorf("check session %s: %w", sessionID, err)
	}
	return ports.SessionAccess{Role: r, Profile: profile, ProfileGen: pgen}, nil
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
		fieldRole:     string(s.Role()),
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
	role, err := decodeRole(vals[fieldRole]) // absent reads as ""
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", id, err)
	}
	times := make([]time.Time, 4)
	for i, f := range []string{fieldCreated, fieldLastUsed, fieldExpires, fieldRevoked} {
		t, err := decodeTime(vals[f])
		if err != nil {
			return nil, fmt.Errorf("session %s: %w: %s", id, errCorrupt, f)
		}
		times[i] = t
	}
	return session.Restore(id, vals[fieldUserID], role, vals[fieldUA], vals[fieldIP], vals[fieldCurrent], used,
		times[0], times[1], times[2], times[3]), nil
}

// decodeRole reads a stored role; "" is a session stored before sessions held
// their role.
func decodeRole(s string) (user.Role, error) {
	if s == "" {
		return "", nil
	}
	r, err := user.ParseRole(s)
	if err != nil {
		return "", fmt.Errorf("%w: %s", errCorrupt, fieldRole)
	}
	return r, nil
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
