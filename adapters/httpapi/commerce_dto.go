package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/cart"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// The shapes of the commerce routes (API.md: product, cart, order, the
// analytics answers). Like users_dto.go they are built field by field from
// the domain, money leaves as integer tiyin with "currency" beside it, and
// every timestamp goes through ts (UTC, microseconds).

// ---------------------------------------------------------------------------
// Products

// productJSON is API.md's product.
type productJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Category    string    `json:"category"`
	Price       int64     `json:"price"`
	Currency    string    `json:"currency"`
	Stock       int64     `json:"stock"`
	SellerID    string    `json:"seller_id"`
	Active      bool      `json:"active"`
	IKPUCode    *string   `json:"ikpu_code"`
	PackageCode *string   `json:"package_code"`
	UnitCode    *int      `json:"unit_code"`
	VATPercent  int       `json:"vat_percent"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func productOf(p *product.Product) productJSON {
	f := p.Fiscal()
	var unit *int
	if u := f.UnitCode(); u != 0 {
		unit = &u
	}
	return productJSON{
		IKPUCode:    nullable(f.IKPUCode()),
		PackageCode: nullable(f.PackageCode()),
		UnitCode:    unit,
		VATPercent:  f.VATPercent(),
		ID:          p.ID(),
		Name:        p.Name(),
		Description: p.Description(),
		Category:    p.Category(),
		Price:       p.Price().Tiyin(),
		Currency:    money.Currency,
		Stock:       p.Stock(),
		SellerID:    p.SellerID(),
		Active:      p.Active(),
		CreatedAt:   ts(p.CreatedAt()),
		UpdatedAt:   ts(p.UpdatedAt()),
	}
}

// productRequest is the body of POST and PUT /api/products. price and stock
// are pointers so that leaving one out is "is required" rather than a silent
// 0 (a free product, or one nobody can buy). description is a pointer for the
// same reason: API.md makes it required, though it may be empty, so a body
// without it (or with null) is refused rather than read as "" — PUT replaces
// every field, and a client that forgot the field would wipe the text. name
// and category need no pointer: their empty value is refused anyway. active
// defaults to true. seller_id "" means "the caller" on create and
// "unchanged" on replace.
type productRequest struct {
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Category    string  `json:"category"`
	Price       *int64  `json:"price"`
	Stock       *int64  `json:"stock"`
	Active      *bool   `json:"active"`
	SellerID    string  `json:"seller_id"`

	// The fiscal identity; absent or null is "not set" (vat_percent: 12).
	IKPUCode    *string `json:"ikpu_code"`
	PackageCode *string `json:"package_code"`
	UnitCode    *int64  `json:"unit_code"`
	VATPercent  *int    `json:"vat_percent"`
}

// draft turns the body into the domain's draft; the use case and the
// product rules check the values (lengths, ranges) and name the fields.
func (r productRequest) draft() (product.Draft, error) {
	verr := &domain.ValidationError{}
	if r.Description == nil {
		verr.Add("description", domain.MsgRequiredMayBeEmpty)
	}
	if r.Price == nil {
		verr.Add("price", domain.MsgRequired)
	}
	if r.Stock == nil {
		verr.Add("stock", domain.MsgRequired)
	}
	if err := verr.OrNil(); err != nil {
		return product.Draft{}, err
	}
	active := true
	if r.Active != nil {
		active = *r.Active
	}
	return product.Draft{
		Name: r.Name, Description: *r.Description, Category: r.Category, SellerID: r.SellerID,
		Price: *r.Price, Stock: *r.Stock, Active: active,
		Fiscal: fiscal.IdentityDraft{IKPUCode: r.IKPUCode, PackageCode: r.PackageCode, UnitCode: r.UnitCode,
			VATPercent: r.VATPercent},
	}, nil
}

// ---------------------------------------------------------------------------
// Cart

// cartItemJSON is one line of API.md's cart. A product that has vanished
// from the catalog keeps its line with name "", unit_price 0, line_total 0
// and available false, so the client can show it and offer to remove it.
type cartItemJSON struct {
	ProductID string `json:"product_id"`
	Name      string `json:"name"`
	UnitPrice int64  `json:"unit_price"`
	Quantity  int64  `json:"quantity"`
	LineTotal int64  `json:"line_total"`
	Available bool   `json:"available"`
}

// cartJSON is API.md's cart. total sums the available lines only: what an
// order of the cart placed now would cost.
type cartJSON struct {
	Items    []cartItemJSON `json:"items"`
	Total    int64          `json:"total"`
	Currency string         `json:"currency"`
}

func cartOf(c cart.Cart) cartJSON {
	out := cartJSON{Items: make([]cartItemJSON, 0, len(c.Lines)), Total: c.Total.Tiyin(), Currency: money.Currency}
	for _, l := range c.Lines {
		out.Items = append(out.Items, cartItemJSON{
			ProductID: l.ProductID, Name: l.Name, UnitPrice: l.UnitPrice.Tiyin(),
			Quantity: l.Quantity, LineTotal: l.LineTotal.Tiyin(), Available: l.Available,
		})
	}
	return out
}

// setCartItemRequest is PUT /api/cart/items/:product_id. quantity is a
// pointer: a body without it must not read as 0, which removes the line.
type setCartItemRequest struct {
	Quantity *int64 `json:"quantity"`
}

// ---------------------------------------------------------------------------
// Orders

type addressJSON struct {
	Region string `json:"region"`
	City   string `json:"city"`
	Street string `json:"street"`
	Phone  string `json:"phone"`
}

type orderItemJSON struct {
	ProductID  string `json:"product_id"`
	Name       string `json:"name"`
	UnitPrice  int64  `json:"unit_price"`
	Quantity   int64  `json:"quantity"`
	LineTotal  int64  `json:"line_total"`
	VATPercent int    `json:"vat_percent"`
	VATAmount  int64  `json:"vat_amount"`
}

// receiptJSON is one of API.md's order receipts. qr_code_url is null unless
// it is an https link on ofd.soliq.uz; the other fields are null when the
// provider did not report them.
type receiptJSON struct {
	Provider   string     `json:"provider"`
	Kind       string     `json:"kind"`
	Status     string     `json:"status"`
	QRCodeURL  *string    `json:"qr_code_url"`
	FiscalSign *string    `json:"fiscal_sign"`
	TerminalID *string    `json:"terminal_id"`
	IssuedAt   *time.Time `json:"issued_at"`
}

func receiptOf(r fiscal.Receipt) receiptJSON {
	return receiptJSON{
		Provider: string(r.Provider()), Kind: string(r.Kind()), Status: string(r.Status()),
		QRCodeURL: nullable(r.ShownQRCodeURL()), FiscalSign: nullable(r.FiscalSign()),
		TerminalID: nullable(r.TerminalID()), IssuedAt: tsOrNull(r.IssuedAt()),
	}
}

// orderJSON is API.md's order. note, paid_at and cancelled_at are null when
// unset, like user.phone.
type orderJSON struct {
	ID              string          `json:"id"`
	UserID          string          `json:"user_id"`
	Status          string          `json:"status"`
	Items           []orderItemJSON `json:"items"`
	Total           int64           `json:"total"`
	Currency        string          `json:"currency"`
	ShippingAddress addressJSON     `json:"shipping_address"`
	Note            *string         `json:"note"`
	Receipts        []receiptJSON   `json:"receipts"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
	PaidAt          *time.Time      `json:"paid_at"`
	CancelledAt     *time.Time      `json:"cancelled_at"`
	// RefundAuthorizedAt: when an admin authorized the refund, else null.
	RefundAuthorizedAt *time.Time `json:"refund_authorized_at"`
	// Refunds is the refund audit, for admins only: absent from what the
	// buyer sees (orderWithRefunds adds it).
	Refunds *[]refundJSON `json:"refunds,omitempty"`
}

// refundJSON is one admin refund of an order: what it did (reversed: Click
// gave the money back; authorized: Payme may refund it), who asked, when and why.
type refundJSON struct {
	ID        string    `json:"id"`
	Provider  string    `json:"provider"`
	Outcome   string    `json:"outcome"`
	Reason    string    `json:"reason"`
	AdminID   string    `json:"admin_id"`
	CreatedAt time.Time `json:"created_at"`
}

// orderWithRefunds is orderOf plus the refund audit, for admins.
func orderWithRefunds(o *order.Order, refunds []*payment.Refund) orderJSON {
	out := orderOf(o)
	list := make([]refundJSON, 0, len(refunds))
	for _, r := range refunds {
		list = append(list, refundJSON{
			ID: r.ID(), Provider: string(r.Provider()), Outcome: string(r.Outcome()), Reason: r.Reason(),
			AdminID: r.AdminID(), CreatedAt: ts(r.CreatedAt()),
		})
	}
	out.Refunds = &list
	return out
}

func orderOf(o *order.Order) orderJSON {
	items := o.Items()
	out := orderJSON{
		ID:       o.ID(),
		UserID:   o.UserID(),
		Status:   string(o.Status()),
		Items:    make([]orderItemJSON, 0, len(items)),
		Total:    o.Total().Tiyin(),
		Currency: money.Currency,
		ShippingAddress: addressJSON{
			Region: o.Address().Region, City: o.Address().City,
			Street: o.Address().Street, Phone: o.Address().Phone,
		},
		Note:        nullable(o.Note()),
		Receipts:    make([]receiptJSON, 0, len(o.Receipts())),
		CreatedAt:   ts(o.CreatedAt()),
		UpdatedAt:   ts(o.UpdatedAt()),
		PaidAt:      tsOrNull(o.PaidAt()),
		CancelledAt: tsOrNull(o.CancelledAt()),

		RefundAuthorizedAt: tsOrNull(o.RefundAuthorizedAt()),
	}
	for _, it := range items {
		out.Items = append(out.Items, orderItemJSON{
			ProductID: it.ProductID, Name: it.Name, UnitPrice: it.UnitPrice.Tiyin(),
			Quantity: it.Quantity, LineTotal: it.LineTotal().Tiyin(),
			VATPercent: it.VATPercent(), VATAmount: it.VATAmount().Tiyin(),
		})
	}
	for _, r := range o.Receipts() {
		out.Receipts = append(out.Receipts, receiptOf(r))
	}
	return out
}

// placeOrderRequest is POST /api/orders. Items absent (or null) orders the
// cart; [] is an empty order and refused.
type placeOrderRequest struct {
	Items           []orderItemRequest `json:"items"`
	ShippingAddress addressJSON        `json:"shipping_address"`
	Note            string             `json:"note"`
}

type orderItemRequest struct {
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
}

// requestHash identifies the body for Idempotency-Key: SHA-256 of its
// canonical form, the parsed values re-encoded in one fixed layout. Two
// bodies that parse to the same request (other key order, whitespace,
// escapes, "note": "" versus no note) have one hash; items absent and
// items [] do not, since they ask different things.
func (r placeOrderRequest) requestHash() string {
	type canonicalItem struct {
		ProductID string `json:"p"`
		Quantity  int64  `json:"q"`
	}
	canon := struct {
		Version  int             `json:"v"`
		FromCart bool            `json:"c"`
		Items    []canonicalItem `json:"i"`
		Address  [4]string       `json:"a"`
		Note     string          `json:"n"`
	}{Version: 1, FromCart: r.Items == nil, Items: make([]canonicalItem, 0, len(r.Items)), Note: r.Note}
	for _, it := range r.Items {
		canon.Items = append(canon.Items, canonicalItem(it))
	}
	a := r.ShippingAddress
	canon.Address = [4]string{a.Region, a.City, a.Street, a.Phone}
	b, _ := json.Marshal(canon) // strings, ints and bools: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// changeOrderStatusRequest is PATCH /api/orders/:id/status.
type changeOrderStatusRequest struct {
	Status string `json:"status"`
}

// ---------------------------------------------------------------------------
// Analytics

// salesPointJSON is one period of the sales series. period_start is the
// period's first instant (midnight in the asked tz, a Monday for weeks, the
// 1st for months) written in UTC like every timestamp of the API: a client
// shows it in the tz it asked for.
type salesPointJSON struct {
	PeriodStart time.Time `json:"period_start"`
	Orders      int64     `json:"orders"`
	Revenue     int64     `json:"revenue"`
}

type salesJSON struct {
	Currency string           `json:"currency"`
	Points   []salesPointJSON `json:"points"`
}

func salesOf(points []ports.SalesPoint) salesJSON {
	out := salesJSON{Currency: money.Currency, Points: make([]salesPointJSON, 0, len(points))}
	for _, p := range points {
		out.Points = append(out.Points, salesPointJSON{PeriodStart: ts(p.PeriodStart), Orders: p.Orders, Revenue: p.Revenue.Tiyin()})
	}
	return out
}

type ordersByStatusJSON struct {
	ByStatus map[string]int64 `json:"by_status"`
}

// providerTotalJSON is one provider's completed payments; amount in tiyin.
type providerTotalJSON struct {
	Count  int64 `json:"count"`
	Amount int64 `json:"amount"`
}

type paymentsByProviderJSON struct {
	ByProvider map[string]providerTotalJSON `json:"by_provider"`
}

type topProductJSON struct {
	ProductID string `json:"product_id"`
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	Revenue   int64  `json:"revenue"`
}

type topProductsJSON struct {
	Items []topProductJSON `json:"items"`
}

// ---------------------------------------------------------------------------
// Helpers shared by the commerce handlers

// tsOrNull is ts for a time that may be unset: zero is null.
func tsOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := ts(t)
	return &v
}

// actorFrom is who a use case acts for: the bearer's user and role, or the
// zero Actor on an anonymous request. (The request id the catalog forwards
// travels in the request's context.)
func actorFrom(c echo.Context) user.Actor {
	claims, ok := ClaimsFrom(c)
	if !ok {
		return user.Actor{}
	}
	return user.Actor{ID: claims.UserID, Role: claims.Role}
}

// mustActor is actorFrom for routes behind RequireAuth: no claims is a
// wiring bug, answered 401 rather than acting anonymously.
func mustActor(c echo.Context) (user.Actor, error) {
	if _, err := mustClaims(c); err != nil {
		return user.Actor{}, err
	}
	return actorFrom(c), nil
}

// uuidParam reads an optional query parameter that must be a UUID when given.
func uuidParam(q url.Values, name string, verr *domain.ValidationError) string {
	s := single(q, name, verr)
	if s != "" && !domain.IsID(s) {
		verr.Add(name, domain.MsgUUID)
		return ""
	}
	return s
}
