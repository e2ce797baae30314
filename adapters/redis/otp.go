package redis

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ultramarket/gateway/domain/otp"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Layout (every key starts with the store's prefix; {...} is a Redis Cluster
// hash tag):
//
//	{prefix}otp:{<phone id>}:code   hash of the phone's live code: id (the
//	                                send's random id), mac, exp (unix ms),
//	                                tries (comparisons made), wrong (wrong
//	                                tries); expires with the code
//	{prefix}otp:{<phone id>}:sends  sorted set of the phone's sends within
//	                                PhoneWindow: member send id, score unix ms
//	{prefix}otp_client:{<client id>} the same for one client and ClientWindow
//
// The ids are HMACs of the phone and the client key under the pepper: a
// phone number is personal data with no business in a cache's key space, and
// a plain hash of one is no disguise (there are only 10^9 of them). A code is
// kept only as mac = HMAC-SHA256(pepper, send id, phone, code): the send id
// makes two sends of the same code to the same phone hash differently, and
// without the pepper a copy of Redis does not even allow trying the 10^6
// codes.
//
// The phone's two keys share a hash tag, so each script below touches one
// slot and runs unchanged on Redis Cluster. The client's key lives elsewhere,
// so a send takes the client's slot first, in a script of its own, and gives
// it back when the phone refuses (see Issue).
//
// Rotating the pepper ends every live code and restarts every count: do it
// rarely.

// MinOTPPepperBytes is the least pepper NewOTPStore accepts: an HMAC key
// shorter than its hash's block is a guessable secret.
const MinOTPPepperBytes = 32

// takeClientScript takes one of a client's sends in a sliding window, or
// says how long until one frees. A log of send times rather than a counter:
// "20 an hour" then holds over every hour, not only over fixed ones.
//
// KEYS: client key. ARGV: now ms, limit, window ms, send id.
// Returns 0 (taken) or the wait in ms.
var takeClientScript = goredis.NewScript(`
local now, limit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
	local first = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
	-- Bounded by the window, should another instance's clock run ahead.
	return math.max(math.min(first + window - now, window), 1)
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
`)

// issueScript checks the phone's cooldown and hourly budget and, when both
// allow it, records the send and replaces the phone's code. One script, so
// two instances can never both pass the check, and a crash can never leave a
// send counted without its code or the other way round.
//
// KEYS: code key, sends key. ARGV: now ms, cooldown ms, limit, window ms,
// send id, mac, ttl ms, expiry (unix ms). Returns {1, resend in ms} or
// {0, wait ms}.
var issueScript = goredis.NewScript(`
local now, cooldown = tonumber(ARGV[1]), tonumber(ARGV[2])
local limit, window, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[2])
local wait = 0
local last = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2]
if last then
	wait = math.min(tonumber(last) + cooldown - now, cooldown)
end
local function windowWait()
	local first = tonumber(redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2])
	return math.min(first + window - now, window)
end
if n >= limit then
	wait = math.max(wait, windowWait())
end
if wait > 0 then
	return {0, math.max(wait, 1)}
end
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], window)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[5], 'mac', ARGV[6], 'exp', ARGV[8], 'tries', 0, 'wrong', 0)
redis.call('PEXPIRE', KEYS[1], ttl)
local resend = cooldown
if n + 1 >= limit then
	resend = math.max(resend, windowWait())
end
return {1, resend}
`)

// reserveScript takes one comparison of the phone's code and hands out what
// to compare with. The comparison itself happens in Go, in constant time;
// counting it before it happens means a burst of concurrent guesses gets no
// more comparisons than sequential ones would (as the login guard does).
//
// KEYS: code key. ARGV: now ms, max tries. Returns {id, mac}, or nil when
// there is no live code (none, expired, or out of tries: then it is deleted).
var reserveScript = goredis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'id', 'mac', 'exp')
if not v[1] or not v[2] or not v[3] then
	return false
end
if tonumber(ARGV[1]) >= tonumber(v[3]) then
	redis.call('DEL', KEYS[1])
	return false
end
if redis.call('HINCRBY', KEYS[1], 'tries', 1) > tonumber(ARGV[2]) then
	redis.call('DEL', KEYS[1])
	return false
end
return {v[1], v[2]}
`)

// consumeScript ends the code a matching Verify compared with. Only one of
// several matching Verifies finds it; a send that replaced it meanwhile is
// left alone (the older code ended when the new one was sent).
//
// KEYS: code key. ARGV: send id. Returns 1 (consumed) or 0.
var consumeScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then
	redis.call('DEL', KEYS[1])
	return 1
end
return 0
`)

// wrongScript counts a wrong try against the code it was compared with and
// ends the code at the limit.
//
// KEYS: code key. ARGV: send id, max wrong. Returns 0.
var wrongScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then
	if redis.call('HINCRBY', KEYS[1], 'wrong', 1) >= tonumber(ARGV[2]) then
		redis.call('DEL', KEYS[1])
	end
end
return 0
`)

// refundTimeout bounds giving a client's send back after the caller's
// context ended: the refund must not be skipped because the request was.
const refundTimeout = time.Second

// OTPStore implements ports.OTPStore on Redis, shared by every gateway
// instance on the same Redis and prefix.
type OTPStore struct {
	client goredis.UniversalClient
	prefix string
	pepper []byte
	policy otp.Policy
	random io.Reader // send ids
}

var _ ports.OTPStore = (*OTPStore)(nil)

// NewOTPStore returns a store whose keys all start with prefix, hashing with
// pepper (a server-side secret of at least MinOTPPepperBytes; the error never
// contains it) and enforcing policy.
func NewOTPStore(client goredis.UniversalClient, prefix string, pepper []byte, policy otp.Policy) (*OTPStore, error) {
	if len(pepper) < MinOTPPepperBytes {
		return nil, fmt.Errorf("redis otp store: pepper must be at least %d bytes, got %d", MinOTPPepperBytes, len(pepper))
	}
	if err := policy.Validate(); err != nil {
		return nil, fmt.Errorf("redis otp store: %w", err)
	}
	return &OTPStore{
		client: client, prefix: prefix, pepper: append([]byte(nil), pepper...),
		policy: policy, random: rand.Reader,
	}, nil
}

// mac is HMAC-SHA256 under the pepper of the parts, each preceded by its
// length so no two lists of parts run together into the same input.
func (s *OTPStore) mac(parts ...string) []byte {
	h := hmac.New(sha256.New, s.pepper)
	for _, p := range parts {
		_, _ = fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return h.Sum(nil)
}

// id names a phone or client in keys: 128 bits of its HMAC, labelled so a
// phone and a client key never share an id.
func (s *OTPStore) id(label, v string) string {
	return hex.EncodeToString(s.mac("key", label, v)[:16])
}

func (s *OTPStore) phoneKeys(p user.Phone) []string {
	tag := s.prefix + "otp:{" + s.id("phone", p.String()) + "}:"
	return []string{tag + "code", tag + "sends"}
}

func (s *OTPStore) clientKey(client string) string {
	return s.prefix + "otp_client:{" + s.id("client", client) + "}"
}

func (s *OTPStore) codeMAC(sendID string, p user.Phone, c otp.Code) []byte {
	return s.mac("code", sendID, p.String(), c.Reveal())
}

func (s *OTPStore) newSendID() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.random, b); err != nil {
		return "", fmt.Errorf("redis otp store: send id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Issue takes one of the client's sends first, then lets the phone's script
// check the phone's limits and store the code, and gives the client's send
// back if the phone refuses. The other order would have to undo a replaced
// code, which cannot be done; this one at worst holds a client's slot for a
// moment, so a concurrent request of the same client at its very last slot
// may be refused when, a millisecond later, it would not have been.
func (s *OTPStore) Issue(ctx context.Context, phone user.Phone, client string, code otp.Code, now time.Time) (otp.Issued, error) {
	switch {
	case phone.IsZero():
		return otp.Issued{}, errors.New("redis otp store: issue: no phone")
	case code.IsZero():
		return otp.Issued{}, errors.New("redis otp store: issue: no code")
	case client == "":
		return otp.Issued{}, errors.New("redis otp store: issue: no client key")
	}
	sendID, err := s.newSendID()
	if err != nil {
		return otp.Issued{}, err
	}
	p, nowMS := s.policy, now.UnixMilli()

	clientKey := s.clientKey(client)
	wait, err := takeClientScript.Run(ctx, s.client, []string{clientKey},
		nowMS, p.ClientSends, p.ClientWindow.Milliseconds(), sendID).Int64()
	if err != nil {
		return otp.Issued{}, storeError("take a client's code send", err)
	}
	if wait > 0 {
		return otp.Issued{}, &otp.RateLimitedError{Limit: otp.LimitClient, RetryAfter: ms(wait)}
	}

	res, err := issueScript.Run(ctx, s.client, s.phoneKeys(phone),
		nowMS, p.Cooldown.Milliseconds(), p.PhoneSends, p.PhoneWindow.Milliseconds(),
		sendID, hex.EncodeToString(s.codeMAC(sendID, phone, code)), p.TTL.Milliseconds(),
		nowMS+p.TTL.Milliseconds()).Int64Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	if err != nil || res[0] == 0 {
		// Whether the script ran or not, this send did not happen, so it must
		// not count against the client. (Had the script run, its reply lost,
		// the code would stand with the client's slot given back: one send
		// the client is not charged for, never one it is charged for twice.)
		s.refundClient(ctx, clientKey, sendID)
	}
	if err != nil {
		return otp.Issued{}, storeError("issue a code", err)
	}
	if res[0] == 0 {
		return otp.Issued{}, &otp.RateLimitedError{Limit: otp.LimitPhone, RetryAfter: ms(res[1])}
	}
	return otp.Issued{ExpiresIn: p.TTL, ResendIn: ms(res[1])}, nil
}

// refundClient gives a client's send back. It runs even when ctx has ended
// (a refund skipped would charge the client for a send that did not
// happen), bounded by refundTimeout. A refund that fails is lost: the client
// then waits for its window to free the slot, which fails closed.
func (s *OTPStore) refundClient(ctx context.Context, key, sendID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refundTimeout)
	defer cancel()
	_ = s.client.ZRem(ctx, key, sendID).Err()
}

// Verify reserves a comparison, compares in Go with hmac.Equal (constant
// time: Lua's string comparison is not), then settles: consumes the code on a
// match, counts a wrong try otherwise.
func (s *OTPStore) Verify(ctx context.Context, phone user.Phone, code otp.Code, now time.Time) error {
	switch {
	case phone.IsZero():
		return errors.New("redis otp store: verify: no phone")
	case code.IsZero():
		return errors.New("redis otp store: verify: no code")
	}
	keys := s.phoneKeys(phone)[:1]
	got, err := reserveScript.Run(ctx, s.client, keys, now.UnixMilli(), s.policy.MaxWrong).StringSlice()
	if errors.Is(err, goredis.Nil) {
		return otp.ErrInvalidCode
	}
	if err == nil && len(got) != 2 {
		err = fmt.Errorf("unexpected reply %v", got)
	}
	if err != nil {
		return storeError("reserve a code check", err)
	}
	sendID, stored := got[0], got[1]
	want, err := hex.DecodeString(stored)
	if err != nil {
		return fmt.Errorf("redis otp store: verify: %w: stored mac is not hex", errCorrupt)
	}

	if hmac.Equal(want, s.codeMAC(sendID, phone, code)) {
		n, err := consumeScript.Run(ctx, s.client, keys, sendID).Int64()
		if err != nil {
			return storeError("consume a code", err)
		}
		if n != 1 {
			return otp.ErrInvalidCode // used by a concurrent Verify, or replaced
		}
		return nil
	}
	// An error here changes nothing the caller could act on: the code was
	// wrong, and the try counted when it was reserved (a code never gets
	// more comparisons than MaxWrong); only ending it at once is lost.
	_ = wrongScript.Run(ctx, s.client, keys, sendID, s.policy.MaxWrong).Err()
	return otp.ErrInvalidCode
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
