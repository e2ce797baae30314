// Package click is the gateway's side of Click: the SHOP-API webhooks Click
// calls when a buyer pays (Prepare, then Complete), the CLICK-Button pay link
// buyers follow, and a client of Click's Merchant API for reconciliation.
//
// The webhooks speak Click's protocol, not ours: a signed
// application/x-www-form-urlencoded POST in, HTTP 200 with a JSON body out,
// errors included (shared/payments/SPEC.md §5); adapters/webhook does the
// counting, logging and panic handling both gateways share. Register routes
// the usual methods, and any but POST is answered -8 in Click's format (API.md:
// the webhooks never answer problem+json). The checks of the protocol
// itself — the caller's address (CLICK_ALLOWED_IPS, decided before the body
// is read), the method, a readable form, our service_id, the signature, the action — are
// made here; what they mean for the order is the use cases' business
// (application/payments), whose errors map to Click's codes in one place,
// codeFor.
package click

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/adapters/ipallow"
	"github.com/ultramarket/gateway/adapters/webhook"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
)

// The routes Click is configured to call.
const (
	PreparePath  = "/api/payments/click/prepare"
	CompletePath = "/api/payments/click/complete"
)

// Click's error codes (SPEC §5.5).
const (
	codeOK                  = 0
	codeSignFailed          = -1
	codeBadAmount           = -2
	codeActionNotFound      = -3
	codeAlreadyPaid         = -4
	codeUserNotFound        = -5
	codeTransactionNotFound = -6
	codeUpdateFailed        = -7
	codeBadRequest          = -8
	codeCancelled           = -9
)

// errorNotes are Click's texts for the codes (SPEC §5.5).
var errorNotes = map[int]string{
	codeOK:                  "Success",
	codeSignFailed:          "SIGN CHECK FAILED!",
	codeBadAmount:           "Incorrect parameter amount",
	codeActionNotFound:      "Action not found",
	codeAlreadyPaid:         "Already paid",
	codeUserNotFound:        "User does not exist",
	codeTransactionNotFound: "Transaction does not exist",
	codeUpdateFailed:        "Failed to update user",
	codeBadRequest:          "Error in request from click",
	codeCancelled:           "Transaction cancelled",
}

// Metrics outcomes of payments_total{provider="click"}.
const (
	outcomePrepared  = "prepared"
	outcomeConfirmed = "confirmed"
	outcomeCancelled = "cancelled" // Click cancelled an attempt we had not confirmed
	// Click cancelled an attempt we had confirmed: a claim, refunded only
	// once Click's Merchant API confirms it (application/reconciliation).
	outcomeCancelClaimed = "cancel_claimed"
	outcomeRejected      = webhook.OutcomeRejected // any other answer but -7
	outcomeError         = webhook.OutcomeError    // -7: our failure
)

// Config is what Click gave us for the SHOP-API.
type Config struct {
	ServiceID string // decimal
	SecretKey string
	// AllowedIPs, when not empty, is the only place calls may come from
	// (client IP as Echo's IPExtractor derives it through TRUSTED_PROXIES);
	// a call from elsewhere is answered -1 without its body being read.
	AllowedIPs ipallow.List
	// Logger defaults to slog.Default(). Nothing logged carries the secret
	// or a signature.
	Logger *slog.Logger
}

// PrepareUseCase is payments.ClickPrepare.
type PrepareUseCase interface {
	Handle(ctx context.Context, in payments.ClickPrepareInput) (*payment.ClickTransaction, error)
}

// CompleteUseCase is payments.ClickComplete.
type CompleteUseCase interface {
	Handle(ctx context.Context, in payments.ClickCompleteInput) (payments.ClickCompleteResult, error)
}

// UseCases are what the two webhooks run.
type UseCases struct {
	Prepare  PrepareUseCase
	Complete CompleteUseCase
}

// Webhook is Click's two SHOP-API endpoints.
type Webhook struct {
	prepare, complete echo.HandlerFunc
}

// NewWebhook builds the webhooks. Without a service id and secret the routes
// still answer in Click's format, refusing every call. rec counts outcomes
// and may be nil.
func NewWebhook(cfg Config, uc UseCases, rec webhook.Recorder) *Webhook {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	h := &handler{secret: cfg.SecretKey, allowed: cfg.AllowedIPs, uc: uc, log: log}
	if id, ok := digits(cfg.ServiceID); ok && id > 0 {
		h.serviceID = id
	}
	if h.serviceID == 0 || h.secret == "" {
		log.Warn("click webhooks are not configured (CLICK_SERVICE_ID, CLICK_SECRET_KEY): every call will be refused")
	}
	provider := string(payment.ProviderClick)
	return &Webhook{
		prepare:  webhook.Handler[call](provider, rec, route{h: h}),
		complete: webhook.Handler[call](provider, rec, route{h: h, complete: true}),
	}
}

// Register mounts the webhooks on the public server, for webhook.Methods
// (Click only POSTs; anything else is answered -8). They need no other
// middleware: Click signs its calls, and the edge exempts these routes from
// the body limit and the rate limits.
func (w *Webhook) Register(e *echo.Echo) {
	e.Match(webhook.Methods, PreparePath, w.prepare)
	e.Match(webhook.Methods, CompletePath, w.complete)
}

// handler holds what both routes share.
type handler struct {
	serviceID int64 // 0 when not configured: every call is then -8
	secret    string
	allowed   ipallow.List
	uc        UseCases
	log       *slog.Logger
}

// prepareResponse and completeResponse are Click's answers, field for field
// (SPEC §5.2, §5.3, §5.8). The id is null on an error.
type (
	prepareResponse struct {
		ClickTransID      int64  `json:"click_trans_id"`
		MerchantTransID   string `json:"merchant_trans_id"`
		MerchantPrepareID *int64 `json:"merchant_prepare_id"`
		Error             int    `json:"error"`
		ErrorNote         string `json:"error_note"`
	}
	completeResponse struct {
		ClickTransID      int64  `json:"click_trans_id"`
		MerchantTransID   string `json:"merchant_trans_id"`
		MerchantConfirmID *int64 `json:"merchant_confirm_id"`
		Error             int    `json:"error"`
		ErrorNote         string `json:"error_note"`
	}
)

// answer is what one call comes to, before it is written.
type answer struct {
	code    int
	id      int64  // merchant_prepare_id or merchant_confirm_id; 0 = null
	txID    string // our id of the attempt (a UUID), for the log; "" = unknown
	outcome string
	err     error // an internal failure, for the log
	attrs   []slog.Attr
}

// route is one of the two webhooks (a webhook.Protocol): Prepare (action 0)
// or Complete (action 1).
type route struct {
	h        *handler
	complete bool
}

// call is one call as it goes: the request, filled in as soon as the form is
// read (so even a failure after that echoes Click's ids), and the answer.
type call struct {
	r   request
	ans answer
}

func (rt route) Answer(c echo.Context, cl *call) {
	// Before a byte of the body is read: a caller from elsewhere must not
	// make us buffer a megabyte. Click's answer for a call it did not make
	// is "sign check failed", and nothing changes.
	if ip := c.RealIP(); !rt.h.allowed.Allows(ip) {
		cl.ans = answer{code: codeSignFailed, attrs: []slog.Attr{
			slog.String("reason", "client ip not allowed"), slog.String("client_ip", ip)}}
		return
	}
	// Click's calls are form POSTs; the body of anything else is not read,
	// so a signed query string on a GET changes nothing.
	if m := c.Request().Method; m != http.MethodPost {
		cl.ans = answer{code: codeBadRequest, attrs: []slog.Attr{slog.String("reason", "method not POST"), slog.String("method", m)}}
		return
	}
	cl.ans = rt.h.handle(c.Request().Context(), c.Request().Body, rt.complete, &cl.r)
}

// Failed answers -7: our failure, which Click retries or escalates.
func (rt route) Failed(cl *call, cause error) {
	cl.ans = answer{code: codeUpdateFailed, err: cause}
}

func (rt route) Outcome(cl *call) string {
	switch {
	case cl.ans.outcome != "":
		return cl.ans.outcome
	case cl.ans.code == codeUpdateFailed:
		return outcomeError
	}
	return outcomeRejected
}

func (rt route) Log(ctx context.Context, cl *call, outcome string) {
	rt.h.logCall(ctx, cl.r, cl.ans, outcome, rt.complete)
}

func (rt route) Write(c echo.Context, cl *call) error {
	r, ans := cl.r, cl.ans
	var id *int64
	if ans.id != 0 {
		id = &ans.id
	}
	if rt.complete {
		return c.JSON(http.StatusOK, completeResponse{ClickTransID: r.clickTransID, MerchantTransID: r.merchantTransID,
			MerchantConfirmID: id, Error: ans.code, ErrorNote: errorNotes[ans.code]})
	}
	return c.JSON(http.StatusOK, prepareResponse{ClickTransID: r.clickTransID, MerchantTransID: r.merchantTransID,
		MerchantPrepareID: id, Error: ans.code, ErrorNote: errorNotes[ans.code]})
}

// handle runs the protocol checks in Click's order (-8, -1, -3), then the
// use case. r is filled as soon as the form is read, so even a failure
// after that can echo Click's ids.
func (h *handler) handle(ctx context.Context, body io.Reader, complete bool, r *request) answer {
	raw, err := webhook.ReadBody(body)
	switch {
	case errors.Is(err, webhook.ErrBodyTooLarge):
		return answer{code: codeBadRequest, attrs: []slog.Attr{slog.String("reason", "body over 1 MiB")}}
	case err != nil:
		return answer{code: codeBadRequest, attrs: []slog.Attr{slog.String("reason", "unreadable body")}}
	}
	var code int
	*r, code = parseForm(raw, complete)
	switch {
	case code != codeOK:
		return answer{code: code, attrs: []slog.Attr{slog.String("reason", "missing or malformed field")}}
	case r.serviceID != h.serviceID:
		return answer{code: codeBadRequest, attrs: []slog.Attr{slog.String("reason", "unknown service_id")}}
	case !signatureValid(r.raw, h.secret, complete):
		return answer{code: codeSignFailed}
	}
	want := actionPrepare
	if complete {
		want = actionComplete
	}
	if r.action != want {
		return answer{code: codeActionNotFound}
	}
	if complete {
		return h.runComplete(ctx, *r)
	}
	return h.runPrepare(ctx, *r)
}

func (h *handler) runPrepare(ctx context.Context, r request) answer {
	t, err := h.uc.Prepare.Handle(ctx, payments.ClickPrepareInput{
		ClickTransID: r.clickTransID, ClickPaydocID: r.clickPaydocID, ServiceID: r.serviceID,
		MerchantTransID: r.merchantTransID, Amount: r.amount, AmountRaw: r.raw.Get(fAmount),
	})
	if err != nil {
		return answer{code: codeFor(err), err: err}
	}
	return answer{code: codeOK, id: t.PrepareID(), txID: t.ID(), outcome: outcomePrepared}
}

func (h *handler) runComplete(ctx context.Context, r request) answer {
	res, err := h.uc.Complete.Handle(ctx, payments.ClickCompleteInput{
		ClickTransID: r.clickTransID, MerchantTransID: r.merchantTransID, PrepareID: r.merchantPrepareID,
		Amount: r.amount, ClickError: r.clickError,
	})
	ans := answer{code: codeFor(err), err: err, txID: res.AttemptID}
	switch ans.code {
	case codeOK:
		ans.id, ans.outcome = res.ConfirmID, outcomeConfirmed
	case codeAlreadyPaid:
		ans.id = res.ConfirmID // a repeated Complete gets the stored merchant_confirm_id
	case codeCancelled:
		if r.clickError < 0 {
			ans.outcome = outcomeCancelled
		}
	}
	// Only a committed cancel (answered -9) was recorded; a cancel that
	// failed (-7) changed nothing and is counted and logged as the error it is.
	if res.CancelledAfterConfirm && ans.code == codeCancelled {
		ans.outcome = outcomeCancelClaimed
		// Click says money it passed on was taken back after we confirmed.
		// Nothing is refunded on that word alone (the signature does not
		// cover error); the order must not ship until reconciliation, or a
		// person, has checked with Click.
		h.log.LogAttrs(ctx, slog.LevelError, "ALERT: click cancelled a confirmed payment; the order stays paid until Click's Merchant API confirms it",
			slog.Bool("alert", true),
			slog.String("order_id", r.merchantTransID),
			slog.String("transaction_id", res.AttemptID),
			slog.Int64("click_trans_id", r.clickTransID),
			slog.Int64("merchant_prepare_id", r.merchantPrepareID),
			slog.Int("click_error", r.clickError),
			slog.Bool("unverified_issue_opened", res.CancelUnverified),
		)
	}
	return ans
}

// codeFor maps the use cases' errors to Click's codes; anything unknown is
// our failure (-7), which Click retries or escalates.
func codeFor(err error) int {
	switch {
	case err == nil:
		return codeOK
	case errors.Is(err, order.ErrNotFound):
		return codeUserNotFound
	case errors.Is(err, payment.ErrNotFound): // payments.ErrClickAttemptMismatch too
		return codeTransactionNotFound
	case errors.Is(err, payment.ErrAlreadyPaid):
		return codeAlreadyPaid
	case errors.Is(err, payment.ErrAmountMismatch):
		return codeBadAmount
	case errors.Is(err, payment.ErrClickCancelled):
		return codeCancelled
	}
	return codeUpdateFailed
}

// logCall writes one line per call. sign_string and the secret never
// appear; neither does the rest of the form.
func (h *handler) logCall(ctx context.Context, r request, ans answer, outcome string, complete bool) {
	level, msg := slog.LevelInfo, "click prepare"
	if complete {
		msg = "click complete"
	}
	switch ans.code {
	case codeUpdateFailed:
		level = slog.LevelError
	case codeSignFailed, codeBadRequest:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.Int64("click_trans_id", r.clickTransID),
		slog.String("merchant_trans_id", truncate(r.merchantTransID, 64)),
		slog.Int("error", ans.code),
		slog.String("outcome", outcome),
	}
	if complete {
		attrs = append(attrs, slog.Int64("merchant_prepare_id", r.merchantPrepareID), slog.Int("click_error", r.clickError))
	}
	if ans.id != 0 {
		attrs = append(attrs, slog.Int64("id", ans.id))
	}
	if ans.txID != "" {
		// What our API and the settlements call this attempt; id above is
		// Click's integer for it.
		attrs = append(attrs, slog.String("transaction_id", ans.txID))
	}
	if ans.code == codeUpdateFailed && ans.err != nil {
		attrs = append(attrs, slog.String("err", ans.err.Error()))
	}
	h.log.LogAttrs(ctx, level, msg, append(attrs, ans.attrs...)...)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
