package crypto

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"
)

// PepperBytes is the length of a derived pepper: one SHA-256 block's worth
// of key for an HMAC-SHA256.
const PepperBytes = 32

// DerivePepper derives a key for one purpose from a service secret with
// HKDF-SHA256 (RFC 5869), so one configured secret (JWT_SECRET) yields
// independent keys: knowing the one-time-code pepper tells nothing of the
// token signing key, nor the other way round. purpose names the use and its
// version ("ultramarket/otp-pepper/v1"); changing it changes the key.
func DerivePepper(secret []byte, purpose string) ([]byte, error) {
	if len(secret) == 0 || purpose == "" {
		return nil, errors.New("crypto: derive pepper: empty secret or purpose")
	}
	out := make([]byte, PepperBytes)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, []byte(purpose)), out); err != nil {
		return nil, fmt.Errorf("crypto: derive pepper: %w", err)
	}
	return out, nil
}
