package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/webhook"
)

// call is a fake protocol's call: what Answer read, and the answer.
type call struct {
	read   string
	answer string
	cause  error
}

// protocol is a fake gateway: it reads the body into the call before it
// (maybe) panics, and records what the plumbing asked of it.
type protocol struct {
	panics bool
	steps  []string
	logged []string
}

func (p *protocol) Answer(ec echo.Context, c *call) {
	p.steps = append(p.steps, "answer")
	b, err := webhook.ReadBody(ec.Request().Body)
	if err != nil {
		c.answer = "refused"
		return
	}
	c.read = string(b)
	if p.panics {
		panic("boom")
	}
	c.answer = "ok"
}

func (p *protocol) Failed(c *call, cause error) {
	p.steps = append(p.steps, "failed")
	c.answer, c.cause = "failure of ours", cause
}

func (p *protocol) Outcome(c *call) string {
	p.steps = append(p.steps, "outcome")
	if c.cause != nil {
		return webhook.OutcomeError
	}
	return c.answer
}

func (p *protocol) Log(_ context.Context, c *call, outcome string) {
	p.steps = append(p.steps, "log")
	p.logged = append(p.logged, outcome+": "+c.read)
}

func (p *protocol) Write(ec echo.Context, c *call) error {
	p.steps = append(p.steps, "write")
	return ec.String(http.StatusOK, c.answer+" for "+c.read)
}

type recorder struct{ counted []string }

func (r *recorder) PaymentRecorded(provider, outcome string) {
	r.counted = append(r.counted, provider+"/"+outcome)
}

func serve(t *testing.T, h echo.HandlerFunc, body string) *httptest.ResponseRecorder {
	t.Helper()
	e := echo.New()
	e.POST("/hook", h)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/hook", strings.NewReader(body)))
	return rec
}

func TestHandlerCountsLogsAndWritesEachCallOnce(t *testing.T) {
	p, rec := &protocol{}, &recorder{}
	out := serve(t, webhook.Handler[call]("gw", rec, p), "id=1")
	assert.Equal(t, http.StatusOK, out.Code)
	assert.Equal(t, "ok for id=1", out.Body.String())
	assert.Equal(t, []string{"answer", "outcome", "log", "write"}, p.steps)
	assert.Equal(t, []string{"gw/ok"}, rec.counted)
	assert.Equal(t, []string{"ok: id=1"}, p.logged)
}

// A panic is the protocol's answer to a failure of ours, with HTTP 200,
// echoing what was read before it; it is counted as an error and logged
// with its cause.
func TestHandlerAnswersAPanicInTheProtocol(t *testing.T) {
	p, rec := &protocol{panics: true}, &recorder{}
	var failedWith error
	h := webhook.Handler[call]("gw", rec, failedSpy{p, &failedWith})
	out := serve(t, h, "id=2")
	assert.Equal(t, http.StatusOK, out.Code)
	assert.Equal(t, "failure of ours for id=2", out.Body.String())
	assert.Equal(t, []string{"answer", "failed", "outcome", "log", "write"}, p.steps)
	assert.Equal(t, []string{"gw/" + webhook.OutcomeError}, rec.counted)
	require.Error(t, failedWith)
	assert.Contains(t, failedWith.Error(), "panic: boom")
	assert.Contains(t, failedWith.Error(), "webhook_test", "the stack, for the log")
}

// failedSpy keeps the cause Failed got.
type failedSpy struct {
	*protocol
	cause *error
}

func (s failedSpy) Failed(c *call, cause error) {
	*s.cause = cause
	s.protocol.Failed(c, cause)
}

func TestHandlerWithoutARecorder(t *testing.T) {
	p := &protocol{}
	out := serve(t, webhook.Handler[call]("gw", nil, p), "id=3")
	assert.Equal(t, "ok for id=3", out.Body.String())
	assert.Equal(t, []string{"ok: id=3"}, p.logged)
}

func TestReadBodyStopsPastOneMiB(t *testing.T) {
	b, err := webhook.ReadBody(strings.NewReader(strings.Repeat("a", webhook.MaxBodyBytes)))
	require.NoError(t, err)
	assert.Len(t, b, webhook.MaxBodyBytes)

	big := &countingReader{r: strings.NewReader(strings.Repeat("a", 3*webhook.MaxBodyBytes))}
	_, err = webhook.ReadBody(big)
	assert.ErrorIs(t, err, webhook.ErrBodyTooLarge)
	assert.LessOrEqual(t, big.n, webhook.MaxBodyBytes+1, "read no further than one byte past the limit")

	boom := errors.New("connection reset")
	_, err = webhook.ReadBody(failingReader{boom})
	assert.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, webhook.ErrBodyTooLarge)
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }
