package reconciliation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/reconciliation"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func TestNewIssue(t *testing.T) {
	i, err := reconciliation.NewIssue("id", reconciliation.KindClickCancelDisputed, "2100000001", "o", "click", "2100000001",
		"  Click says the payment stands  ", t0)
	require.NoError(t, err)
	assert.Equal(t, reconciliation.StatusOpen, i.Status())
	assert.Equal(t, "Click says the payment stands", i.Detail())
	assert.True(t, i.ResolvedAt().IsZero())

	_, err = reconciliation.NewIssue("id", "click_something", "s", "", "", "", "d", t0)
	assert.ErrorIs(t, err, reconciliation.ErrInvalidKind)
	_, err = reconciliation.NewIssue("id", reconciliation.KindReceiptMissing, "", "", "", "", "d", t0)
	assert.Error(t, err)
	_, err = reconciliation.NewIssue("id", reconciliation.KindReceiptMissing, "s", "", "", "", " ", t0)
	assert.Error(t, err)
	long, err := reconciliation.NewIssue("id", reconciliation.KindReceiptMissing, "s", "", "", "", strings.Repeat("я", 2000), t0)
	require.NoError(t, err)
	assert.Len(t, []rune(long.Detail()), reconciliation.MaxDetail, "clipped, not refused: the job wrote it")
}

func TestIssueResolve(t *testing.T) {
	i, err := reconciliation.NewIssue("id", reconciliation.KindClickPaidUnconfirmed, "o", "o", "click", "1", "d", t0)
	require.NoError(t, err)
	for _, bad := range []string{"", "   ", strings.Repeat("x", reconciliation.MaxNote+1)} {
		assert.ErrorIs(t, i.Resolve("admin", bad, t0), reconciliation.ErrInvalidNote)
		assert.Equal(t, reconciliation.StatusOpen, i.Status())
	}
	require.NoError(t, i.Resolve("admin", " reversed in Click's cabinet ", t0.Add(time.Hour)))
	assert.Equal(t, reconciliation.StatusResolved, i.Status())
	assert.Equal(t, "admin", i.ResolvedBy())
	assert.Equal(t, "reversed in Click's cabinet", i.Note())
	assert.Equal(t, t0.Add(time.Hour), i.ResolvedAt())
	assert.ErrorIs(t, i.Resolve("other", "again", t0.Add(2*time.Hour)), reconciliation.ErrAlreadyResolved)
	assert.Equal(t, "admin", i.ResolvedBy(), "unchanged")
}

func TestParse(t *testing.T) {
	for _, k := range reconciliation.Kinds() {
		got, err := reconciliation.ParseKind(string(k))
		require.NoError(t, err)
		assert.Equal(t, k, got)
	}
	_, err := reconciliation.ParseStatus("closed")
	assert.ErrorIs(t, err, reconciliation.ErrInvalidStatus)
}
