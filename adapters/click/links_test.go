package click_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/click"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
)

func TestClickURL_IsTheClickButtonLink(t *testing.T) {
	links := click.NewLinks("12345", "678")
	const orderID = "8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01"
	ret := "https://shop.example.uz/orders/8f14e45f?paid=1&x=a b"

	got, err := links.ClickURL(orderID, money.MustTiyin(5_000_050), ret)
	require.NoError(t, err)
	u, err := url.Parse(got)
	require.NoError(t, err)
	assert.Equal(t, "https", u.Scheme)
	assert.Equal(t, "my.click.uz", u.Host)
	assert.Equal(t, "/services/pay", u.Path)
	assert.Equal(t, url.Values{
		"service_id":        {"12345"},
		"merchant_id":       {"678"},
		"amount":            {"50000.50"},
		"transaction_param": {orderID},
		"return_url":        {ret},
	}, u.Query())
}

func TestClickURL_WithoutReturnURL(t *testing.T) {
	got, err := click.NewLinks("12345", "678").ClickURL("8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01", money.MustTiyin(100), "")
	require.NoError(t, err)
	assert.Equal(t, "https://my.click.uz/services/pay?amount=1.00&merchant_id=678&service_id=12345&transaction_param=8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01", got)
}

func TestClickURL_NotConfigured(t *testing.T) {
	for name, l := range map[string]*click.Links{
		"no service id":  click.NewLinks("", "678"),
		"no merchant id": click.NewLinks("12345", ""),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := l.ClickURL("8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01", money.MustTiyin(100), "")
			assert.ErrorIs(t, err, click.ErrNotConfigured)
			assert.ErrorIs(t, err, domain.ErrUnavailable, "a 503 for the buyer, not a 500")
		})
	}
}
