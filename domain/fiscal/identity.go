package fiscal

import "github.com/ultramarket/gateway/domain"

// VAT rates a product may carry. 12 % is Uzbekistan's rate since 2023 (Law
// ZRU-812) and the default; 0 is for goods sold without VAT.
const (
	DefaultVATPercent = 12
	ZeroVATPercent    = 0
)

// Limits of the product's fiscal fields (API.md, "Products").
const (
	IKPUCodeDigits    = 17
	MaxPackageCodeLen = 20
	MaxUnitCode       = 999_999
)

// IdentityDraft is the client's input for a product's fiscal identity; nil
// means the field was not given (or was null).
type IdentityDraft struct {
	IKPUCode    *string
	PackageCode *string
	UnitCode    *int64
	VATPercent  *int
}

// Identity is a product's fiscal identity: its IKPU (MXIK) code from the
// national catalogue, the package code and unit of that code's card, and
// its VAT rate.
//
// The zero Identity is a product without fiscal codes at the default 12 %
// VAT, which is what API.md says a product that never got fiscal data has;
// that is why the rate is kept as "is it zero" rather than as a number whose
// zero value would silently mean "no VAT".
type Identity struct {
	ikpuCode, packageCode string // "" = not set
	unitCode              int    // 0 = not set
	noVAT                 bool
}

// NewIdentity validates d. Errors name the fields as the product body does
// (ikpu_code, package_code, unit_code, vat_percent); an empty string is not
// "not set" but an invalid code. Adapters use it too when they read a stored
// or upstream product back, so a bad stored value is caught, not served.
func NewIdentity(d IdentityDraft) (Identity, error) {
	var id Identity
	var verr fieldErrors
	if d.IKPUCode != nil {
		if !digits(*d.IKPUCode, IKPUCodeDigits, IKPUCodeDigits) {
			verr.add("ikpu_code", domain.MsgExactDigits, domain.Args{"Count": IKPUCodeDigits})
		}
		id.ikpuCode = *d.IKPUCode
	}
	if d.PackageCode != nil {
		if !digits(*d.PackageCode, 1, MaxPackageCodeLen) {
			verr.add("package_code", domain.MsgDigitsRange, domain.Args{"Count": MaxPackageCodeLen})
		}
		id.packageCode = *d.PackageCode
	}
	if d.UnitCode != nil {
		if *d.UnitCode < 1 || *d.UnitCode > MaxUnitCode {
			verr.add("unit_code", domain.MsgIntegerRange, domain.Args{"Min": 1, "Max": MaxUnitCode})
		} else {
			id.unitCode = int(*d.UnitCode)
		}
	}
	if d.VATPercent != nil {
		switch *d.VATPercent {
		case DefaultVATPercent:
		case ZeroVATPercent:
			id.noVAT = true
		default:
			verr.add("vat_percent", domain.MsgEither, domain.Args{"Values": "0", "Last": "12"})
		}
	}
	if err := verr.err(); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// IKPUCode is the 17-digit IKPU (MXIK) code, "" when not set.
func (i Identity) IKPUCode() string { return i.ikpuCode }

// PackageCode is the package code, "" when not set.
func (i Identity) PackageCode() string { return i.packageCode }

// UnitCode is the unit code, 0 when not set.
func (i Identity) UnitCode() int { return i.unitCode }

// VATPercent is 12 or 0.
func (i Identity) VATPercent() int {
	if i.noVAT {
		return ZeroVATPercent
	}
	return DefaultVATPercent
}

// Complete reports whether the product can appear on a receipt: both
// providers require the IKPU and the package code of every line.
func (i Identity) Complete() bool { return i.ikpuCode != "" && i.packageCode != "" }
