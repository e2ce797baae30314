// Package webhook is the plumbing the payment gateways' inbound webhooks
// share (adapters/payme, adapters/click). Whatever one call comes to — an
// answer, a refusal, a failure of ours, a panic — the gateway gets HTTP 200
// with a body in its own protocol, the call's outcome is counted once in
// payments_total{provider,outcome}, and the call is logged once.
//
// Each gateway's adapter is a Protocol: how to work a call out, how its
// protocol answers a failure of ours, what the outcome is called and how the
// log line reads. Handler runs those steps, in that order, for both.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"
)

// Outcomes both gateways record under these names.
const (
	// OutcomeError is a failure of ours (Payme -32400, Click -7, a panic):
	// the gateway will retry, and it is the outcome to alert on.
	OutcomeError = "error"
	// OutcomeRejected is a refusal the protocol answers without an outcome
	// of its own.
	OutcomeRejected = "rejected"
)

// Methods are the HTTP methods a gateway's adapter routes to its webhook: a
// client may send any of them, and both protocols answer all but POST in
// their own format, HTTP 200 (Payme -32300, SPEC §2.3; Click -8), never with
// the edge's 405 problem (API.md). Methods nobody sends (TRACE, ...) still
// get the 405. HEAD is answered by the GET route (the edge routes it so); it
// is listed so that a 405's Allow names it.
var Methods = []string{http.MethodPost, http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete}

// Recorder counts webhook outcomes: payments_total{provider,outcome}.
// *metrics.Metrics is one (and does nothing when nil).
type Recorder interface {
	PaymentRecorded(provider, outcome string)
}

// Protocol is one gateway's side of a call to one of its routes. C is the
// call as it goes: what was read of the request and the answer so far. It
// is filled in place, so that the answer to a panic can still echo what was
// read before it (Payme's request id, Click's ids).
type Protocol[C any] interface {
	// Answer works the call out into c. A panic in it is a bug, which
	// Handler turns into Failed.
	Answer(ec echo.Context, c *C)
	// Failed makes c the protocol's answer to a failure of ours, keeping
	// what Answer had read; cause is for the log only.
	Failed(c *C, cause error)
	// Outcome is c's label in payments_total.
	Outcome(c *C) string
	// Log writes the call's one log line; outcome is what was counted.
	Log(ctx context.Context, c *C, outcome string)
	// Write sends the answer, always with HTTP 200.
	Write(ec echo.Context, c *C) error
}

// Handler serves one route with p: the call is worked out (a panic becomes
// the protocol's failure answer), its outcome counted for provider (rec may
// be nil), the call logged, and the answer written.
func Handler[C any](provider string, rec Recorder, p Protocol[C]) echo.HandlerFunc {
	return func(ec echo.Context) error {
		var c C
		if cause := recovered(func() { p.Answer(ec, &c) }); cause != nil {
			p.Failed(&c, cause)
		}
		outcome := p.Outcome(&c)
		if rec != nil {
			rec.PaymentRecorded(provider, outcome)
		}
		p.Log(ec.Request().Context(), &c, outcome)
		return p.Write(ec, &c)
	}
}

// recovered runs f and returns the panic it raised, with its stack, as an
// error for the log; nil when f returned.
func recovered(f func()) (cause error) {
	defer func() {
		if r := recover(); r != nil {
			cause = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	f()
	return nil
}

// MaxBodyBytes caps a webhook body (1 MiB). The gateways' calls are a few
// hundred bytes; a larger body is refused without being parsed.
const MaxBodyBytes = 1 << 20

// ErrBodyTooLarge is ReadBody's answer to a body over MaxBodyBytes.
var ErrBodyTooLarge = errors.New("webhook: body over 1 MiB")

// ReadBody reads a request body of at most MaxBodyBytes: ErrBodyTooLarge
// for a larger one (read no further than one byte past the limit), or the
// read's error.
func ReadBody(body io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("webhook: read body: %w", err)
	}
	if len(b) > MaxBodyBytes {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}
