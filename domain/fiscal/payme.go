package fiscal

import "github.com/ultramarket/gateway/domain/money"

// PaymeReceiptSale is the only receipt_type Payme documents (a sale).
const PaymeReceiptSale = 0

// PaymeDetail is the `detail` of Payme's CheckPerformTransaction result,
// from which Payme prints the sale receipt (FISCAL.md §2.1).
type PaymeDetail struct {
	ReceiptType int
	Items       []PaymeItem
}

// PaymeItem is one line of PaymeDetail. Payme's schema has no VAT amount
// (Payme computes it) and no seller field (FISCAL.md §5.4).
type PaymeItem struct {
	Title       string
	Price       money.Money // one unit
	Count       int64
	Code        string // IKPU
	PackageCode string
	VATPercent  int
	Units       int // unit code; 0 = not set, and then not sent
}

// PaymeDetailFor builds the detail of an order from its line snapshots, one
// item per line. ok is false when some line lacks an IKPU or package code
// (or there are no lines): Payme is then answered without a detail, as
// before fiscal data existed, rather than with a receipt the tax cabinet
// would flag.
func PaymeDetailFor(lines []Line) (detail PaymeDetail, ok bool) {
	if len(lines) == 0 {
		return PaymeDetail{}, false
	}
	items := make([]PaymeItem, 0, len(lines))
	for _, l := range lines {
		if !l.Complete() {
			return PaymeDetail{}, false
		}
		items = append(items, PaymeItem{
			Title: l.name, Price: l.unitPrice, Count: l.quantity, Code: l.ikpuCode,
			PackageCode: l.packageCode, VATPercent: l.vatPercent, Units: l.unitCode,
		})
	}
	return PaymeDetail{ReceiptType: PaymeReceiptSale, Items: items}, true
}
