package fiscal

import (
	"fmt"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
)

// LineDraft is what an order line is made from when the order is placed:
// the line as priced from the catalog, its product's fiscal identity and
// its seller's profile (nil when the seller has none).
type LineDraft struct {
	Name      string
	UnitPrice money.Money
	Quantity  int64
	Product   Identity
	Seller    *SellerProfile
}

// Line is the fiscal snapshot an order line keeps: everything a receipt
// needs, copied when the order is placed. Receipts are built from it alone,
// so Payme's detail (asked for at CheckPerformTransaction) and the Click
// submission (sent after the payment) describe the same sale even when the
// product or the seller's profile changed in between.
type Line struct {
	name                  string
	unitPrice, lineTotal  money.Money
	quantity              int64
	ikpuCode, packageCode string
	unitCode              int
	vatPercent            int
	vatAmount             money.Money
	seller                Principal
}

// NewLine takes the snapshot: the line total, the line's VAT rate by the
// seller rule and its VAT amount are computed here, once.
func NewLine(d LineDraft) (Line, error) {
	var verr fieldErrors
	if d.Name == "" {
		verr.add("name", domain.MsgNotEmpty)
	}
	if d.UnitPrice.Tiyin() <= 0 {
		verr.add("unit_price", domain.MsgPositive)
	}
	if d.Quantity < 1 {
		verr.add("quantity", domain.MsgAtLeast, domain.Args{"Min": 1})
	}
	if err := verr.err(); err != nil {
		return Line{}, err
	}
	total, err := d.UnitPrice.Times(d.Quantity)
	if err != nil {
		return Line{}, domain.Invalid("quantity", domain.MsgLineTotalTooLarge)
	}
	percent := LineVATPercent(d.Product, d.Seller)
	vat, err := VATAmount(total, percent)
	if err != nil {
		return Line{}, fmt.Errorf("fiscal line %q: %w", d.Name, err) // 0 or 12 by construction
	}
	l := Line{
		name: d.Name, unitPrice: d.UnitPrice, lineTotal: total, quantity: d.Quantity,
		ikpuCode: d.Product.IKPUCode(), packageCode: d.Product.PackageCode(), unitCode: d.Product.UnitCode(),
		vatPercent: percent, vatAmount: vat,
	}
	if d.Seller != nil {
		l.seller = d.Seller.Principal()
	}
	return l, nil
}

// LineRecord is a Line as stored with its order line; for adapters.
type LineRecord struct {
	Name                  string
	UnitPrice, LineTotal  money.Money
	Quantity              int64
	IKPUCode, PackageCode string // "" = not set
	UnitCode              int    // 0 = not set
	VATPercent            int
	VATAmount             money.Money
	Seller                Principal // zero when the seller had no profile
}

// RestoreLine rebuilds a stored snapshot as it was taken, without
// recomputing anything: the stored values are what the buyer agreed to.
// Adapters only.
func RestoreLine(r LineRecord) Line {
	return Line{
		name: r.Name, unitPrice: r.UnitPrice, lineTotal: r.LineTotal, quantity: r.Quantity,
		ikpuCode: r.IKPUCode, packageCode: r.PackageCode, unitCode: r.UnitCode,
		vatPercent: r.VATPercent, vatAmount: r.VATAmount, seller: r.Seller,
	}
}

// Record is the snapshot's stored form, the inverse of RestoreLine.
func (l Line) Record() LineRecord {
	return LineRecord{
		Name: l.name, UnitPrice: l.unitPrice, LineTotal: l.lineTotal, Quantity: l.quantity,
		IKPUCode: l.ikpuCode, PackageCode: l.packageCode, UnitCode: l.unitCode,
		VATPercent: l.vatPercent, VATAmount: l.vatAmount, Seller: l.seller,
	}
}

func (l Line) Name() string           { return l.name }
func (l Line) UnitPrice() money.Money { return l.unitPrice }
func (l Line) Quantity() int64        { return l.quantity }
func (l Line) LineTotal() money.Money { return l.lineTotal }
func (l Line) IKPUCode() string       { return l.ikpuCode }
func (l Line) PackageCode() string    { return l.packageCode }
func (l Line) UnitCode() int          { return l.unitCode }
func (l Line) VATPercent() int        { return l.vatPercent }
func (l Line) VATAmount() money.Money { return l.vatAmount }

// Seller names the line's seller by TIN or PINFL; zero when they had no profile.
func (l Line) Seller() Principal { return l.seller }

// Complete reports whether the line has the IKPU and package code both
// providers require on a receipt.
func (l Line) Complete() bool { return l.ikpuCode != "" && l.packageCode != "" }

// IsZero reports whether l is no snapshot at all (the zero Line).
func (l Line) IsZero() bool { return l.name == "" && l.unitPrice.IsZero() && l.quantity == 0 }

// WithQuantity is the snapshot for another quantity of the same line, its
// total and VAT recomputed at the line's rate: an order merges the lines of
// one product after their snapshots were taken.
func (l Line) WithQuantity(quantity int64) (Line, error) {
	if quantity < 1 {
		return Line{}, domain.Invalid("quantity", "must be at least 1")
	}
	total, err := l.unitPrice.Times(quantity)
	if err != nil {
		return Line{}, domain.Invalid("quantity", "line total is too large")
	}
	vat, err := VATAmount(total, l.vatPercent)
	if err != nil {
		return Line{}, fmt.Errorf("fiscal line %q: %w", l.name, err)
	}
	l.quantity, l.lineTotal, l.vatAmount = quantity, total, vat
	return l, nil
}
