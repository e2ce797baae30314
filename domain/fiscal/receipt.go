package fiscal

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/payment"
)

// Kind says which fiscal document a receipt is: every sale and every refund
// gets its own.
type Kind string

const (
	KindSale   Kind = "sale"
	KindRefund Kind = "refund"
)

// Status is where a receipt is: pending while we wait for the provider
// (Click: submitted or about to be), issued once the tax system accepted it,
// failed when it refused it or we gave up.
type Status string

const (
	StatusPending Status = "pending"
	StatusIssued  Status = "issued"
	StatusFailed  Status = "failed"
)

// ParseKind accepts exactly the stored spellings.
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); k == KindSale || k == KindRefund {
		return k, nil
	}
	return "", domain.Invalid("kind", domain.MsgEither, domain.Args{"Values": "sale", "Last": "refund"})
}

// ParseStatus accepts exactly the stored spellings.
func ParseStatus(s string) (Status, error) {
	if st := Status(s); st == StatusPending || st == StatusIssued || st == StatusFailed {
		return st, nil
	}
	return "", domain.Invalid("status", domain.MsgEither, domain.Args{"Values": "pending, issued", "Last": "failed"})
}

// ReceiptData is what a provider reports about a printed receipt; any part
// may be missing ("" or zero).
type ReceiptData struct {
	QRCodeURL  string
	FiscalSign string
	TerminalID string
	IssuedAt   time.Time
}

// Receipt is one fiscal receipt of an order as a client sees it.
type Receipt struct {
	provider payment.Provider
	kind     Kind
	status   Status
	data     ReceiptData
}

// NewReceipt checks the provider, kind and status; adapters reading a stored
// receipt back use it too. IssuedAt is kept in UTC.
func NewReceipt(provider payment.Provider, kind Kind, status Status, data ReceiptData) (Receipt, error) {
	if provider != payment.ProviderPayme && provider != payment.ProviderClick {
		return Receipt{}, fmt.Errorf("fiscal receipt: unknown provider %q: %w", provider, domain.ErrValidation)
	}
	if _, err := ParseKind(string(kind)); err != nil {
		return Receipt{}, err
	}
	if _, err := ParseStatus(string(status)); err != nil {
		return Receipt{}, err
	}
	if !data.IssuedAt.IsZero() {
		data.IssuedAt = data.IssuedAt.UTC()
	}
	return Receipt{provider: provider, kind: kind, status: status, data: data}, nil
}

func (r Receipt) Provider() payment.Provider { return r.provider }
func (r Receipt) Kind() Kind                 { return r.kind }
func (r Receipt) Status() Status             { return r.status }
func (r Receipt) FiscalSign() string         { return r.data.FiscalSign }
func (r Receipt) TerminalID() string         { return r.data.TerminalID }

// IssuedAt is when the receipt was printed; zero when unknown.
func (r Receipt) IssuedAt() time.Time { return r.data.IssuedAt }

// QRCodeURL is the link as the provider sent it, whatever it is; it is
// stored as is, for the record.
func (r Receipt) QRCodeURL() string { return r.data.QRCodeURL }

// ShownQRCodeURL is the link a client may see: QRCodeURL when it is a
// receipt on the tax committee's site, else "" (null in the API).
func (r Receipt) ShownQRCodeURL() string {
	if ShowableQRCodeURL(r.data.QRCodeURL) {
		return r.data.QRCodeURL
	}
	return ""
}

// OFDHost is the tax committee's receipt site; receipt links point there.
const OFDHost = "ofd.soliq.uz"

// ShowableQRCodeURL reports whether raw may be shown to a buyer: an https
// URL on host ofd.soliq.uz exactly, with no port and no user info. The link
// comes from a provider's message and ends up as a link in our pages and
// messages, so anything else (another host, http, javascript:) is kept out
// of sight rather than trusted.
func ShowableQRCodeURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return u.Scheme == "https" && strings.EqualFold(u.Host, OFDHost) && u.User == nil && u.Opaque == ""
}

// IssuedAtFromQRCodeURL reads the print time from a receipt link's c=
// parameter (YYYYMMDDhhmmss, Tashkent time, FISCAL.md §1), as a UTC time:
// Click reports only the link, and this is the one place its time is in.
// ok is false when the link has no readable c=.
func IssuedAtFromQRCodeURL(raw string) (t time.Time, ok bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return time.Time{}, false
	}
	return parseOFDDate(u.Query().Get("c"))
}

// Tashkent is the zone of the dates on Uzbek receipts: UTC+5 all year, as
// Uzbekistan has kept no daylight saving time since 1992. A fixed zone, so
// the result does not depend on the machine's time zone database.
var Tashkent = time.FixedZone("UZT", 5*60*60)

// ofdDateLayout is YYYYMMDDhhmmss, the form of Payme's SetFiscalData date
// and of the c= parameter of an ofd.soliq.uz receipt link.
const ofdDateLayout = "20060102150405"

// ParsePaymeDate reads the date of Payme's SetFiscalData (YYYYMMDDhhmmss in
// Tashkent time) as a UTC time. Anything else, or a date that does not exist,
// is a validation error naming fiscal_data.date.
func ParsePaymeDate(s string) (time.Time, error) {
	t, ok := parseOFDDate(s)
	if !ok {
		return time.Time{}, domain.Invalid("fiscal_data.date", domain.MsgPaymeDate)
	}
	return t, nil
}

func parseOFDDate(s string) (time.Time, bool) {
	// The exact form first (14 ASCII digits); time.Parse then refuses dates that do not exist.
	if !digits(s, len(ofdDateLayout), len(ofdDateLayout)) {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(ofdDateLayout, s, Tashkent)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// Payme's SetFiscalData types.
const (
	PaymeTypePerform = "PERFORM"
	PaymeTypeCancel  = "CANCEL"
)

// KindForPaymeType maps SetFiscalData's type to a receipt kind: PERFORM is
// the sale receipt, CANCEL the return receipt of a cancelled payment.
func KindForPaymeType(typ string) (Kind, error) {
	switch typ {
	case PaymeTypePerform:
		return KindSale, nil
	case PaymeTypeCancel:
		return KindRefund, nil
	}
	return "", domain.Invalid("type", domain.MsgEither, domain.Args{"Values": "PERFORM", "Last": "CANCEL"})
}

// StatusForPaymeCode maps SetFiscalData's status_code: 0 means the tax
// system accepted the receipt; any other code is a failed receipt.
func StatusForPaymeCode(code int) Status {
	if code == 0 {
		return StatusIssued
	}
	return StatusFailed
}
