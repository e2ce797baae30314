package click

import (
	"crypto/md5" //nolint:gosec // G501, G401: MD5 is what Click's SHOP-API signs with (shared/payments/SPEC.md)
	"crypto/subtle"
	"encoding/hex"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/ultramarket/gateway/domain/money"
)

// Click's actions: the same form goes to two URLs, told apart by action.
const (
	actionPrepare  = 0
	actionComplete = 1
)

// maxAmountChars bounds the amount string we store (as the database does):
// Click writes so'm with at most two decimals.
const maxAmountChars = 64

// request is one parsed Prepare or Complete. The raw strings are kept
// because Click signs them exactly as it sent them.
type request struct {
	raw url.Values // every field, decoded from the form but otherwise as sent

	clickTransID      int64
	clickPaydocID     int64
	serviceID         int64
	merchantTransID   string
	merchantPrepareID int64 // Complete only
	amount            int64 // tiyin; zero or negative when Click sent such a number
	action            int
	clickError        int
}

// Form fields. merchant_prepare_id is required on Complete only; error_note
// is optional on both.
const (
	fClickTransID      = "click_trans_id"
	fServiceID         = "service_id"
	fClickPaydocID     = "click_paydoc_id"
	fMerchantTransID   = "merchant_trans_id"
	fMerchantPrepareID = "merchant_prepare_id"
	fAmount            = "amount"
	fAction            = "action"
	fError             = "error"
	fErrorNote         = "error_note"
	fSignTime          = "sign_time"
	fSignString        = "sign_string"
)

var (
	prepareFields  = []string{fClickTransID, fServiceID, fClickPaydocID, fMerchantTransID, fAmount, fAction, fError, fSignTime, fSignString}
	completeFields = append(append([]string(nil), prepareFields...), fMerchantPrepareID)
)

// parseForm reads an application/x-www-form-urlencoded body. It answers
// codeBadRequest (-8) for a body that is not a form, a missing, repeated or
// empty required field, an id or number that does not parse, or an amount
// that is not a decimal number; otherwise codeOK. What could be parsed is
// returned either way, so the answer can echo click_trans_id and
// merchant_trans_id.
func parseForm(body []byte, complete bool) (request, int) {
	var r request
	values, err := url.ParseQuery(string(body)) // on error: the pairs that did parse
	r.raw = values
	// Echo what can be echoed even when the rest is malformed.
	r.merchantTransID = values.Get(fMerchantTransID)
	r.clickTransID = echoedID(values.Get(fClickTransID))
	if err != nil {
		return r, codeBadRequest
	}

	required := prepareFields
	if complete {
		required = completeFields
	}
	for _, f := range required {
		if v := values[f]; len(v) != 1 || v[0] == "" {
			return r, codeBadRequest // missing, empty, or ambiguous (which one was signed?)
		}
	}
	if len(values[fErrorNote]) > 1 {
		return r, codeBadRequest
	}

	p := numbers{ok: true}
	if id := p.id(values.Get(fClickTransID)); p.ok {
		r.clickTransID = id // else the echo above stands
	}
	r.serviceID = p.id(values.Get(fServiceID))
	r.clickPaydocID = p.count(values.Get(fClickPaydocID))
	r.action = p.small(values.Get(fAction))
	r.clickError = p.small(values.Get(fError))
	if complete {
		r.merchantPrepareID = p.id(values.Get(fMerchantPrepareID))
	}
	// Click's error is 0 or negative; anything else is not a Click verdict.
	if !p.ok || r.clickError > 0 {
		return r, codeBadRequest
	}
	amount, ok := parseAmount(values.Get(fAmount))
	if !ok {
		return r, codeBadRequest
	}
	r.amount = amount
	return r, codeOK
}

// echoedID is click_trans_id as the answer echoes it: any int64 Click sent,
// a malformed one (-5, say) included, and 0 when it is not an integer at all.
func echoedID(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// parseAmount converts Click's so'm exactly to tiyin. A leading '-' is kept:
// a negative number is a number, answered "incorrect amount" (-2) later,
// while something that is no number at all is a malformed request (-8).
func parseAmount(s string) (int64, bool) {
	if len(s) > maxAmountChars {
		return 0, false
	}
	digits, negative := strings.CutPrefix(s, "-")
	m, err := money.ParseSom(digits)
	if err != nil {
		// A well-formed decimal that is no whole number of tiyin
		// ("50000.001") or too large for int64 is still a number: it cannot
		// equal any order total, so it is answered -2, not -8 (API.md).
		if isDecimal(digits) {
			return unmatchableAmount, true
		}
		return 0, false
	}
	if negative {
		return -m.Tiyin(), true
	}
	return m.Tiyin(), true
}

// unmatchableAmount stands for a number no order total can equal (order
// totals are positive); the use case answers it "incorrect amount".
const unmatchableAmount int64 = math.MinInt64

// isDecimal reports whether s is digits, optionally followed by '.' and digits.
func isDecimal(s string) bool {
	whole, frac, hasDot := strings.Cut(s, ".")
	return whole != "" && allDigits(whole) && (!hasDot || (frac != "" && allDigits(frac)))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// numbers parses the numeric fields, remembering whether all of them parsed.
type numbers struct{ ok bool }

// id parses an id: decimal digits only, > 0.
func (p *numbers) id(s string) int64 {
	n := p.count(s)
	if n <= 0 {
		p.ok = false
	}
	return n
}

// count parses decimal digits only: no sign, no spaces.
func (p *numbers) count(s string) int64 {
	n, ok := digits(s)
	if !ok {
		p.ok = false
	}
	return n
}

// small parses a signed decimal int that fits 32 bits (action, error).
func (p *numbers) small(s string) int {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || s[0] == '+' {
		p.ok = false
	}
	return int(n)
}

func digits(s string) (int64, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// signature is Click's sign_string: the lowercase hex MD5 of the raw fields
// and the secret, concatenated without separators (SPEC §5.2, §5.3). Prepare
// has no merchant_prepare_id term at all.
func signature(raw url.Values, secret string, complete bool) string {
	var b strings.Builder
	b.WriteString(raw.Get(fClickTransID))
	b.WriteString(raw.Get(fServiceID))
	b.WriteString(secret)
	b.WriteString(raw.Get(fMerchantTransID))
	if complete {
		b.WriteString(raw.Get(fMerchantPrepareID))
	}
	b.WriteString(raw.Get(fAmount))
	b.WriteString(raw.Get(fAction))
	b.WriteString(raw.Get(fSignTime))
	sum := md5.Sum([]byte(b.String())) //nolint:gosec // G501, G401: MD5 is what Click's SHOP-API signs with (shared/payments/SPEC.md)
	return hex.EncodeToString(sum[:])
}

// signatureValid compares in constant time. Hex digits are compared without
// regard to case; an empty secret verifies nothing.
func signatureValid(raw url.Values, secret string, complete bool) bool {
	if secret == "" {
		return false
	}
	want := signature(raw, secret, complete)
	got := strings.ToLower(raw.Get(fSignString))
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
