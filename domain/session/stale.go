package session

import (
	"fmt"

	"github.com/ultramarket/gateway/domain"
)

// ErrStale refuses to start a session because the user's sessions were all
// ended (block, role or password change, logout everywhere) after the caller
// read the user it decided on: that decision may no longer hold. Nothing was
// stored; the caller reads the user again and decides anew.
var ErrStale = fmt.Errorf("session: the user's sessions were revoked meanwhile: %w", domain.ErrConflict)
