package click_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/click"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/fakes/clickmerchant"
)

// newFakeMerchantAPI starts the fake with SPEC §7's example merchant (service
// 12345, user 123, secret TEST_SECRET_KEY), which newMerchantClient signs for.
func newFakeMerchantAPI(t *testing.T) *clickmerchant.Server {
	t.Helper()
	f := clickmerchant.New(clickmerchant.Config{})
	t.Cleanup(f.Close)
	return f
}

func newMerchantClient(t *testing.T, base string, timeout time.Duration) *click.MerchantClient {
	t.Helper()
	c, err := click.NewMerchantClient(click.MerchantConfig{
		BaseURL: base, ServiceID: strconv.Itoa(clickmerchant.SpecServiceID), MerchantUserID: clickmerchant.SpecMerchantUserID,
		SecretKey: clickmerchant.SpecSecretKey, Timeout: timeout,
		Now: func() time.Time { return time.Unix(1519051543, 0) }, // SPEC §7's example timestamp
	})
	require.NoError(t, err)
	return c
}

// paths lists the calls the fake received as "METHOD escaped-path".
func paths(f *clickmerchant.Server) []string {
	var out []string
	for _, c := range f.Calls() {
		out = append(out, c.Method+" "+c.Path)
	}
	return out
}

func TestMerchantClient_PaymentStatus(t *testing.T) {
	f := newFakeMerchantAPI(t)
	f.SetPayment(clickmerchant.Payment{ID: 2100000001, Status: clickmerchant.StatusSuccess})
	c := newMerchantClient(t, f.URL(), 0)

	got, err := c.PaymentStatus(context.Background(), 2100000001)
	require.NoError(t, err)
	assert.Equal(t, ports.ClickPaymentStatus{PaymentID: 2100000001, Status: 2}, got)
	assert.Equal(t, []string{"GET /v2/merchant/payment/status/12345/2100000001"}, paths(f))
}

func TestMerchantClient_PaymentStatusByMerchantTransIDFollowsUpByPaymentID(t *testing.T) {
	f := newFakeMerchantAPI(t)
	mti := "8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01/x"
	f.SetPayment(clickmerchant.Payment{ID: 2100000009, MerchantTransID: mti, Day: "2025-06-01", Status: clickmerchant.StatusCancelled})
	c := newMerchantClient(t, strings.TrimSuffix(f.URL(), "/"), 0) // no trailing slash: still below it

	got, err := c.PaymentStatusByMerchantTransID(context.Background(), mti, time.Date(2025, 6, 1, 23, 30, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, ports.ClickPaymentStatus{PaymentID: 2100000009, Status: -1}, got)
	assert.Equal(t, []string{
		"GET /v2/merchant/payment/status_by_mti/12345/8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01%2Fx/2025-06-01",
		"GET /v2/merchant/payment/status/12345/2100000009",
	}, paths(f), "an id cannot add path levels")
}

func TestMerchantClient_Reverse(t *testing.T) {
	f := newFakeMerchantAPI(t)
	f.SetPayment(clickmerchant.Payment{ID: 2100000001, Status: clickmerchant.StatusSuccess})
	c := newMerchantClient(t, f.URL(), 0)

	require.NoError(t, c.Reverse(context.Background(), 2100000001))
	assert.Equal(t, []string{"DELETE /v2/merchant/payment/reversal/12345/2100000001"}, paths(f))
	p, _ := f.Payment(2100000001)
	assert.True(t, p.Reversed)

	var apiErr *click.APIError
	require.ErrorAs(t, c.Reverse(context.Background(), 2100000001), &apiErr, "a second reversal is refused")
	assert.Equal(t, clickmerchant.CodeNotAllowed, apiErr.Code)
	assert.NotEmpty(t, apiErr.Note)
}

func TestMerchantClient_Refusals(t *testing.T) {
	answer := func(status int, body string) func(w http.ResponseWriter, r *http.Request) bool {
		return func(w http.ResponseWriter, _ *http.Request) bool {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return true
		}
	}
	cases := []struct {
		name        string
		setup       func(f *clickmerchant.Server)
		status      int
		code        int
		unavailable bool
	}{
		{"error_code in a 200", func(f *clickmerchant.Server) {
			f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.FailRefuse, Code: -5014, Note: "Payment not found"})
		}, 200, -5014, false},
		{"http 404", func(f *clickmerchant.Server) { f.SetFault(answer(404, `{"error_code":-404,"error_note":"not found"}`)) }, 404, -404, false},
		{"http 401 without body", func(f *clickmerchant.Server) { f.SetFault(answer(401, ``)) }, 401, 0, false},
		{"http 502", func(f *clickmerchant.Server) { f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.Fail5xx}) }, 502, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeMerchantAPI(t)
			f.SetPayment(clickmerchant.Payment{ID: 1, Status: clickmerchant.StatusSuccess})
			tc.setup(f)
			err := newMerchantClient(t, f.URL(), 0).Reverse(context.Background(), 1)
			var apiErr *click.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.Status)
			assert.Equal(t, tc.code, apiErr.Code)
			assert.Equal(t, tc.unavailable, errors.Is(err, domain.ErrUnavailable))
			p, _ := f.Payment(1)
			assert.False(t, p.Reversed)
		})
	}
}

func TestMerchantClient_WrongAuthIsRefused(t *testing.T) {
	// The fake checks the header; a client with another secret is refused.
	f := newFakeMerchantAPI(t)
	f.SetPayment(clickmerchant.Payment{ID: 1, Status: clickmerchant.StatusSuccess})
	c, err := click.NewMerchantClient(click.MerchantConfig{BaseURL: f.URL(), ServiceID: "12345", MerchantUserID: "123",
		SecretKey: "OTHER", Now: func() time.Time { return time.Unix(1519051543, 0) }})
	require.NoError(t, err)
	var apiErr *click.APIError
	require.ErrorAs(t, c.Reverse(context.Background(), 1), &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.Status)
	p, _ := f.Payment(1)
	assert.False(t, p.Reversed)
}

func TestMerchantClient_PerCallTimeout(t *testing.T) {
	f := newFakeMerchantAPI(t)
	f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.FailTimeout})
	c := newMerchantClient(t, f.URL(), 50*time.Millisecond)
	start := time.Now()
	_, err := c.PaymentStatus(context.Background(), 1)
	require.Error(t, err)
	assert.ErrorIs(t, err, domain.ErrUnavailable)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestMerchantClient_Config(t *testing.T) {
	_, err := click.NewMerchantClient(click.MerchantConfig{BaseURL: "not a url"})
	assert.Error(t, err)
	_, err = click.NewMerchantClient(click.MerchantConfig{BaseURL: "ftp://api.click.uz/"})
	assert.Error(t, err)
	c, err := click.NewMerchantClient(click.MerchantConfig{})
	require.NoError(t, err, "the default base URL")
	assert.NotNil(t, c)
	assert.Equal(t, "https://api.click.uz/v2/merchant/", click.DefaultMerchantAPIURL)
}
