package otp

import "io"

// NewCodeFrom draws a code from r instead of crypto/rand, so a test can feed
// the values rejection sampling must throw away.
func NewCodeFrom(r io.Reader) (Code, error) { return newCode(r) }

// AcceptBelow is the bound of rejection sampling.
const AcceptBelow = acceptBelow
