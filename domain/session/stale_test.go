package session_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
)

func TestErrStale_IsAConflictNotAnEndedSession(t *testing.T) {
	assert.ErrorIs(t, session.ErrStale, domain.ErrConflict)
	assert.NotErrorIs(t, session.ErrStale, session.ErrRevoked)
	assert.NotErrorIs(t, session.ErrStale, domain.ErrUnauthorized)
	assert.NotErrorIs(t, session.ErrStale, domain.ErrUnavailable)
}
