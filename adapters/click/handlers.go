// Package click is the gateway's side of Click: the SHOP-API webhooks Click
// calls when a buyer pays (Prepare, then Complete), the CLICK-Button pay link
// buyers follow, and a client of Click's Merchant API for reconciliation.
//
// The webhooks speak Click's protocol, not ours: a signed
// application/x-www-form-urlencoded POST in, HTTP 200 with a JSON body out,
// errors included (shared/payments/SPEC.md §5). The checks of the protocol
// itself — the caller's address (CLICK_ALLOWED_IPS, decided before the body
// is read), a readable form, our service_id, the signature, the action — are
// made here; what they mean for the order is the use cases' business
// (application/payments), whose errors map to Click's codes in one place,
// codeFor.
package click

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/adapters/ipallow"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
)

// The routes Click is configured to call.
const (
	PreparePath  = "/api/payments/click/prepare"
	CompletePath = "/api/payments/click/complete"
)

// MaxBodyBytes caps a webhook body; a larger one is answered -8 unread.
const MaxBodyBytes = 1 << 20

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
	provider         = "click"
	outcomePrepared  = "prepared"
	outcomeConfirmed = "confirmed"
	outcomeCancelled = "cancelled" // Click cancelled an attempt we had not confirmed
	outcomeRefunded  = "refunded"  // Click cancelled an attempt we had confirmed
	outcomeRejected  = "rejected"  // any other answer but -7
	outcomeError     = "error"     // -7: our failure
)

// Config is what Click gave us for the SHOP-API.
type Config struct {
	ServiceID string // decimal
	SecretKey string
	// AllowedIPs, when not empty, is the only place calls may come from
	// (client IP as Echo's IPExtractor derives it through TRUSTED_PROXIES);
	// a call from elsewhere is answered -1 without its body being read.
	AllowedIPs ipallow.List
}

// PrepareUseCase is payments.ClickPrepare.
type PrepareUseCase interface {
	Handle(ctx context.Context, in payments.ClickPrepareInput) (*payment.ClickTransaction, error)
}

// CompleteUseCase is payments.ClickComplete.
type CompleteUseCase interface {
	Handle(ctx context.Context, in payments.ClickCompleteInput) (payments.ClickCompleteResult, error)
}

// Recorder counts payment outcomes; *metrics.Metrics is one (nil-safe).
type Recorder interface {
	PaymentRecorded(provider, outcome string)
}

// Handlers serves Click's two webhooks.
type Handlers struct {
	serviceID int64 // 0 when not configured: every call is then -8
	secret    string
	allowed   ipallow.List
	prepare   PrepareUseCase
	complete  CompleteUseCase
	metrics   Recorder
	log       *slog.Logger
}

// NewHandlers builds the webhook handlers. Without a service id and secret
// the routes still answer in Click's format, refusing every call. metrics
// and log may be nil.
func NewHandlers(cfg Config, prepare PrepareUseCase, complete CompleteUseCase, metrics Recorder, log *slog.Logger) *Handlers {
	if log == nil {
		log = slog.Default()
	}
	h := &Handlers{secret: cfg.SecretKey, allowed: cfg.AllowedIPs, prepare: prepare, complete: complete, metrics: metrics, log: log}
	if id, ok := digits(cfg.ServiceID); ok && id > 0 {
		h.serviceID = id
	}
	if h.serviceID == 0 || h.secret == "" {
		log.Warn("click webhooks are not configured (CLICK_SERVICE_ID, CLICK_SECRET_KEY): every call will be refused")
	}
	return h
}

// Register mounts the webhooks on the public server. They need no other
// middleware: Click signs its calls, and the edge exempts these routes from
// the body limit and the rate limits.
func Register(e *echo.Echo, h *Handlers) {
	e.POST(PreparePath, h.Prepare)
	e.POST(CompletePath, h.Complete)
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

// Prepare is Click's Prepare (action 0).
func (h *Handlers) Prepare(c echo.Context) error { return h.serve(c, false) }

// Complete is Click's Complete (action 1).
func (h *Handlers) Complete(c echo.Context) error { return h.serve(c, true) }

func (h *Handlers) serve(c echo.Context, complete bool) error {
	ctx := c.Request().Context()
	var (
		r   request
		ans answer
	)
	func() {
		// A bug must still get Click an answer in its format, not a 500.
		defer func() {
			if p := recover(); p != nil {
				ans = answer{code: codeUpdateFailed, err: fmt.Errorf("panic: %v", p)}
			}
		}()
		// Before a byte of the body is read: a caller from elsewhere must
		// not make us buffer a megabyte. Click's answer for a call it did
		// not make is "sign check failed", and nothing changes.
		if ip := c.RealIP(); !h.allowed.Allows(ip) {
			ans = answer{code: codeSignFailed, attrs: []slog.Attr{
				slog.String("reason", "client ip not allowed"), slog.String("client_ip", ip)}}
			return
		}
		ans = h.handle(ctx, c.Request().Body, complete, &r)
	}()

	if ans.outcome == "" {
		ans.outcome = outcomeRejected
		if ans.code == codeUpdateFailed {
			ans.outcome = outcomeError
		}
	}
	if h.metrics != nil {
		h.metrics.PaymentRecorded(provider, ans.outcome)
	}
	h.logCall(ctx, r, ans, complete)

	var id *int64
	if ans.id != 0 {
		id = &ans.id
	}
	if complete {
		return c.JSON(http.StatusOK, completeResponse{ClickTransID: r.clickTransID, MerchantTransID: r.merchantTransID,
			MerchantConfirmID: id, Error: ans.code, ErrorNote: errorNotes[ans.code]})
	}
	return c.JSON(http.StatusOK, prepareResponse{ClickTransID: r.clickTransID, MerchantTransID: r.merchantTransID,
		MerchantPrepareID: id, Error: ans.code, ErrorNote: errorNotes[ans.code]})
}

// handle runs the protocol checks in Click's order (-8, -1, -3), then the
// use case. r is filled as soon as the form is read, so even a failure
// after that can echo Click's ids.
func (h *Handlers) handle(ctx context.Context, body io.Reader, complete bool, r *request) answer {
	raw, err := io.ReadAll(io.LimitReader(body, MaxBodyBytes+1))
	if err != nil {
		return answer{code: codeBadRequest, attrs: []slog.Attr{slog.String("reason", "unreadable body")}}
	}
	if len(raw) > MaxBodyBytes {
		return answer{code: codeBadRequest, attrs: []slog.Attr{slog.String("reason", "body over 1 MiB")}}
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

func (h *Handlers) runPrepare(ctx context.Context, r request) answer {
	t, err := h.prepare.Handle(ctx, payments.ClickPrepareInput{
		ClickTransID: r.clickTransID, ClickPaydocID: r.clickPaydocID, ServiceID: r.serviceID,
		MerchantTransID: r.merchantTransID, Amount: r.amount, AmountRaw: r.raw.Get(fAmount),
	})
	if err != nil {
		return answer{code: codeFor(err), err: err}
	}
	return answer{code: codeOK, id: t.PrepareID(), txID: t.ID(), outcome: outcomePrepared}
}

func (h *Handlers) runComplete(ctx context.Context, r request) answer {
	res, err := h.complete.Handle(ctx, payments.ClickCompleteInput{
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
	// Only a committed cancel (answered -9) took money back; a cancel that
	// failed (-7) changed nothing and is counted and logged as the error it is.
	if res.CancelledAfterConfirm && ans.code == codeCancelled {
		ans.outcome = outcomeRefunded
		// Money Click had passed on was taken back after we confirmed: the
		// order must not ship, and someone must reconcile with Click.
		h.log.LogAttrs(ctx, slog.LevelError, "ALERT: click cancelled a confirmed payment",
			slog.Bool("alert", true),
			slog.String("order_id", r.merchantTransID),
			slog.String("transaction_id", res.AttemptID),
			slog.Int64("click_trans_id", r.clickTransID),
			slog.Int64("merchant_prepare_id", r.merchantPrepareID),
			slog.Int("click_error", r.clickError),
			slog.Bool("order_refunded", res.Refunded),
		)
	}
	if res.ReleaseErr != nil && ans.code == codeCancelled {
		h.log.LogAttrs(ctx, slog.LevelError, "click refund: giving the stock back failed; retry the release",
			slog.String("order_id", r.merchantTransID), slog.String("error", res.ReleaseErr.Error()))
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
func (h *Handlers) logCall(ctx context.Context, r request, ans answer, complete bool) {
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
		slog.String("outcome", ans.outcome),
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
