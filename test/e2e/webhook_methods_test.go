package e2e

// Which HTTP methods the payment webhooks answer, and how (API.md, "Exact
// rules → Payments"; shared/payments/SPEC.md §2.3 and §5). Payme's protocol
// answers a request that is not a POST with HTTP 200 and -32300, so its route
// takes the methods a client may send it. Click's protocol has no code for a
// method, but API.md says its webhooks never answer problem+json: its two
// routes take the same methods and answer any but POST with -8 (a malformed
// call), reading no body. Methods no client sends get the edge's 405.

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// paymeNotPost is Payme's answer to a request that is not a POST, byte for
// byte: no request id is read from a body that is never read.
const paymeNotPost = `{"jsonrpc":"2.0","id":null,"error":{"code":-32300,"message":{` +
	`"ru":"Метод запроса должен быть POST","uz":"So'rov usuli POST bo'lishi kerak","en":"Request method must be POST"}}}`

func TestWebhooks_PaymeAnswersEveryMethodItRoutesInItsProtocol(t *testing.T) {
	t.Parallel()
	g := newPayGateway(t)
	body := rawJSON(`{"method":"CheckTransaction","params":{"id":"5305e3bab097f420a62ced0b"},"id":7}`)
	auth := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(paymeLogin+":"+payPaymeKey))}

	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		t.Run(m, func(t *testing.T) {
			r := g.do(t, req{Method: m, Path: paymeRoute, Body: body, Header: auth})
			require.Equal(t, http.StatusOK, r.Status, "%s", r)
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Equal(t, paymeNotPost, string(r.Body))
		})
	}
	t.Run(http.MethodHead, func(t *testing.T) {
		r := g.do(t, req{Method: http.MethodHead, Path: paymeRoute, Header: auth})
		assert.Equal(t, http.StatusOK, r.Status, "%s", r)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Empty(t, r.Body)
	})
	t.Run(http.MethodPost, func(t *testing.T) {
		r := g.do(t, req{Method: http.MethodPost, Path: paymeRoute, Body: body, Header: auth})
		require.Equal(t, http.StatusOK, r.Status, "%s", r)
		assert.JSONEq(t, `{"jsonrpc":"2.0","id":7,"error":{"code":-31003,"message":{"ru":"Транзакция не найдена",`+
			`"uz":"Tranzaksiya topilmadi","en":"Transaction not found"}}}`, string(r.Body))
	})
	t.Run("other methods", func(t *testing.T) {
		for _, m := range []string{http.MethodTrace, "PROPFIND"} {
			r := g.do(t, req{Method: m, Path: paymeRoute, Header: auth})
			expectProblem(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
			assert.Equal(t, "OPTIONS, DELETE, GET, HEAD, PATCH, POST, PUT", r.Header.Get("Allow"), m)
		}
	})
}

func TestWebhooks_ClickAnswersEveryMethodItRoutesInItsProtocol(t *testing.T) {
	t.Parallel()
	g := newPayGateway(t)
	for _, path := range []string{"/api/payments/click/prepare", "/api/payments/click/complete"} {
		t.Run(path, func(t *testing.T) {
			for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete} {
				r := g.do(t, req{Method: m, Path: path})
				require.Equal(t, http.StatusOK, r.Status, "%s %s", m, r)
				assert.Equal(t, "application/json", r.Header.Get("Content-Type"), m)
				assert.Equal(t, -8.0, decode[map[string]any](t, r)["error"], "%s %s", m, r)
			}
			head := g.do(t, req{Method: http.MethodHead, Path: path})
			assert.Equal(t, http.StatusOK, head.Status)
			assert.Empty(t, head.Body)

			r := g.do(t, req{Method: http.MethodTrace, Path: path})
			expectProblem(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
			assert.Equal(t, "OPTIONS, DELETE, GET, HEAD, PATCH, POST, PUT", r.Header.Get("Allow"))

			r = g.do(t, req{Method: http.MethodPost, Path: path, Body: rawJSON("x=1")})
			require.Equal(t, http.StatusOK, r.Status, "%s", r)
			assert.Equal(t, -8.0, decode[map[string]any](t, r)["error"], "%s", r)
		})
	}
}
