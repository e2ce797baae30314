package payme

import "github.com/ultramarket/gateway/domain/fiscal"

// FiscalDetail is the `detail` object of a CheckPerformTransaction result
// (FISCAL.md §2.1), from which Payme prints the sale receipt.
type FiscalDetail struct {
	ReceiptType int                `json:"receipt_type"`
	Items       []FiscalDetailItem `json:"items"`
}

// FiscalDetailItem is one line of FiscalDetail. Units is left out when the
// product has no unit code (API.md: "units when unit_code is set").
type FiscalDetailItem struct {
	Title       string `json:"title"`
	Price       int64  `json:"price"` // one unit, tiyin
	Count       int64  `json:"count"`
	Code        string `json:"code"`
	PackageCode string `json:"package_code"`
	VATPercent  int    `json:"vat_percent"`
	Units       int    `json:"units,omitempty"`
}

// NewFiscalDetail maps the domain's detail to its wire form.
func NewFiscalDetail(d fiscal.PaymeDetail) FiscalDetail {
	out := FiscalDetail{ReceiptType: d.ReceiptType, Items: make([]FiscalDetailItem, 0, len(d.Items))}
	for _, it := range d.Items {
		out.Items = append(out.Items, FiscalDetailItem{
			Title: it.Title, Price: it.Price.Tiyin(), Count: it.Count, Code: it.Code,
			PackageCode: it.PackageCode, VATPercent: it.VATPercent, Units: it.Units,
		})
	}
	return out
}
