package httpapi

import (
	"encoding/csv"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/payment"
)

// AdminMoneyUseCases are the use cases behind the admin's money routes: the
// payments console, its CSV export, and refunds. Every field is required;
// Authenticate is the same use case /api/auth uses, Logger hears what
// happens after an answer has started (a broken export, a stock release
// that failed after a refund).
type AdminMoneyUseCases struct {
	Authenticate   *auth.Authenticate
	ListPayments   *admin.ListPayments
	ExportPayments *admin.ExportPayments
	RefundOrder    *admin.RefundOrder
	Logger         *slog.Logger
}

// RegisterAdminMoney mounts GET /api/admin/payments, GET
// /api/admin/payments/export and POST /api/admin/orders/:id/refund (API.md,
// Admin), for admins. The use cases check the role again.
func RegisterAdminMoney(e *echo.Echo, uc AdminMoneyUseCases, mw ...echo.MiddlewareFunc) {
	h := adminMoneyHandlers{uc: uc}
	bearer, admins := RequireAuth(uc.Authenticate), RequireRole(adminRoles...)
	g := e.Group("/api/admin", mw...)
	g.GET("/payments", h.listPayments, bearer, admins)
	g.GET("/payments/export", h.exportPayments, bearer, admins)
	g.POST("/orders/:id/refund", h.refund, bearer, admins)
}

type adminMoneyHandlers struct {
	uc AdminMoneyUseCases
}

// paymentsInput reads the console's query; paged adds page and page_size.
func paymentsInput(c echo.Context, paged bool) (admin.PaymentsInput, error) {
	actor, err := mustActor(c)
	if err != nil {
		return admin.PaymentsInput{}, err
	}
	q := c.QueryParams()
	verr := &domain.ValidationError{}
	in := admin.PaymentsInput{
		Actor:    actor,
		Provider: single(q, "provider", verr),
		State:    single(q, "state", verr),
		OrderID:  single(q, "order_id", verr),
		From:     single(q, "from", verr),
		To:       single(q, "to", verr),
	}
	if paged {
		in.Page, in.PageSize = intParam(q, "page", verr), intParam(q, "page_size", verr)
	}
	return in, verr.OrNil()
}

func (h adminMoneyHandlers) listPayments(c echo.Context) error {
	in, err := paymentsInput(c, true)
	if err != nil {
		return err
	}
	page, err := h.uc.ListPayments.Handle(c.Request().Context(), in)
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, pageOf(page.Items, page.Page, page.PageSize, page.Total, transactionOf))
}

// paymentsCSVHeader is API.md's header row, in its order.
var paymentsCSVHeader = []string{"id", "provider", "provider_transaction_id", "order_id", "amount_tiyin", "amount_som",
	"state", "created_at", "performed_at", "cancelled_at", "cancel_reason"}

// paymentCSVRow is one transaction as a CSV row: the values of its JSON
// form as text (timestamps exactly as the JSON writes them), amount_som in
// so'm with two decimals from integer tiyin (never a float), and empty
// fields for nulls.
func paymentCSVRow(t payments.Transaction) []string {
	j := transactionOf(t)
	optional := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339Nano)
	}
	reason := ""
	if j.CancelReason != nil {
		reason = strconv.Itoa(*j.CancelReason)
	}
	return []string{j.ID, j.Provider, j.ProviderTransactionID, j.OrderID, strconv.FormatInt(j.Amount, 10),
		t.Amount.SomString(), j.State, j.CreatedAt.Format(time.RFC3339Nano), optional(j.PerformedAt),
		optional(j.CancelledAt), reason}
}

// exportPayments writes RFC 4180 CSV (CRLF line ends, quotes only where a
// field needs them), UTF-8, as an attachment. Everything that can refuse
// the request (parameters, more than admin.MaxExportRows rows) is checked
// before the 200 starts; a failure while the rows stream aborts the
// connection, so a client never takes a cut file for a whole one.
func (h adminMoneyHandlers) exportPayments(c echo.Context) error {
	in, err := paymentsInput(c, false)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f, err := h.uc.ExportPayments.Check(ctx, in)
	if err != nil {
		return err
	}
	res := c.Response()
	noStore(c)
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8; header=present")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="payments.csv"`)
	res.WriteHeader(http.StatusOK)
	w := csv.NewWriter(res)
	w.UseCRLF = true
	if err := w.Write(paymentsCSVHeader); err != nil {
		return h.abortExport(c, err)
	}
	err = h.uc.ExportPayments.Handle(ctx, f, func(t payments.Transaction) error {
		return w.Write(paymentCSVRow(t))
	})
	if err == nil {
		w.Flush()
		err = w.Error()
	}
	if err != nil {
		return h.abortExport(c, err)
	}
	return nil
}

func (h adminMoneyHandlers) abortExport(c echo.Context, err error) error {
	h.uc.Logger.ErrorContext(c.Request().Context(), "payments export failed mid-way; connection aborted",
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
	panic(http.ErrAbortHandler) // net/http's way to cut a response short
}

// refundRequest is POST /api/admin/orders/:id/refund.
type refundRequest struct {
	Reason string `json:"reason"`
}

// refund answers the order with its refund audit: 200 when Click gave the
// money back (refunded), 202 when a Payme refund was authorized and Payme
// is still to do it.
func (h adminMoneyHandlers) refund(c echo.Context) error {
	actor, id, err := orderTarget(c)
	if err != nil {
		return err
	}
	var req refundRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	res, err := h.uc.RefundOrder.Handle(ctx, admin.RefundOrderInput{Actor: actor, OrderID: id, Reason: req.Reason})
	if err != nil {
		return err
	}
	if res.StockReleaseErr != nil {
		// The refund stands; the stock is for an operator to give back.
		h.uc.Logger.ErrorContext(ctx, "refund committed but releasing the order's stock failed",
			"order_id", id, "err", res.StockReleaseErr)
	}
	status := http.StatusOK
	if res.Outcome == payment.RefundAuthorized {
		status = http.StatusAccepted
	}
	noStore(c)
	return c.JSON(status, orderWithRefunds(res.Order, res.Refunds))
}
