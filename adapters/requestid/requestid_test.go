package requestid_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/adapters/requestid"
)

func TestContextCarriesTheID(t *testing.T) {
	assert.Empty(t, requestid.FromContext(context.Background()), "no request, no id")
	ctx := requestid.NewContext(context.Background(), "req-1")
	assert.Equal(t, "req-1", requestid.FromContext(ctx))
	assert.Equal(t, "req-1", requestid.FromContext(context.WithoutCancel(ctx)), "a detached context keeps it")
}
