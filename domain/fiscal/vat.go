package fiscal

import (
	"fmt"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
)

// ErrVATPercent: a VAT rate outside 0..100 has no meaning.
var ErrVATPercent = fmt.Errorf("fiscal: vat percent out of range: %w", domain.ErrValidation)

// LineVATPercent is the VAT rate of an order line (API.md, "Fiscal
// receipts"): the product's rate when its seller pays VAT or has no profile
// (nil), else 0, since a seller outside VAT charges none.
func LineVATPercent(product Identity, seller *SellerProfile) int {
	if seller != nil && !seller.VATPayer() {
		return ZeroVATPercent
	}
	return product.VATPercent()
}

// VATAmount is the VAT included in lineTotal at percent p: lineTotal × p /
// (100 + p), rounded half up to a whole tiyin. Prices include VAT, so the
// tax is taken out of the total rather than added to it. It is computed per
// line (FISCAL.md §4), never per unit and never forced to match the VAT of
// the order total.
//
// Integer math only, and it holds for every lineTotal an int64 can carry:
// the textbook (t·p·2 + d) / 2d overflows for t above about 3.8·10^17, so
// the whole multiples of d = 100 + p are taken out first, leaving a
// remainder below d whose product with p is tiny.
func VATAmount(lineTotal money.Money, percent int) (money.Money, error) {
	if percent < 0 || percent > 100 {
		return money.Money{}, fmt.Errorf("%w: %d", ErrVATPercent, percent)
	}
	t, p := lineTotal.Tiyin(), int64(percent)
	d := 100 + p
	q, r := t/d, t%d
	// t·p/d = q·p + r·p/d exactly; q·p is whole, so only r·p/d is rounded.
	// q·p ≤ t·p/d < t, and the rounded part ≤ p, so nothing overflows.
	vat := q*p + (2*r*p+d)/(2*d)
	return money.MustTiyin(vat), nil
}
