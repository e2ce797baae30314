// Package order holds the order aggregate: its items frozen at the price of
// the moment, the shipping address, and the status machine
// pending_payment → paid → shipped → delivered, with cancel and refund exits.
package order

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/user"
)

// Status is where an order is in its life. The values are stored and sent to
// clients as they are.
type Status string

const (
	StatusPendingPayment Status = "pending_payment"
	StatusPaid           Status = "paid"
	StatusShipped        Status = "shipped"
	StatusDelivered      Status = "delivered"
	StatusCancelled      Status = "cancelled"
	StatusRefunded       Status = "refunded"
)

// Statuses lists every status in life order, for filters and analytics.
var Statuses = []Status{StatusPendingPayment, StatusPaid, StatusShipped, StatusDelivered, StatusCancelled, StatusRefunded}

// ParseStatus accepts exactly the stored spellings.
func ParseStatus(s string) (Status, error) {
	st := Status(s)
	if slices.Contains(Statuses, st) {
		return st, nil
	}
	return "", ErrInvalidStatus
}

var (
	ErrNotFound = fmt.Errorf("order: %w", domain.ErrNotFound)
	// ErrInvalidStatus and ErrEmpty are ValidationErrors so the edge can name the field.
	ErrInvalidStatus     error = domain.Invalid("status", domain.MsgUnknownOrderStatus)
	ErrEmpty             error = domain.Invalid("items", domain.MsgMinOneItem)
	ErrIllegalTransition       = fmt.Errorf("order: illegal status transition: %w", domain.ErrConflict)
	// ErrNotPayable: API code order_not_payable.
	ErrNotPayable = fmt.Errorf("order: not payable: %w", domain.ErrConflict)
	// ErrCannotRefund: goods already left the warehouse, so money cannot go
	// back automatically: only after an admin authorized the refund.
	ErrCannotRefund = fmt.Errorf("order: shipped or delivered, cannot refund: %w", domain.ErrConflict)
	// ErrNotRefundable: API code order_not_refundable. Only an order that was
	// paid and is not refunded yet (paid, shipped, delivered) has money to give back.
	ErrNotRefundable = fmt.Errorf("order: not refundable: %w", domain.ErrConflict)
	// ErrTooManyUnpaid: API code too_many_unpaid_orders. The buyer must pay
	// or cancel an order before placing another.
	ErrTooManyUnpaid = fmt.Errorf("order: too many unpaid orders: %w", domain.ErrConflict)
)

// CheckRoomForUnpaid refuses one more order to a buyer who already holds
// unpaid orders (pending_payment, and orders being placed) up to limit:
// each of them holds stock, so one account cannot hoard the stock of a
// product by placing orders it never pays (ORDER_MAX_UNPAID).
func CheckRoomForUnpaid(unpaid, limit int) error {
	if unpaid >= limit {
		return fmt.Errorf("%w: %d of at most %d", ErrTooManyUnpaid, unpaid, limit)
	}
	return nil
}

const (
	MaxItems        = 100
	MaxQuantity     = 100
	MaxNoteChars    = 1000
	maxRegionChars  = 100
	maxCityChars    = 100
	maxStreetChars  = 200
	addressFieldPfx = "shipping_address."
)

// Item is one order line, priced when the order was placed so later price
// changes do not alter what the customer agreed to pay. Fiscal is the line's
// fiscal snapshot (codes, seller, VAT), from which receipts are built; New
// takes it for the line's final quantity.
type Item struct {
	ProductID, Name string
	UnitPrice       money.Money
	Quantity        int64
	Fiscal          fiscal.Line
}

// VATPercent is the line's VAT rate from its snapshot.
func (i Item) VATPercent() int { return i.Fiscal.VATPercent() }

// VATAmount is the VAT included in the line total, from its snapshot.
func (i Item) VATAmount() money.Money { return i.Fiscal.VATAmount() }

// LineTotal is UnitPrice × Quantity. New has already refused lines that
// overflow, so the error cannot happen for items of a created order.
func (i Item) LineTotal() money.Money {
	t, _ := i.UnitPrice.Times(i.Quantity)
	return t
}

// Address is where the order is shipped.
type Address struct {
	Region, City, Street, Phone string
}

var phonePattern = regexp.MustCompile(`^\+998[0-9]{9}$`)

func (a Address) trimmed() Address {
	return Address{
		Region: strings.TrimSpace(a.Region), City: strings.TrimSpace(a.City),
		Street: strings.TrimSpace(a.Street), Phone: strings.TrimSpace(a.Phone),
	}
}

// Validate checks the trimmed fields; the courier needs every one of them.
func (a Address) Validate() error {
	return a.validate(&domain.ValidationError{}).OrNil()
}

func (a Address) validate(verr *domain.ValidationError) *domain.ValidationError {
	t := a.trimmed()
	checkLen := func(field, v string, max int) {
		if n := utf8.RuneCountInString(v); n < 1 || n > max {
			verr.Add(addressFieldPfx+field, domain.MsgCharsRange, domain.Args{"Count": max})
		}
	}
	checkLen("region", t.Region, maxRegionChars)
	checkLen("city", t.City, maxCityChars)
	checkLen("street", t.Street, maxStreetChars)
	if !phonePattern.MatchString(t.Phone) {
		verr.Add(addressFieldPfx+"phone", domain.MsgPhone)
	}
	return verr
}

// Order is one purchase by one user.
type Order struct {
	id, userID string
	status     Status
	items      []Item
	total      money.Money
	address    Address
	note       string
	receipts   []fiscal.Receipt

	createdAt, updatedAt, paidAt, shippedAt, deliveredAt, cancelledAt, refundedAt time.Time
	// refundAuthorizedAt: when an admin allowed the refund (zero: never). It
	// lets a gateway refund the order after its goods have shipped.
	refundAuthorizedAt time.Time
}

// New places an order. Lines for the same product are merged so stock is
// reserved once per product and the limits apply to what is really bought.
func New(id, userID string, items []Item, addr Address, note string, now time.Time) (*Order, error) {
	if len(items) == 0 {
		return nil, ErrEmpty
	}
	verr := &domain.ValidationError{}

	merged := make([]Item, 0, len(items))
	firstIndex := make([]int, 0, len(items)) // input index of each merged line, for field names
	pos := make(map[string]int, len(items))
	tooMany := make(map[int]bool)
	for i, it := range items {
		field := fmt.Sprintf("items[%d].", i)
		ok := true
		if it.ProductID == "" {
			verr.Add(field+"product_id", domain.MsgNotEmpty)
			ok = false
		}
		if it.Quantity < 1 || it.Quantity > MaxQuantity {
			verr.Add(field+"quantity", domain.MsgRange, domain.Args{"Min": 1, "Max": MaxQuantity})
			ok = false
		}
		if it.UnitPrice.Tiyin() <= 0 {
			verr.Add(field+"unit_price", domain.MsgPositive)
			ok = false
		}
		if !ok {
			continue
		}
		if j, seen := pos[it.ProductID]; seen {
			// Both addends are ≤ MaxQuantity here, so the sum cannot overflow.
			merged[j].Quantity += it.Quantity
			if merged[j].Quantity > MaxQuantity && !tooMany[j] {
				tooMany[j] = true
				verr.Add(fmt.Sprintf("items[%d].quantity", firstIndex[j]),
					domain.MsgRangeInTotal, domain.Args{"Min": 1, "Max": MaxQuantity})
			}
			if merged[j].Quantity > MaxQuantity {
				merged[j].Quantity = MaxQuantity // keep later sums bounded
			}
			continue
		}
		pos[it.ProductID] = len(merged)
		firstIndex = append(firstIndex, i)
		merged = append(merged, it)
	}
	if len(pos) > MaxItems {
		verr.Add("items", domain.MsgMaxDistinctProducts, domain.Args{"Count": MaxItems})
	}

	var total money.Money
	if len(verr.Fields) == 0 {
		for _, it := range merged {
			line, err := it.UnitPrice.Times(it.Quantity)
			if err == nil {
				total, err = total.Add(line)
			}
			if err != nil {
				verr.Add("items", domain.MsgOrderTotalTooLarge)
				break
			}
		}
	}

	if len(verr.Fields) == 0 {
		snapshotLines(merged)
	}

	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > MaxNoteChars {
		verr.Add("note", domain.MsgMaxChars, domain.Args{"Count": MaxNoteChars})
	}
	addr.validate(verr)
	if err := verr.OrNil(); err != nil {
		return nil, err
	}
	return &Order{
		id: id, userID: userID, status: StatusPendingPayment, items: merged, total: total,
		address: addr.trimmed(), note: note, createdAt: now, updatedAt: now,
	}, nil
}

// snapshotLines gives every merged line its fiscal snapshot for the line's
// final quantity: a line without one (no product identity given) gets the
// snapshot of a product without codes at the default VAT rate. Quantities
// and totals were checked already, so a line can only fail for having no
// name, which a caller placing a real order never lets through (a line
// priced with a placeholder while other fields are refused): it keeps no
// snapshot.
func snapshotLines(items []Item) {
	for i := range items {
		it := &items[i]
		var (
			line fiscal.Line
			err  error
		)
		if it.Fiscal.IsZero() {
			line, err = fiscal.NewLine(fiscal.LineDraft{Name: it.Name, UnitPrice: it.UnitPrice, Quantity: it.Quantity})
		} else {
			line, err = it.Fiscal.WithQuantity(it.Quantity)
		}
		if err != nil {
			continue
		}
		it.Fiscal = line
	}
}

// Restore rebuilds a stored order; adapters only. A line restored without a
// snapshot gets the one New gives such a line.
func Restore(id, userID string, status Status, items []Item, total money.Money, addr Address, note string,
	createdAt, updatedAt, paidAt, shippedAt, deliveredAt, cancelledAt, refundedAt time.Time) *Order {
	items = slices.Clone(items)
	for i := range items {
		if items[i].Fiscal.IsZero() {
			snapshotLines(items[i : i+1])
		}
	}
	return &Order{
		id: id, userID: userID, status: status, items: items, total: total, address: addr, note: note,
		createdAt: createdAt, updatedAt: updatedAt, paidAt: paidAt, shippedAt: shippedAt,
		deliveredAt: deliveredAt, cancelledAt: cancelledAt, refundedAt: refundedAt,
	}
}

// RestoreRefundAuthorization sets when an admin authorized the order's
// refund on an order Restore rebuilt; adapters only.
func (o *Order) RestoreRefundAuthorization(at time.Time) *Order {
	o.refundAuthorizedAt = at
	return o
}

// WithReceipts sets the fiscal receipts of a restored order and returns it;
// adapters only.
func (o *Order) WithReceipts(r []fiscal.Receipt) *Order {
	o.receipts = slices.Clone(r)
	return o
}

// Receipts are the order's fiscal receipts, sale and refund, as the
// providers reported them (or, for Click, as submitted).
func (o *Order) Receipts() []fiscal.Receipt { return slices.Clone(o.receipts) }

// FiscalLines are the fiscal snapshots of the order's lines, in line order.
func (o *Order) FiscalLines() []fiscal.Line {
	out := make([]fiscal.Line, len(o.items))
	for i, it := range o.items {
		out[i] = it.Fiscal
	}
	return out
}

func (o *Order) ID() string             { return o.id }
func (o *Order) UserID() string         { return o.userID }
func (o *Order) Status() Status         { return o.status }
func (o *Order) Items() []Item          { return slices.Clone(o.items) }
func (o *Order) Total() money.Money     { return o.total }
func (o *Order) Address() Address       { return o.address }
func (o *Order) Note() string           { return o.note }
func (o *Order) CreatedAt() time.Time   { return o.createdAt }
func (o *Order) UpdatedAt() time.Time   { return o.updatedAt }
func (o *Order) PaidAt() time.Time      { return o.paidAt }
func (o *Order) ShippedAt() time.Time   { return o.shippedAt }
func (o *Order) DeliveredAt() time.Time { return o.deliveredAt }
func (o *Order) CancelledAt() time.Time { return o.cancelledAt }
func (o *Order) RefundedAt() time.Time  { return o.refundedAt }

// RefundAuthorizedAt is when an admin authorized the refund; zero when none did.
func (o *Order) RefundAuthorizedAt() time.Time { return o.refundAuthorizedAt }

// CheckPayable is asked before a payment attempt is accepted.
func (o *Order) CheckPayable() error {
	if o.status != StatusPendingPayment {
		return ErrNotPayable
	}
	return nil
}

// MarkPaid is called only by a payment gateway's success.
func (o *Order) MarkPaid(now time.Time) error {
	if err := o.CheckPayable(); err != nil {
		return err
	}
	o.status, o.paidAt, o.updatedAt = StatusPaid, now, now
	return nil
}

// Cancel ends an unpaid order; a paid one can only be refunded.
func (o *Order) Cancel(now time.Time) error {
	if o.status != StatusPendingPayment {
		return ErrIllegalTransition
	}
	o.status, o.cancelledAt, o.updatedAt = StatusCancelled, now, now
	return nil
}

// Refund is driven by payment gateways, which retry, hence idempotent. An
// order whose goods have shipped is refunded only when an admin authorized
// it (AuthorizeRefund): returns after delivery go through a person. Its
// shipped and delivered times stay, as history.
func (o *Order) Refund(now time.Time) error {
	switch o.status {
	case StatusRefunded:
		return nil
	case StatusPaid:
	case StatusShipped, StatusDelivered:
		if o.refundAuthorizedAt.IsZero() {
			return ErrCannotRefund
		}
	default:
		return ErrIllegalTransition
	}
	o.status, o.refundedAt, o.updatedAt = StatusRefunded, now, now
	return nil
}

// CheckRefundable is asked before an admin refund: the order must have been
// paid and not be refunded yet.
func (o *Order) CheckRefundable() error {
	switch o.status {
	case StatusPaid, StatusShipped, StatusDelivered:
		return nil
	}
	return fmt.Errorf("%w: the order is %s", ErrNotRefundable, o.status)
}

// AuthorizeRefund is an admin allowing the order's refund, whatever its
// fulfilment step. changed is false when it was authorized already: the
// first authorization's time stands.
func (o *Order) AuthorizeRefund(now time.Time) (changed bool, err error) {
	if err := o.CheckRefundable(); err != nil {
		return false, err
	}
	if !o.refundAuthorizedAt.IsZero() {
		return false, nil
	}
	o.refundAuthorizedAt, o.updatedAt = now, now
	return true, nil
}

// HasShipped tells whether the goods left the warehouse: a refund then does
// not put them back in stock.
func (o *Order) HasShipped() bool { return !o.shippedAt.IsZero() }

// AdvanceTo is the admin's fulfilment step. paid and refunded come only from
// gateways and cancelled only from Cancel, so nothing else is reachable here.
func (o *Order) AdvanceTo(target Status, now time.Time) error {
	switch {
	case o.status == StatusPaid && target == StatusShipped:
		o.status, o.shippedAt, o.updatedAt = StatusShipped, now, now
	case o.status == StatusShipped && target == StatusDelivered:
		o.status, o.deliveredAt, o.updatedAt = StatusDelivered, now, now
	default:
		return ErrIllegalTransition
	}
	return nil
}

// IsOverdue tells the expiry job which unpaid orders to cancel.
func (o *Order) IsOverdue(now time.Time, ttl time.Duration) bool {
	return o.status == StatusPendingPayment && now.Sub(o.createdAt) >= ttl
}

// OwnedBy is the ownership check for order-scoped resources. Paying for an
// order is its owner's act alone (POST /api/payments).
func (o *Order) OwnedBy(userID string) bool { return userID != "" && o.userID == userID }

// VisibleTo is who may see an order and what hangs off it (its payments):
// its owner, and admins (super_admin included). To anyone else, signed in or
// not, the order does not exist (404).
func (o *Order) VisibleTo(a user.Actor) bool { return a.Is(o.userID) || a.IsAdmin() }
