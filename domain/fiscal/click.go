package fiscal

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
)

// MaxClickNameChars is the length of submit_items' Name (string(63)).
const MaxClickNameChars = 63

// ClickTender is the received_* field of submit_items that carries what the
// buyer paid.
type ClickTender int

const (
	TenderCard  ClickTender = iota // received_card
	TenderECash                    // received_ecash
	TenderCash                     // received_cash
)

// ClickPaidWith is how every Click payment is declared to the tax system.
// FISCAL.md §5.2 leaves card vs e-money open (projects differ). We declare
// card: payments through Click's pay link are mostly taken from a Uzcard or
// Humo card linked to Click, and Click's own submit_items example (FISCAL.md
// §3.1) puts a card payment in received_card. Should Click say its wallet
// payments are e-money, this one constant changes (FISCAL.md §5.2 is to be
// settled on the first live payment).
const ClickPaidWith = TenderCard

// ClickSubmission is the body of Click's payment/ofd_data/submit_items
// without service_id and payment_id, which the adapter adds (FISCAL.md §3).
// Amounts are tiyin, as Click expects.
type ClickSubmission struct {
	Items                                     []ClickItem
	ReceivedCash, ReceivedCard, ReceivedECash money.Money
}

// ClickItem is one line of a ClickSubmission.
type ClickItem struct {
	Name        string // at most MaxClickNameChars characters
	SPIC        string // IKPU
	PackageCode string
	Units       int         // unit code; 0 = not set, and then not sent
	GoodPrice   money.Money // one unit
	Price       money.Money // the line: quantity × unit price
	Amount      int64       // quantity
	VAT         money.Money
	VATPercent  int
	Commission  Principal // CommissionInfo: the seller, by TIN or PINFL
}

// ClickSubmissionFor builds the submission of an order from its line
// snapshots, one item per line, the whole amount in the ClickPaidWith field.
//
// Click requires a principal on every line. A line whose seller had no
// profile names own (the marketplace itself, which sells such goods and its
// own services); with own zero such a line is a *MissingError for "seller",
// as are lines without an IKPU, a package code or a name. A submission
// Click would refuse is better refused here, where the line can be named.
func ClickSubmissionFor(lines []Line, own Principal) (ClickSubmission, error) {
	if len(lines) == 0 {
		return ClickSubmission{}, domain.Invalid("items", domain.MsgMinOneLine)
	}
	items := make([]ClickItem, 0, len(lines))
	var total money.Money
	for i, l := range lines {
		seller := l.seller
		if seller.IsZero() {
			seller = own
		}
		switch {
		case l.ikpuCode == "":
			return ClickSubmission{}, &MissingError{Line: i, Field: "ikpu_code"}
		case l.packageCode == "":
			return ClickSubmission{}, &MissingError{Line: i, Field: "package_code"}
		case strings.TrimSpace(l.name) == "":
			return ClickSubmission{}, &MissingError{Line: i, Field: "name"}
		case seller.IsZero():
			return ClickSubmission{}, &MissingError{Line: i, Field: "seller"}
		}
		var err error
		if total, err = total.Add(l.lineTotal); err != nil {
			return ClickSubmission{}, fmt.Errorf("fiscal: click submission total: %w", err)
		}
		items = append(items, ClickItem{
			Name: clickName(l.name), SPIC: l.ikpuCode, PackageCode: l.packageCode, Units: l.unitCode,
			GoodPrice: l.unitPrice, Price: l.lineTotal, Amount: l.quantity,
			VAT: l.vatAmount, VATPercent: l.vatPercent, Commission: seller,
		})
	}
	s := ClickSubmission{Items: items}
	switch ClickPaidWith {
	case TenderCard:
		s.ReceivedCard = total
	case TenderECash:
		s.ReceivedECash = total
	case TenderCash:
		s.ReceivedCash = total
	}
	return s, nil
}

// clickName cuts a name to Click's limit on a character boundary, so a
// long product name does not get the whole submission refused.
func clickName(name string) string {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) <= MaxClickNameChars {
		return name
	}
	r := []rune(name)
	return strings.TrimSpace(string(r[:MaxClickNameChars]))
}
