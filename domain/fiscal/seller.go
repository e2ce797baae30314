package fiscal

import "github.com/ultramarket/gateway/domain"

// Lengths of the two taxpayer numbers a seller may be registered under.
const (
	TINDigits   = 9  // a company's (or an entrepreneur's) taxpayer number
	PINFLDigits = 14 // an individual's personal number
)

// SellerProfileDraft is the body of PUT /api/admin/users/:id/seller-profile;
// nil means the field was not given (or was null).
type SellerProfileDraft struct {
	TIN, PINFL *string
	VATPayer   bool
}

// SellerProfile is what the receipts need to know about a seller: the
// number the tax system knows them by (exactly one of TIN and PINFL) and
// whether they pay VAT.
type SellerProfile struct {
	tin, pinfl string
	vatPayer   bool
}

// NewSellerProfile validates d: exactly one of tin (9 digits) and pinfl (14
// digits). Neither or both name both fields, since either one could be the
// one to fix; a malformed one names itself. An empty string is a malformed
// number, not an absent one.
func NewSellerProfile(d SellerProfileDraft) (SellerProfile, error) {
	var verr fieldErrors
	switch {
	case d.TIN == nil && d.PINFL == nil:
		verr.add("tin", domain.MsgTINOrPINFL)
		verr.add("pinfl", domain.MsgTINOrPINFL)
	case d.TIN != nil && d.PINFL != nil:
		verr.add("tin", domain.MsgTINNotBothPINFL)
		verr.add("pinfl", domain.MsgTINNotBothPINFL)
	case d.TIN != nil && !digits(*d.TIN, TINDigits, TINDigits):
		verr.add("tin", domain.MsgExactDigits, domain.Args{"Count": TINDigits})
	case d.PINFL != nil && !digits(*d.PINFL, PINFLDigits, PINFLDigits):
		verr.add("pinfl", domain.MsgExactDigits, domain.Args{"Count": PINFLDigits})
	}
	if err := verr.err(); err != nil {
		return SellerProfile{}, err
	}
	p := SellerProfile{vatPayer: d.VATPayer}
	if d.TIN != nil {
		p.tin = *d.TIN
	} else {
		p.pinfl = *d.PINFL
	}
	return p, nil
}

// RestoreSellerProfile rebuilds a stored profile ("" for the number it does
// not have); adapters only.
func RestoreSellerProfile(tin, pinfl string, vatPayer bool) SellerProfile {
	return SellerProfile{tin: tin, pinfl: pinfl, vatPayer: vatPayer}
}

// TIN is the 9-digit taxpayer number, "" when the seller has a PINFL.
func (p SellerProfile) TIN() string { return p.tin }

// PINFL is the 14-digit personal number, "" when the seller has a TIN.
func (p SellerProfile) PINFL() string { return p.pinfl }

// VATPayer reports whether the seller is registered for VAT.
func (p SellerProfile) VATPayer() bool { return p.vatPayer }

// Principal is the seller as a commission receipt names them.
func (p SellerProfile) Principal() Principal { return Principal{TIN: p.tin, PINFL: p.pinfl} }

// Principal is the party a marketplace sells for as a commission agent (Civil
// Code art. 832): a receipt line names them by TIN or by PINFL, one of the
// two. The zero Principal names nobody.
type Principal struct {
	TIN, PINFL string
}

// IsZero reports whether p names nobody.
func (p Principal) IsZero() bool { return p.TIN == "" && p.PINFL == "" }
