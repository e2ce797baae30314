// Package payme is the Payme adapter: the Merchant API webhook (JSON-RPC 2.0
// over HTTP POST, inbound) and the checkout link builder (outbound).
//
// The webhook always answers HTTP 200 with a JSON-RPC envelope,
//
//	{"jsonrpc":"2.0","id":<the request's id>,"result":{...}}
//	{"jsonrpc":"2.0","id":<the request's id>,"error":{"code":-31008,"message":{"ru":…,"uz":…,"en":…},"data":…}}
//
// whatever happens: a bad body, wrong credentials, a refused payment, a
// database outage (-32400) or a panic. A request is checked in this order:
//
//  1. method POST (-32300);
//  2. who is calling, before a byte of the body is read, so an anonymous
//     caller cannot make us buffer a megabyte: the client IP against the
//     allow-list when one is configured, then HTTP Basic credentials
//     Login:Key, compared in constant time (-32504);
//  3. body ≤ 1 MiB and JSON (-32700), an object with a string "method" and
//     an object "params" (-32600);
//  4. a known method (-32601, data = the method name);
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
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/adapters/ipallow"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/payment"
)

// Route is where Payme calls us.
const Route = "/api/payments/payme"

// Provider is the provider label of the payments_total metric.
const Provider = string(payment.ProviderPayme)

// HandlerConfig is the webhook's configuration. An empty Key refuses every
// call (-32504): an unconfigured cashbox must not accept anyone.
type HandlerConfig struct {
	Login string // PAYME_LOGIN, "Paycom" unless Payme says otherwise
	Key   string // PAYME_KEY: the cashbox key (the sandbox's TEST_KEY in test)
	// AllowedIPs, when not empty, is the only place calls may come from
	// (client IP as Echo's IPExtractor derives it through TRUSTED_PROXIES).
	AllowedIPs ipallow.List
	// Logger defaults to slog.Default(). Nothing logged carries credentials.
	Logger *slog.Logger
}

// The use cases, as the handler calls them; application/payments' Payme
// use cases satisfy them. A nil one makes its method unknown (-32601).
type (
	CheckPerformer interface {
		Handle(ctx context.Context, in payments.PaymeCheckPerformInput) error
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

// UseCases are the Merchant API methods.
type UseCases struct {
	CheckPerformTransaction CheckPerformer
	CreateTransaction       Creator
	PerformTransaction      Performer
	CancelTransaction       Canceller
	CheckTransaction        Checker
	GetStatement            Statementer
	SetFiscalData           FiscalSetter
}

// Metrics counts outcomes; *metrics.Metrics satisfies it (nil-safe).
type Metrics interface {
	PaymentRecorded(provider, outcome string)
}

// Outcomes recorded in payments_total{provider="payme"}.
const (
	OutcomeAllowed      = "allowed"      // CheckPerformTransaction said yes
	OutcomeCreated      = "created"      // a new transaction
	OutcomePerformed    = "performed"    // paid
	OutcomeCancelled    = "cancelled"    // cancelled before perform
	OutcomeRefunded     = "refunded"     // cancelled after perform
	OutcomeReplayed     = "replayed"     // Create/Perform/Cancel repeated, stored answer
	OutcomeTimedOut     = "timed_out"    // lazily cancelled for the 12-hour timeout, -31008
	OutcomeChecked      = "checked"      // CheckTransaction
	OutcomeStatement    = "statement"    // GetStatement
	OutcomeFiscal       = "fiscal"       // SetFiscalData stored
	OutcomeRejected     = "rejected"     // a business refusal (-31xxx, -32001)
	OutcomeInvalid      = "invalid"      // a protocol error (-32300, -32700, -32600, -32601, -32602)
	OutcomeUnauthorized = "unauthorized" // -32504
	OutcomeError        = "error"        // -32400
)

type handler struct {
	loginSum, keySum [sha256.Size]byte
	keySet           bool
	allowed          ipallow.List
	uc               UseCases
	metrics          Metrics
	log              *slog.Logger
}

// NewHandler returns the handler of POST /api/payments/payme. metrics may be nil.
func NewHandler(cfg HandlerConfig, uc UseCases, metrics Metrics) echo.HandlerFunc {
	h := &handler{
		loginSum: sha256.Sum256([]byte(cfg.Login)),
		keySum:   sha256.Sum256([]byte(cfg.Key)),
		keySet:   cfg.Key != "",
		allowed:  cfg.AllowedIPs,
		uc:       uc,
		metrics:  metrics,
		log:      cfg.Logger,
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h.serve
}

// reply is what one call produced: the envelope and how to count and log it.
type reply struct {
	resp    response
	method  string
	outcome string
	cause   error // for the log only
	paymeID string
}

func (h *handler) serve(c echo.Context) error {
	ctx := c.Request().Context()
	rep := h.safely(c)
	if h.metrics != nil {
		h.metrics.PaymentRecorded(Provider, rep.outcome)
	}
	h.logReply(ctx, rep)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, encode(rep.resp))
}

// safely turns a panic anywhere below into a -32400 answer, so Payme still
// gets HTTP 200 and its protocol.
func (h *handler) safely(c echo.Context) (rep reply) {
	defer func() {
		if r := recover(); r != nil {
			rep = reply{
				resp:    errorResponse(rep.resp.ID, newError(CodeSystemError, nil)),
				method:  rep.method,
				outcome: OutcomeError,
				cause:   fmt.Errorf("panic: %v\n%s", r, debug.Stack()),
			}
		}
	}()
	h.answer(c, &rep)
	return rep
}

// answer fills rep step by step (the request id first, so that even a
// panic later is answered with it), following the order in the package
// documentation.
func (h *handler) answer(c echo.Context, rep *reply) {
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
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxBodyBytes+1))
	if err != nil || len(body) > MaxBodyBytes {
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
	call, e := decodeParams(env.method, env.params)
	if e != nil {
		fail(e)
		return
	}
	result, outcome, paymeID, err := h.dispatch(req.Context(), call)
	rep.paymeID = paymeID
	switch {
	case err != nil:
		fail(errorFor(env.method, err))
		if errors.Is(err, payment.ErrTimedOut) {
			rep.outcome = OutcomeTimedOut // a -31008 that changed state: worth its own count
		}
	case result == nil: // a method whose use case is not wired
		fail(newError(CodeMethodNotFound, env.method))
	default:
		rep.resp, rep.outcome = resultResponse(rep.resp.ID, result), outcome
	}
}

// dispatch runs the use case of a decoded call and shapes its result as
// SPEC §2.4–2.10 shows. A nil result with a nil error means "not wired".
func (h *handler) dispatch(ctx context.Context, call any) (result any, outcome, paymeID string, err error) {
	switch c := call.(type) {
	case checkPerformCall:
		if h.uc.CheckPerformTransaction == nil {
			return nil, "", "", nil
		}
		if err := h.uc.CheckPerformTransaction.Handle(ctx, c.in); err != nil {
			return nil, "", "", err
		}
		return allowResult{Allow: true}, OutcomeAllowed, "", nil

	case createCall:
		if h.uc.CreateTransaction == nil {
			return nil, "", c.in.PaymeID, nil
		}
		res, err := h.uc.CreateTransaction.Handle(ctx, c.in)
		if err != nil {
			return nil, "", c.in.PaymeID, err
		}
		t := res.Tx
		return createResult{CreateTime: t.CreateTime(), Transaction: t.ID(), State: int(t.State())},
			changedOutcome(res.Changed, OutcomeCreated), c.in.PaymeID, nil

	case performCall:
		if h.uc.PerformTransaction == nil {
			return nil, "", c.id, nil
		}
		res, err := h.uc.PerformTransaction.Handle(ctx, c.id)
		if err != nil {
			return nil, "", c.id, err
		}
		t := res.Tx
		return performResult{Transaction: t.ID(), PerformTime: t.PerformTime(), State: int(t.State())},
			changedOutcome(res.Changed, OutcomePerformed), c.id, nil

	case cancelCall:
		if h.uc.CancelTransaction == nil {
			return nil, "", c.id, nil
		}
		res, err := h.uc.CancelTransaction.Handle(ctx, c.id, c.reason)
		if err != nil {
			return nil, "", c.id, err
		}
		if res.StockReleaseErr != nil {
			// The refund stands; the stock needs a hand.
			h.log.ErrorContext(ctx, "payme refund: stock not released", "payme_id", c.id,
				"order_id", res.Tx.OrderID(), "err", res.StockReleaseErr)
		}
		t := res.Tx
		outcome := OutcomeCancelled
		if t.State() == payment.PaymeCancelledAfterPerform {
			outcome = OutcomeRefunded
		}
		return cancelResult{Transaction: t.ID(), CancelTime: t.CancelTime(), State: int(t.State())},
			changedOutcome(res.Changed, outcome), c.id, nil

	case checkCall:
		if h.uc.CheckTransaction == nil {
			return nil, "", c.id, nil
		}
		t, err := h.uc.CheckTransaction.Handle(ctx, c.id)
		if err != nil {
			return nil, "", c.id, err
		}
		return checkResult{CreateTime: t.CreateTime(), PerformTime: t.PerformTime(), CancelTime: t.CancelTime(),
			Transaction: t.ID(), State: int(t.State()), Reason: reasonOf(t)}, OutcomeChecked, c.id, nil

	case statementCall:
		if h.uc.GetStatement == nil {
			return nil, "", "", nil
		}
		txs, err := h.uc.GetStatement.Handle(ctx, c.from, c.to)
		if err != nil {
			return nil, "", "", err
		}
		out := statementResult{Transactions: make([]statementTx, 0, len(txs))}
		for _, t := range txs {
			account := t.Account()
			if account == nil {
				account = map[string]string{}
			}
			out.Transactions = append(out.Transactions, statementTx{
				ID: t.PaymeID(), Time: t.PaymeTime(), Amount: t.Amount().Tiyin(), Account: account,
				CreateTime: t.CreateTime(), PerformTime: t.PerformTime(), CancelTime: t.CancelTime(),
				Transaction: t.ID(), State: int(t.State()), Reason: reasonOf(t),
			})
		}
		return out, OutcomeStatement, "", nil

	case fiscalCall:
		if h.uc.SetFiscalData == nil {
			return nil, "", c.in.PaymeID, nil
		}
		if err := h.uc.SetFiscalData.Handle(ctx, c.in); err != nil {
			return nil, "", c.in.PaymeID, err
		}
		return successResult{Success: true}, OutcomeFiscal, c.in.PaymeID, nil
	}
	return nil, "", "", fmt.Errorf("payme: no dispatch for %T", call)
}

// The result shapes, field order as Payme's documentation shows them.
type (
	allowResult struct {
		Allow bool `json:"allow"`
	}
	createResult struct {
		CreateTime  int64  `json:"create_time"`
		Transaction string `json:"transaction"`
		State       int    `json:"state"`
	}
	performResult struct {
		Transaction string `json:"transaction"`
		PerformTime int64  `json:"perform_time"`
		State       int    `json:"state"`
	}
	cancelResult struct {
		Transaction string `json:"transaction"`
		CancelTime  int64  `json:"cancel_time"`
		State       int    `json:"state"`
	}
	checkResult struct {
		CreateTime  int64  `json:"create_time"`
		PerformTime int64  `json:"perform_time"`
		CancelTime  int64  `json:"cancel_time"`
		Transaction string `json:"transaction"`
		State       int    `json:"state"`
		Reason      *int   `json:"reason"`
	}
	statementResult struct {
		Transactions []statementTx `json:"transactions"`
	}
	statementTx struct {
		ID          string            `json:"id"`
		Time        int64             `json:"time"`
		Amount      int64             `json:"amount"`
		Account     map[string]string `json:"account"`
		CreateTime  int64             `json:"create_time"`
		PerformTime int64             `json:"perform_time"`
		CancelTime  int64             `json:"cancel_time"`
		Transaction string            `json:"transaction"`
		State       int               `json:"state"`
		Reason      *int              `json:"reason"`
		Receivers   []struct{}        `json:"receivers"` // always null: we are the only receiver
	}
	successResult struct {
		Success bool `json:"success"`
	}
)

func reasonOf(t *payment.PaymeTransaction) *int {
	r := t.Reason()
	if r == nil {
		return nil
	}
	n := int(*r)
	return &n
}

func changedOutcome(changed bool, outcome string) string {
	if changed {
		return outcome
	}
	return OutcomeReplayed
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

// logReply logs one call: refusals and internal errors with their cause,
// never the request's headers or body.
func (h *handler) logReply(ctx context.Context, rep reply) {
	method := rep.method
	if len(method) > 64 { // it is the caller's text
		method = method[:64] + "…"
	}
	attrs := []any{"method", method, "outcome", rep.outcome}
	if rep.paymeID != "" {
		attrs = append(attrs, "payme_id", rep.paymeID)
	}
	if rep.resp.Error != nil {
		attrs = append(attrs, "code", rep.resp.Error.Code)
	}
	switch {
	case rep.outcome == OutcomeError:
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
