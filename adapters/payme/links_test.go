package payme_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/payme"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
)

func TestPaymeURLReproducesTheDocsExample(t *testing.T) {
	l := payme.NewLinks("https://checkout.paycom.uz", "587f72c72cac0d162c722ae2")
	got, err := l.PaymeURL("197", money.MustTiyin(500), "")
	require.NoError(t, err)
	assert.Equal(t, "https://checkout.paycom.uz/bT01ODdmNzJjNzJjYWMwZDE2MmM3MjJhZTI7YWMub3JkZXJfaWQ9MTk3O2E9NTAw", got)
}

func TestPaymeURLWithReturnURLIsStandardBase64WithPadding(t *testing.T) {
	l := payme.NewLinks("https://test.paycom.uz/", "587f72c72cac0d162c722ae2")
	got, err := l.PaymeURL(orderID, money.MustTiyin(5_000_000), "https://shop.uz/orders/"+orderID+"?paid=1")
	require.NoError(t, err)
	encoded, ok := strings.CutPrefix(got, "https://test.paycom.uz/")
	require.True(t, ok, got)
	raw, err := base64.StdEncoding.DecodeString(encoded)
	require.NoError(t, err, "standard alphabet, padded")
	assert.Equal(t, "m=587f72c72cac0d162c722ae2;ac.order_id="+orderID+";a=5000000;c=https://shop.uz/orders/"+orderID+"?paid=1", string(raw))
}

func TestPaymeURLRefusals(t *testing.T) {
	l := payme.NewLinks("https://checkout.paycom.uz", "587f72c72cac0d162c722ae2")
	_, err := l.PaymeURL(orderID, money.MustTiyin(0), "")
	assert.ErrorIs(t, err, domain.ErrValidation)
	_, err = l.PaymeURL(orderID, money.MustTiyin(100), "https://shop.uz/a;b")
	assert.ErrorIs(t, err, domain.ErrValidation)
	_, err = l.PaymeURL("a;m=evil", money.MustTiyin(100), "")
	assert.ErrorIs(t, err, domain.ErrValidation)

	_, err = payme.NewLinks("https://checkout.paycom.uz", "").PaymeURL(orderID, money.MustTiyin(100), "")
	assert.ErrorIs(t, err, payme.ErrNotConfigured)
	assert.ErrorIs(t, err, domain.ErrUnavailable)
}
