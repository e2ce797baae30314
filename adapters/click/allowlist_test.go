package click_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/click"
	"github.com/ultramarket/gateway/adapters/ipallow"
	"github.com/ultramarket/gateway/test/testsupport"
)

// allowListed is a fixture that accepts calls from 203.0.113.0/24 only and
// takes the client IP from the peer address, as the app does without
// TRUSTED_PROXIES.
func allowListed(t *testing.T) *fixture {
	t.Helper()
	_, clickNet, err := net.ParseCIDR("203.0.113.0/24")
	require.NoError(t, err)
	fx := newFixture(t, click.Config{ServiceID: testServiceID, SecretKey: testSecret, AllowedIPs: ipallow.List{clickNet}})
	fx.e.IPExtractor = echo.ExtractIPDirect()
	return fx
}

func (fx *fixture) postFrom(t *testing.T, remote, path string, body io.Reader) map[string]any {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, path, body)
	req.Header.Set(echo.HeaderContentType, "application/x-www-form-urlencoded")
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	fx.e.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, "Click always gets HTTP 200")
	var out map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
	return out
}

// A call from outside CLICK_ALLOWED_IPS is answered -1 ("SIGN CHECK
// FAILED") before a byte of its body is read, so it can neither change
// anything nor make the service buffer a megabyte.
func TestCallsFromElsewhereAreMinus1WithoutReadingTheBody(t *testing.T) {
	fx := allowListed(t)
	for _, path := range []string{click.PreparePath, click.CompletePath} {
		body := &testsupport.RecordingBody{Size: 2 << 20} // over 1 MiB
		out := fx.postFrom(t, "198.51.100.7:40000", path, body)
		expectCode(t, out, -1)
		assert.False(t, body.WasRead(), "%s: the body was read", path)

		// A signed, well-formed call from elsewhere is refused just the same.
		form := prepareForm()
		if path == click.CompletePath {
			form = completeForm()
		}
		expectCode(t, fx.postFrom(t, "198.51.100.7:40000", path, strings.NewReader(form.sign(testSecret).encode())), -1)
	}
	assert.Empty(t, fx.prepare.calls, "nothing reached the use cases")
	assert.Empty(t, fx.complete.calls)
	assert.Equal(t, []string{"click/rejected", "click/rejected", "click/rejected", "click/rejected"}, fx.metrics.outcomes)
	assert.Contains(t, fx.logs.String(), `"client_ip":"198.51.100.7"`)

	// From Click's network the same call goes through.
	out := fx.postFrom(t, "203.0.113.5:40000", click.PreparePath, strings.NewReader(prepareForm().sign(testSecret).encode()))
	expectCode(t, out, 0)
	require.Len(t, fx.prepare.calls, 1)
}
