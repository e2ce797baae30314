package click_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/click"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/ports"
)

// SPEC §7's example: secret TEST_SECRET_KEY, timestamp 1519051543, user 123.
const specAuth = "123:8ab6f3a10ab8603a6194d91eff532c95be8ee626:1519051543"

// fakeMerchantAPI is Click's Merchant API as far as the client uses it.
type fakeMerchantAPI struct {
	mu       sync.Mutex
	requests []string // "METHOD escaped-path"
	answer   func(w http.ResponseWriter, r *http.Request)
}

func newFakeMerchantAPI(t *testing.T) (*fakeMerchantAPI, *httptest.Server) {
	f := &fakeMerchantAPI{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.EscapedPath())
		answer := f.answer
		f.mu.Unlock()
		// What every call must carry.
		if r.Header.Get("Auth") != specAuth || r.Header.Get("Accept") != "application/json" ||
			r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error_code":-401,"error_note":"bad auth"}`)
			return
		}
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func newMerchantClient(t *testing.T, base string, timeout time.Duration) *click.MerchantClient {
	t.Helper()
	c, err := click.NewMerchantClient(click.MerchantConfig{
		BaseURL: base, ServiceID: "12345", MerchantUserID: "123", SecretKey: "TEST_SECRET_KEY",
		Timeout: timeout, Now: func() time.Time { return time.Unix(1519051543, 0) },
	})
	require.NoError(t, err)
	return c
}

func TestMerchantClient_PaymentStatus(t *testing.T) {
	f, srv := newFakeMerchantAPI(t)
	f.answer = func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"error_code":0,"error_note":"Success","payment_id":2100000001,"payment_status":2}`)
	}
	c := newMerchantClient(t, srv.URL+"/v2/merchant/", 0)

	got, err := c.PaymentStatus(context.Background(), 2100000001)
	require.NoError(t, err)
	assert.Equal(t, ports.ClickPaymentStatus{PaymentID: 2100000001, Status: 2}, got)
	assert.Equal(t, []string{"GET /v2/merchant/payment/status/12345/2100000001"}, f.requests)
}

func TestMerchantClient_PaymentStatusByMerchantTransIDFollowsUpByPaymentID(t *testing.T) {
	f, srv := newFakeMerchantAPI(t)
	f.answer = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/merchant/payment/status/12345/2100000009" {
			_, _ = io.WriteString(w, `{"error_code":0,"payment_id":2100000009,"payment_status":-1}`)
			return
		}
		_, _ = io.WriteString(w, `{"error_code":0,"error_note":"Success","payment_id":2100000009,"merchant_trans_id":"x"}`)
	}
	c := newMerchantClient(t, srv.URL+"/v2/merchant", 0) // no trailing slash: still below it

	got, err := c.PaymentStatusByMerchantTransID(context.Background(), "8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01/x",
		time.Date(2025, 6, 1, 23, 30, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, ports.ClickPaymentStatus{PaymentID: 2100000009, Status: -1}, got)
	assert.Equal(t, []string{
		"GET /v2/merchant/payment/status_by_mti/12345/8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01%2Fx/2025-06-01",
		"GET /v2/merchant/payment/status/12345/2100000009",
	}, f.requests, "an id cannot add path levels")
}

func TestMerchantClient_Reverse(t *testing.T) {
	f, srv := newFakeMerchantAPI(t)
	f.answer = func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"error_code":0,"error_note":"Success","payment_id":2100000001}`)
	}
	c := newMerchantClient(t, srv.URL+"/v2/merchant/", 0)

	require.NoError(t, c.Reverse(context.Background(), 2100000001))
	assert.Equal(t, []string{"DELETE /v2/merchant/payment/reversal/12345/2100000001"}, f.requests)
}

func TestMerchantClient_Refusals(t *testing.T) {
	cases := []struct {
		name        string
		status      int
		body        string
		code        int
		unavailable bool
	}{
		{"error_code in a 200", 200, `{"error_code":-5014,"error_note":"Payment not found"}`, -5014, false},
		{"http 404", 404, `{"error_code":-404,"error_note":"not found"}`, -404, false},
		{"http 401 without body", 401, ``, 0, false},
		{"http 502", 502, `bad gateway`, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeMerchantAPI(t)
			f.answer = func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}
			err := newMerchantClient(t, srv.URL+"/v2/merchant/", 0).Reverse(context.Background(), 1)
			var apiErr *click.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.Status)
			assert.Equal(t, tc.code, apiErr.Code)
			assert.Equal(t, tc.unavailable, errors.Is(err, domain.ErrUnavailable))
		})
	}
}

func TestMerchantClient_WrongAuthIsRefused(t *testing.T) {
	// The fake checks the header; a client with another secret is refused.
	f, srv := newFakeMerchantAPI(t)
	f.answer = func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"error_code":0}`) }
	c, err := click.NewMerchantClient(click.MerchantConfig{BaseURL: srv.URL, ServiceID: "12345", MerchantUserID: "123",
		SecretKey: "OTHER", Now: func() time.Time { return time.Unix(1519051543, 0) }})
	require.NoError(t, err)
	var apiErr *click.APIError
	require.ErrorAs(t, c.Reverse(context.Background(), 1), &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.Status)
}

func TestMerchantClient_PerCallTimeout(t *testing.T) {
	f, srv := newFakeMerchantAPI(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f.answer = func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	c := newMerchantClient(t, srv.URL, 50*time.Millisecond)
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
