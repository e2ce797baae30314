// Package payme is the Payme adapter: the Merchant API webhook (JSON-RPC 2.0
// over HTTP POST, inbound) and the checkout link builder (outbound).
//
// The webhook always answers HTTP 200 with a JSON-RPC envelope,
//
//	{"jsonrpc":"2.0","id":<the request's id>,"result":{...}}
//	{"jsonrpc":"2.0","id":<the request's id>,"error":{"code":-31008,"message":{"ru":…,"uz":…,"en":…},"data":…}}
//
// whatever happens: a bad body, wrong credentials, a refused payment, a
// database outage (-32400) or a panic (adapters/webhook does the counting,
// logging and panic handling both gateways share). A request is checked in
// this order:
//
//  1. method POST (-32300): Register routes every method a client may send
//     here, so that Payme's protocol, not the edge's 405, answers them;
//  2. who is calling, before a byte of the body is read, so an anonymous
//     caller cannot make us buffer a megabyte: the client IP against the
//     allow-list when one is configured, then HTTP Basic credentials
//     Login:Key, compared in constant time (-32504);
//  3. body ≤ 1 MiB and JSON (-32700), an object with a string "method" and
//     an object "params" (-32600);
//  4. a known method (-32601, data = the method name): one of the entries
//     of the method table (methods.go);
//  5. the method's params, strictly (-32600 with data = the field name;
//     -31050 with data "order_id" for an account without one);
//  6. the use case; its errors map to Payme's codes in errorFor.
//
// The request id is echoed as sent (any JSON type), or null when absent or
// when the call was refused before its body was read (steps 1 and 2).
// Replays are answered from stored values, so two identical calls get
// identical bodies, byte for byte.
package payme

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/adapters/ipallow"
	"github.com/ultramarket/gateway/adapters/webhook"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/payment"
)

// Route is where Payme calls us.
const Route = "/api/payments/payme"

// Config is the webhook's configuration. An empty Key refuses every call
// (-32504): an unconfigured cashbox must not accept anyone.
type Config struct {
	Login string // PAYME_LOGIN, "Paycom" unless Payme says otherwise
	Key   string // PAYME_KEY: the cashbox key (the sandbox's TEST_KEY in test)
	// AllowedIPs, when not empty, is the only place calls may come from
	// (client IP as Echo's IPExtractor derives it through TRUSTED_PROXIES).
	AllowedIPs ipallow.List
	// Logger defaults to slog.Default(). Nothing logged carries credentials.
	Logger *slog.Logger
}

// The use cases, as the webhook calls them; application/payments' Payme
// use cases satisfy them. A nil one makes its method unknown (-32601).
type (
	CheckPerformer interface {
		Handle(ctx context.Context, in payments.PaymeCheckPerformInput) (payments.PaymeCheckPerformResult, error)
	}
	Creator interface {
		Handle(ctx context.Context, in payments.PaymeCreateInput) (payments.PaymeResult, error)
	}
	Performer interface {
		Handle(ctx context.Context, paymeID string) (payments.PaymeResult, error)
	}
	Canceller interface {
		Handle(ctx context.Context, paymeID string, reason payment.Reason) (payments.PaymeCancelResult, error)
	}
	Checker interface {
		Handle(ctx context.Context, paymeID string) (*payment.PaymeTransaction, error)
	}
	Statementer interface {
		Handle(ctx context.Context, from, to int64) ([]*payment.PaymeTransaction, error)
	}
	FiscalSetter interface {
		Handle(ctx context.Context, in payments.PaymeFiscalInput) error
	}
)

// UseCases are what the Merchant API methods run, one per method (the method
// table in methods.go says which).
type UseCases struct {
	CheckPerformTransaction CheckPerformer
	CreateTransaction       Creator
	PerformTransaction      Performer
	CancelTransaction       Canceller
	CheckTransaction        Checker
	GetStatement            Statementer
	SetFiscalData           FiscalSetter
}

// Outcomes recorded in payments_total{provider="payme"}.
const (
	OutcomeAllowed      = "allowed"               // CheckPerformTransaction said yes
	OutcomeCreated      = "created"               // a new transaction
	OutcomePerformed    = "performed"             // paid
	OutcomeCancelled    = "cancelled"             // cancelled before perform
	OutcomeRefunded     = "refunded"              // cancelled after perform
	OutcomeReplayed     = "replayed"              // Create/Perform/Cancel repeated, stored answer
	OutcomeTimedOut     = "timed_out"             // lazily cancelled for the 12-hour timeout, -31008
	OutcomeChecked      = "checked"               // CheckTransaction
	OutcomeStatement    = "statement"             // GetStatement
	OutcomeFiscal       = "fiscal"                // SetFiscalData stored
	OutcomeRejected     = webhook.OutcomeRejected // a business refusal (-31xxx, -32001)
	OutcomeInvalid      = "invalid"               // a protocol error (-32300, -32700, -32600, -32601, -32602)
	OutcomeUnauthorized = "unauthorized"          // -32504
	OutcomeError        = webhook.OutcomeError    // -32400
)

// Webhook is Payme's Merchant API endpoint.
type Webhook struct {
	serve echo.HandlerFunc
}

// NewWebhook builds the webhook; rec counts outcomes and may be nil.
func NewWebhook(cfg Config, uc UseCases, rec webhook.Recorder) *Webhook {
	h := &handler{
		loginSum: sha256.Sum256([]byte(cfg.Login)),
		keySum:   sha256.Sum256([]byte(cfg.Key)),
		keySet:   cfg.Key != "",
		allowed:  cfg.AllowedIPs,
		log:      cfg.Logger,
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.methods = methods(uc, h.log)
	return &Webhook{serve: webhook.Handler[reply](string(payment.ProviderPayme), rec, h)}
}

// Register mounts the webhook at Route on the public server, for every
// method in webhook.Methods. It needs no other middleware: it decides who calls
// itself, and the edge exempts it from the body limit and the rate limits.
func (w *Webhook) Register(e *echo.Echo) {
	e.Match(webhook.Methods, Route, w.serve)
}

// handler is the webhook's side of the protocol (a webhook.Protocol).
type handler struct {
	loginSum, keySum [sha256.Size]byte
	keySet           bool
	allowed          ipallow.List
	methods          map[string]method
	log              *slog.Logger
}

// reply is what one call produced: the envelope and how to count and log it.
type reply struct {
	resp    response
	method  string
	outcome string
	cause   error // for the log only
	paymeID string
}

// Answer fills rep step by step (the request id first, so that even a panic
// later is answered with it), following the order in the package
// documentation.
func (h *handler) Answer(c echo.Context, rep *reply) {
	fail := func(e *rpcError) {
		rep.resp, rep.outcome = errorResponse(rep.resp.ID, e), outcomeOf(e.code)
		if e.cause != nil {
			rep.cause = e.cause
		}
	}
	req := c.Request()
	if req.Method != http.MethodPost {
		fail(newError(CodeMethodNotPost, nil))
		return
	}
	// Who calls is decided from the connection and the headers alone; the
	// body of a refused call is never read (the server closes the
	// connection rather than drain a large one).
	if ip := c.RealIP(); !h.allowed.Allows(ip) {
		e := newError(CodeInsufficientPrivs, nil)
		e.cause = fmt.Errorf("client ip %s is not allowed", ip)
		fail(e)
		return
	}
	if !h.authorized(req) {
		e := newError(CodeInsufficientPrivs, nil)
		e.cause = errors.New("missing or wrong credentials")
		fail(e)
		return
	}
	body, err := webhook.ReadBody(req.Body)
	if err != nil {
		e := newError(CodeParseError, nil)
		e.cause = err
		fail(e)
		return
	}
	env, e := decodeEnvelope(body)
	rep.resp.ID, rep.method = env.id, env.method
	if e != nil {
		fail(e)
		return
	}
	m, known := h.methods[env.method]
	if !known {
		fail(newError(CodeMethodNotFound, env.method))
		return
	}
	call, e := m.decode(env.params)
	if e != nil {
		fail(e)
		return
	}
	rep.paymeID = call.paymeID
	if call.run == nil { // a method whose use case is not wired
		fail(newError(CodeMethodNotFound, env.method))
		return
	}
	result, outcome, err := call.run(req.Context())
	if err != nil {
		fail(errorFor(err, m.validationCode))
		if errors.Is(err, payment.ErrTimedOut) {
			rep.outcome = OutcomeTimedOut // a -31008 that changed state: worth its own count
		}
		return
	}
	rep.resp, rep.outcome = resultResponse(rep.resp.ID, result), outcome
}

// Failed answers -32400 with the request's id, so Payme still gets HTTP 200
// and its protocol.
func (h *handler) Failed(rep *reply, cause error) {
	rep.resp = errorResponse(rep.resp.ID, newError(CodeSystemError, nil))
	rep.outcome, rep.cause = OutcomeError, cause
}

func (h *handler) Outcome(rep *reply) string { return rep.outcome }

func (h *handler) Write(c echo.Context, rep *reply) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, encode(rep.resp))
}

func outcomeOf(code int) string {
	switch code {
	case CodeInsufficientPrivs:
		return OutcomeUnauthorized
	case CodeSystemError:
		return OutcomeError
	case CodeMethodNotPost, CodeParseError, CodeInvalidRequest, CodeMethodNotFound, CodeInvalidParams:
		return OutcomeInvalid
	}
	return OutcomeRejected
}

// authorized checks HTTP Basic Login:Key. Both parts are compared, always,
// as SHA-256 digests with subtle.ConstantTimeCompare, so neither the time
// nor the length of the comparison tells a guesser anything.
func (h *handler) authorized(r *http.Request) bool {
	login, key, ok := r.BasicAuth()
	l := sha256.Sum256([]byte(login))
	k := sha256.Sum256([]byte(key))
	loginOK := subtle.ConstantTimeCompare(l[:], h.loginSum[:])
	keyOK := subtle.ConstantTimeCompare(k[:], h.keySum[:])
	return ok && h.keySet && loginOK&keyOK == 1
}

// Log logs one call: refusals and internal errors with their cause, never
// the request's headers or body.
func (h *handler) Log(ctx context.Context, rep *reply, outcome string) {
	method := rep.method
	if len(method) > 64 { // it is the caller's text
		method = method[:64] + "…"
	}
	attrs := []any{"method", method, "outcome", outcome}
	if rep.paymeID != "" {
		attrs = append(attrs, "payme_id", rep.paymeID)
	}
	if rep.resp.Error != nil {
		attrs = append(attrs, "code", rep.resp.Error.Code)
	}
	switch {
	case outcome == OutcomeError:
		h.log.ErrorContext(ctx, "payme call failed", append(attrs, "err", rep.cause)...)
	case rep.resp.Error != nil:
		if rep.cause != nil {
			attrs = append(attrs, "reason", rep.cause.Error())
		}
		h.log.InfoContext(ctx, "payme call refused", attrs...)
	default:
		h.log.InfoContext(ctx, "payme call", attrs...)
	}
}
