package holds_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/holds"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports/mocks"
)

const orderID = "8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01"

type ctxKey struct{}

func TestReleaseStock_OutlivesTheCallerButIsBounded(t *testing.T) {
	catalog := mocks.NewMockCatalog(gomock.NewController(t))
	actor := user.Actor{ID: "45c48cce-2e2d-4fbd-8a1c-5b6d7e8f9a03"}
	parent, hangUp := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "kept"))
	hangUp() // the caller has gone before the release starts
	var deadline time.Time
	catalog.EXPECT().Release(gomock.Any(), orderID, actor).DoAndReturn(func(ctx context.Context, _ string, _ user.Actor) error {
		assert.NoError(t, ctx.Err(), "the caller's cancellation does not reach the release")
		assert.Equal(t, "kept", ctx.Value(ctxKey{}), "the request's values do")
		var ok bool
		deadline, ok = ctx.Deadline()
		assert.True(t, ok, "the release is bounded")
		return nil
	})

	before := time.Now()
	require.NoError(t, holds.ReleaseStock(parent, catalog, orderID, actor))
	assert.False(t, deadline.After(time.Now().Add(holds.ReleaseTimeout)), "deadline %s", deadline)
	assert.False(t, deadline.Before(before.Add(holds.ReleaseTimeout)), "deadline %s", deadline)
}

func TestReleaseStock_FailureNamesTheOrder(t *testing.T) {
	catalog := mocks.NewMockCatalog(gomock.NewController(t))
	down := errors.New("catalog down")
	catalog.EXPECT().Release(gomock.Any(), orderID, user.Actor{}).Return(down)

	err := holds.ReleaseStock(context.Background(), catalog, orderID, user.Actor{})
	require.ErrorIs(t, err, down)
	assert.Contains(t, err.Error(), orderID)
}
