package domain_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/test/testsupport"
)

func ptr(n int) *int { return &n }

func TestPaging(t *testing.T) {
	cases := []struct {
		name         string
		page, size   *int
		wantN, wantS int
		badFields    []string
	}{
		{"defaults", nil, nil, 1, 20, nil},
		{"given", ptr(3), ptr(100), 3, 100, nil},
		{"smallest", ptr(1), ptr(1), 1, 1, nil},
		{"page 0", ptr(0), nil, 0, 20, []string{"page"}},
		{"size 0", nil, ptr(0), 1, 0, []string{"page_size"}},
		{"size 101", nil, ptr(101), 1, 101, []string{"page_size"}},
		{"both bad", ptr(-1), ptr(-1), -1, -1, []string{"page", "page_size"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			verr := &domain.ValidationError{}
			n, s := domain.Paging(c.page, c.size, verr)
			if c.badFields == nil {
				require.NoError(t, verr.OrNil())
				assert.Equal(t, c.wantN, n)
				assert.Equal(t, c.wantS, s)
				return
			}
			assert.Equal(t, c.badFields, testsupport.FieldsOf(t, verr.OrNil()))
		})
	}
}

func TestValidationErrorMerge(t *testing.T) {
	shared := domain.Invalid("role", "unknown role")
	verr := domain.Invalid("page", "must be at least 1")
	require.NoError(t, verr.Merge(shared))
	require.NoError(t, verr.Merge(nil))
	assert.Len(t, verr.Fields, 2)
	assert.Len(t, shared.Fields, 1, "the merged error is not changed")

	other := errors.New("database down")
	assert.Equal(t, other, verr.Merge(other))
	assert.Len(t, verr.Fields, 2)
}
