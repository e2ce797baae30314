package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/application/analytics"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// MaxExportRows bounds one CSV export (API.md): a larger range must be cut
// into several, by to.
const MaxExportRows = 100_000

// PaymentsInput is the caller and the raw query of the payments console
// ("" = not given). Page and PageSize are nil when not given; the export
// ignores them.
type PaymentsInput struct {
	Actor    user.Actor
	Provider string
	State    string
	OrderID  string
	From     string
	To       string
	Page     *int
	PageSize *int
}

// PaymentPage is one page of the console and how many attempts match in all.
type PaymentPage struct {
	Items    []payments.Transaction
	Page     int
	PageSize int
	Total    int
}

// ListPayments is the payments console: both providers' attempts across
// orders, newest first.
type ListPayments struct {
	console ports.PaymentConsole
}

// NewListPayments wires the use case.
func NewListPayments(console ports.PaymentConsole) *ListPayments {
	return &ListPayments{console: console}
}

// Handle returns user.ErrNotAllowed (403) unless the caller is an admin, and
// a *domain.ValidationError (422) naming every bad parameter: provider
// (payme, click), state (pending, completed, cancelled, refunded), order_id
// (a UUID), from and to (RFC 3339 or YYYY-MM-DD, as analytics; a to date
// includes its whole day; from after to names from), page, page_size.
// Without from or to the range is open on that side.
func (uc *ListPayments) Handle(ctx context.Context, in PaymentsInput) (PaymentPage, error) {
	f, err := paymentFilterOf(in, true)
	if err != nil {
		return PaymentPage{}, err
	}
	recs, total, err := uc.console.List(ctx, f)
	if err != nil {
		return PaymentPage{}, fmt.Errorf("list payments: %w", err)
	}
	items := make([]payments.Transaction, 0, len(recs))
	for _, r := range recs {
		items = append(items, payments.Transaction(r))
	}
	return PaymentPage{Items: items, Page: f.Page, PageSize: f.PageSize, Total: total}, nil
}

// ExportPayments is the console's CSV: the same rows, every one of them.
type ExportPayments struct {
	console ports.PaymentConsole
}

// NewExportPayments wires the use case.
func NewExportPayments(console ports.PaymentConsole) *ExportPayments {
	return &ExportPayments{console: console}
}

// Check validates the request and counts its rows, before the caller starts
// an answer it could not take back: the errors of ListPayments.Handle, and a
// *domain.ValidationError naming to when more than MaxExportRows match.
func (uc *ExportPayments) Check(ctx context.Context, in PaymentsInput) (ports.PaymentFilter, error) {
	f, err := paymentFilterOf(in, false)
	if err != nil {
		return ports.PaymentFilter{}, err
	}
	n, err := uc.console.Count(ctx, f)
	if err != nil {
		return ports.PaymentFilter{}, fmt.Errorf("count payments to export: %w", err)
	}
	if n > MaxExportRows {
		return ports.PaymentFilter{}, domain.Invalid("to", domain.MsgExportTooLarge, domain.Args{"Count": n, "Max": MaxExportRows})
	}
	return f, nil
}

// Handle calls fn with every attempt f (from Check) matches, newest first,
// stopping at fn's first error.
func (uc *ExportPayments) Handle(ctx context.Context, f ports.PaymentFilter, fn func(payments.Transaction) error) error {
	return uc.console.Each(ctx, f, func(r ports.PaymentRecord) error { return fn(payments.Transaction(r)) })
}

// consoleTZ is the zone a from or to date is read in, as analytics' default.
const consoleTZ = analytics.DefaultTZ

func paymentFilterOf(in PaymentsInput, paged bool) (ports.PaymentFilter, error) {
	if !in.Actor.IsAdmin() {
		return ports.PaymentFilter{}, fmt.Errorf("payments console as %q: %w", in.Actor.Role, user.ErrNotAllowed)
	}
	verr := &domain.ValidationError{}
	var f ports.PaymentFilter
	switch p := payment.Provider(in.Provider); p {
	case "", payment.ProviderPayme, payment.ProviderClick:
		f.Provider = p
	default:
		verr.Add("provider", domain.MsgEither, domain.Args{"Values": "payme", "Last": "click"})
	}
	switch s := payment.ClientState(in.State); s {
	case "", payment.ClientPending, payment.ClientCompleted, payment.ClientCancelled, payment.ClientRefunded:
		f.State = s
	default:
		verr.Add("state", domain.MsgEither, domain.Args{"Values": "pending, completed, cancelled", "Last": "refunded"})
	}
	if in.OrderID != "" {
		id, ok := domain.ParseID(in.OrderID)
		if !ok {
			verr.Add("order_id", domain.MsgUUID)
		}
		f.OrderID = id
	}
	loc, err := time.LoadLocation(consoleTZ)
	if err != nil {
		return ports.PaymentFilter{}, fmt.Errorf("load %s: %w", consoleTZ, err)
	}
	toIsDate := false
	if in.To != "" {
		t, isDate, ok := analytics.ParseBound(in.To, loc, true)
		if !ok {
			verr.Add("to", domain.MsgTimestamp)
		}
		f.To, toIsDate = t, isDate
	}
	if in.From != "" {
		t, _, ok := analytics.ParseBound(in.From, loc, false)
		if !ok {
			verr.Add("from", domain.MsgTimestamp)
		}
		f.From = t
	}
	if !f.From.IsZero() && !f.To.IsZero() && (f.From.After(f.To) || (toIsDate && !f.From.Before(f.To))) {
		verr.Add("from", domain.MsgFromAfterTo)
	}
	if paged {
		f.Page, f.PageSize = domain.Paging(in.Page, in.PageSize, verr)
	}
	if err := verr.OrNil(); err != nil {
		return ports.PaymentFilter{}, err
	}
	return f, nil
}
