// Package system holds the real clock and id generator behind ports.Clock and
// ports.IDGenerator.
package system

import (
	"time"

	"github.com/google/uuid"
)

// Clock is the wall clock in UTC.
type Clock struct{}

// Now returns the current time in UTC, so every timestamp the service stores
// and returns is in one zone.
func (Clock) Now() time.Time { return time.Now().UTC() }

// UUIDs makes random (version 4) UUIDs.
type UUIDs struct{}

// NewID returns a new random UUID string.
func (UUIDs) NewID() string { return uuid.NewString() }
