package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
)

// PaymentUseCases are the use cases behind the buyer-facing payment routes
// (the gateways' webhooks are mounted by their own adapters). Every field is
// required; Authenticate is the same use case /api/auth uses.
type PaymentUseCases struct {
	Authenticate     *auth.Authenticate
	CreateLink       *payments.CreatePaymentLink
	ListTransactions *payments.ListTransactions
}

// RegisterPayments mounts POST /api/payments (a payment link for one's own
// order) and GET /api/payments?order_id= (the order's transactions), both
// behind a bearer token. mw wraps both routes.
func RegisterPayments(e *echo.Echo, uc PaymentUseCases, mw ...echo.MiddlewareFunc) {
	h := paymentHandlers{uc: uc}
	routeMW := append(append([]echo.MiddlewareFunc(nil), mw...), RequireAuth(uc.Authenticate))
	e.POST("/api/payments", h.createLink, routeMW...)
	e.GET("/api/payments", h.listTransactions, routeMW...)
}

type paymentHandlers struct {
	uc PaymentUseCases
}

// createPaymentRequest is POST /api/payments. An absent or null return_url
// reads as none.
type createPaymentRequest struct {
	OrderID   string `json:"order_id"`
	Provider  string `json:"provider"`
	ReturnURL string `json:"return_url"`
}

// paymentLinkJSON is the 201 answer: where to send the buyer, and what they
// will pay there.
type paymentLinkJSON struct {
	OrderID    string `json:"order_id"`
	Provider   string `json:"provider"`
	Amount     int64  `json:"amount"`
	Currency   string `json:"currency"`
	PaymentURL string `json:"payment_url"`
}

// transactionJSON is API.md's transaction. Unset times and reason are null.
type transactionJSON struct {
	ID                    string     `json:"id"`
	Provider              string     `json:"provider"`
	ProviderTransactionID string     `json:"provider_transaction_id"`
	OrderID               string     `json:"order_id"`
	Amount                int64      `json:"amount"`
	State                 string     `json:"state"`
	CreatedAt             time.Time  `json:"created_at"`
	PerformedAt           *time.Time `json:"performed_at"`
	CancelledAt           *time.Time `json:"cancelled_at"`
	CancelReason          *int       `json:"cancel_reason"`
}

type transactionListJSON struct {
	Items []transactionJSON `json:"items"`
}

func (h paymentHandlers) createLink(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	var body createPaymentRequest
	if err := Bind(c, &body); err != nil {
		return err
	}
	link, err := h.uc.CreateLink.Handle(c.Request().Context(), payments.CreatePaymentLinkInput{
		Actor: actor, OrderID: body.OrderID, Provider: body.Provider, ReturnURL: body.ReturnURL,
	})
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusCreated, paymentLinkJSON{
		OrderID: link.OrderID, Provider: string(link.Provider), Amount: link.Amount.Tiyin(),
		Currency: money.Currency, PaymentURL: link.URL,
	})
}

func (h paymentHandlers) listTransactions(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	verr := &domain.ValidationError{}
	orderID := single(c.QueryParams(), "order_id", verr)
	if err := verr.OrNil(); err != nil {
		return err
	}
	txs, err := h.uc.ListTransactions.Handle(c.Request().Context(), payments.ListTransactionsInput{Actor: actor, OrderID: orderID})
	if err != nil {
		return err
	}
	out := transactionListJSON{Items: make([]transactionJSON, 0, len(txs))}
	for _, t := range txs {
		out.Items = append(out.Items, transactionOf(t))
	}
	noStore(c)
	return c.JSON(http.StatusOK, out)
}

// transactionOf renders one transaction, for GET /api/payments and the
// admin payments console alike.
func transactionOf(t payments.Transaction) transactionJSON {
	return transactionJSON{
		ID: t.ID, Provider: string(t.Provider), ProviderTransactionID: t.ProviderTransactionID, OrderID: t.OrderID,
		Amount: t.Amount.Tiyin(), State: string(t.State), CreatedAt: ts(t.CreatedAt),
		PerformedAt: optionalTime(t.PerformedAt), CancelledAt: optionalTime(t.CancelledAt), CancelReason: t.CancelReason,
	}
}

// optionalTime is ts for a time that may be unset (zero → null).
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := ts(t)
	return &v
}
