// Package crypto hashes passwords with argon2id behind ports.PasswordHasher.
package crypto

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/ultramarket/gateway/ports"
)

var _ ports.PasswordHasher = (*PasswordHasher)(nil)

// Params are argon2id's cost parameters. Memory is in KiB.
type Params struct {
	Memory      uint32
	Iterations  uint32
	Parallelism uint8
	SaltLength  uint32
	KeyLength   uint32
}

var (
	// DefaultParams is OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane.
	DefaultParams = Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	// TestParams are cheap enough for tests that hash on every case; never use
	// them in production.
	TestParams = Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
)

// Limits on the parameters read back from a stored hash. A poisoned row with
// m=4GiB or t=1e6 would otherwise turn one login into a denial of service;
// they still leave room to raise the defaults later.
const (
	maxMemory      = 256 * 1024 // KiB
	maxIterations  = 16
	maxParallelism = 16
	minSaltLength  = 8
	maxSaltLength  = 64
	minKeyLength   = 16
	maxKeyLength   = 64
	maxEncodedLen  = 512
)

var (
	// ErrMalformedHash is a stored hash this hasher cannot read; it never
	// contains the hash itself.
	ErrMalformedHash = errors.New("password hash: malformed encoding")
	// ErrUnsupportedParams is a stored hash whose parameters are outside the
	// accepted limits.
	ErrUnsupportedParams = errors.New("password hash: unsupported parameters")
)

// PasswordHasher hashes with argon2id. Each hash takes Params.Memory of RAM
// and a core for tens of milliseconds, so a semaphore bounds how many run at
// once: a burst of logins queues instead of exhausting memory.
type PasswordHasher struct {
	params Params
	sem    chan struct{}
	// inSlot, when set (tests only), runs while a semaphore slot is held.
	inSlot func()
}

// NewPasswordHasher returns a hasher producing hashes with p, running at most
// concurrency hashes at once (<= 0 means runtime.NumCPU()).
func NewPasswordHasher(p Params, concurrency int) (*PasswordHasher, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	return &PasswordHasher{params: p, sem: make(chan struct{}, concurrency)}, nil
}

// Params returns the parameters new hashes are made with.
func (h *PasswordHasher) Params() Params { return h.params }

// Hash returns the PHC string $argon2id$v=19$m=..,t=..,p=..$salt$key.
func (h *PasswordHasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password hash: read salt: %w", err)
	}
	key, err := h.derive(ctx, []byte(password), salt, h.params)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify recomputes the hash with the parameters and salt stored in encoded,
// so hashes made with older parameters keep verifying.
func (h *PasswordHasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got, err := h.derive(ctx, []byte(password), salt, p)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func (h *PasswordHasher) derive(ctx context.Context, password, salt []byte, p Params) ([]byte, error) {
	// Checked first: select picks at random when a slot is free and ctx is done.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.sem }()
	if h.inSlot != nil {
		h.inSlot()
	}
	return argon2.IDKey(password, salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength), nil
}

func (p Params) validate() error {
	switch {
	case p.Parallelism < 1 || p.Parallelism > maxParallelism,
		p.Iterations < 1 || p.Iterations > maxIterations,
		p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemory,
		p.SaltLength < minSaltLength || p.SaltLength > maxSaltLength,
		p.KeyLength < minKeyLength || p.KeyLength > maxKeyLength:
		return fmt.Errorf("%w: m=%d t=%d p=%d salt=%d key=%d", ErrUnsupportedParams,
			p.Memory, p.Iterations, p.Parallelism, p.SaltLength, p.KeyLength)
	}
	return nil
}

var b64 = base64.RawStdEncoding

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses a PHC argon2id string strictly: exactly the fields and order
// Hash writes, canonical base64, parameters within limits.
func decode(encoded string) (Params, []byte, []byte, error) {
	if len(encoded) > maxEncodedLen {
		return Params{}, nil, nil, ErrMalformedHash
	}
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformedHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, fmt.Errorf("%w: version", ErrUnsupportedParams)
	}
	var p Params
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return Params{}, nil, nil, ErrMalformedHash
	}
	m, okM := parseParam(kv[0], "m=", 32)
	t, okT := parseParam(kv[1], "t=", 32)
	par, okP := parseParam(kv[2], "p=", 8)
	if !okM || !okT || !okP {
		return Params{}, nil, nil, ErrMalformedHash
	}
	p.Memory, p.Iterations, p.Parallelism = uint32(m), uint32(t), uint8(par) //nolint:gosec // G115: parseParam parsed them with bit sizes 32, 32 and 8
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil || strings.ContainsAny(parts[4], "\r\n") {
		return Params{}, nil, nil, ErrMalformedHash
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil || strings.ContainsAny(parts[5], "\r\n") {
		return Params{}, nil, nil, ErrMalformedHash
	}
	p.SaltLength, p.KeyLength = uint32(len(salt)), uint32(len(key)) //nolint:gosec // G115: decoded from at most maxEncodedLen bytes
	if err := p.validate(); err != nil {
		return Params{}, nil, nil, err
	}
	return p, salt, key, nil
}

// parseParam reads "m=19456": decimal digits only, no sign or leading zeros.
func parseParam(s, prefix string, bits int) (uint64, bool) {
	v, ok := strings.CutPrefix(s, prefix)
	if !ok || v == "" || (len(v) > 1 && v[0] == '0') || strings.ContainsAny(v, "+-") {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, bits)
	return n, err == nil
}
