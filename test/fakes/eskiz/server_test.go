package eskiz_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fakeeskiz "github.com/ultramarket/gateway/test/fakes/eskiz"
)

func do(t *testing.T, method, u, contentType, token string, body io.Reader) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

const formType = "application/x-www-form-urlencoded"

func login(t *testing.T, fake *fakeeskiz.Server) string {
	t.Helper()
	form := url.Values{"email": {fakeeskiz.Email}, "password": {fakeeskiz.Password}}
	status, out := do(t, http.MethodPost, fake.URL()+"/auth/login", formType, "", strings.NewReader(form.Encode()))
	require.Equal(t, http.StatusOK, status, out)
	assert.Equal(t, "token_generated", out["message"])
	assert.Equal(t, "bearer", out["token_type"])
	return out["data"].(map[string]any)["token"].(string)
}

// The shapes of SMS.md §1, and the 401s a client has to tell apart.
func TestFakeSpeaksEskiz(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	fake := fakeeskiz.New(fakeeskiz.WithClock(clock))
	t.Cleanup(fake.Close)

	form := url.Values{"email": {fakeeskiz.Email}, "password": {"wrong"}}
	status, out := do(t, http.MethodPost, fake.URL()+"/auth/login", formType, "", strings.NewReader(form.Encode()))
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "Invalid credentials", out["message"])

	tok := login(t, fake)
	assert.Len(t, strings.Split(tok, "."), 3, "a JWT")

	// Send, multipart this time.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("mobile_phone", "998901234567"))
	require.NoError(t, mw.WriteField("message", "Bu Eskiz dan test"))
	require.NoError(t, mw.WriteField("from", "4546"))
	require.NoError(t, mw.Close())
	status, out = do(t, http.MethodPost, fake.URL()+"/message/sms/send", mw.FormDataContentType(), tok, &body)
	require.Equal(t, http.StatusOK, status, out)
	assert.Equal(t, "waiting", out["status"])
	assert.Equal(t, "Waiting for SMS provider", out["message"])
	sent := fake.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, out["id"], sent[0].ID)
	assert.Equal(t, fakeeskiz.Message{ID: sent[0].ID, Phone: "998901234567", Text: "Bu Eskiz dan test", From: "4546", Token: tok}, sent[0])

	// JSON bodies and "+998..." numbers are refused.
	status, _ = do(t, http.MethodPost, fake.URL()+"/message/sms/send", "application/json", tok,
		strings.NewReader(`{"mobile_phone":"998901234567","message":"x","from":"4546"}`))
	assert.Equal(t, http.StatusBadRequest, status)
	send := url.Values{"mobile_phone": {"+998901234567"}, "message": {"x"}, "from": {"4546"}}
	status, _ = do(t, http.MethodPost, fake.URL()+"/message/sms/send", formType, tok, strings.NewReader(send.Encode()))
	assert.Equal(t, http.StatusBadRequest, status)

	status, out = do(t, http.MethodGet, fake.URL()+"/auth/user", "", tok, nil)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "success", out["status"])

	// Past exp: 401 without token_invalid; a refresh still works and revokes it.
	mu.Lock()
	now = now.Add(fakeeskiz.DefaultTokenTTL)
	mu.Unlock()
	status, out = do(t, http.MethodGet, fake.URL()+"/auth/user", "", tok, nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Nil(t, out["status"])
	status, out = do(t, http.MethodPatch, fake.URL()+"/auth/refresh", "", tok, nil)
	require.Equal(t, http.StatusOK, status, out)
	fresh := out["data"].(map[string]any)["token"].(string)
	assert.NotEqual(t, tok, fresh)
	status, out = do(t, http.MethodGet, fake.URL()+"/auth/user", "", tok, nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "token_invalid", out["status"], "a refreshed token is revoked")
	status, _ = do(t, http.MethodGet, fake.URL()+"/auth/user", "", fresh, nil)
	assert.Equal(t, http.StatusOK, status)

	// Forged: token_invalid.
	status, out = do(t, http.MethodGet, fake.URL()+"/auth/user", "", fresh+"x", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "token_invalid", out["status"])

	assert.Equal(t, 2, fake.Calls(fakeeskiz.RouteLogin))
	assert.Equal(t, 3, fake.Calls(fakeeskiz.RouteSend))
	assert.Len(t, fake.Tokens(), 2)
}
