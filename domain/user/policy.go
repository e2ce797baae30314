package user

import (
	_ "embed"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ultramarket/gateway/domain"
)

const (
	maxEmailBytes    = 254 // RFC 5321 path limit
	maxLocalBytes    = 64
	minPasswordBytes = 8
	maxPasswordBytes = 72 // bcrypt ignores everything past 72 bytes
)

// NormalizeEmail returns the form emails are stored and compared in, so the
// same address typed with other case or spaces finds the same account.
func NormalizeEmail(s string) (string, error) {
	e, msg := normalizeEmail(s)
	if msg != "" {
		return "", domain.Invalid("email", msg)
	}
	return e, nil
}

func normalizeEmail(s string) (string, string) {
	const bad = domain.MsgEmail
	e := strings.ToLower(strings.TrimSpace(s))
	if len(e) > maxEmailBytes {
		return "", domain.MsgEmailTooLong
	}
	local, host, ok := strings.Cut(e, "@")
	if !ok || local == "" || len(local) > maxLocalBytes || strings.Contains(host, "@") {
		return "", bad
	}
	for _, r := range e {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return "", bad
		}
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return "", bad
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return "", bad
		}
		for _, r := range l {
			// Non-ASCII letters stay allowed for internationalised domains.
			if !(r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
				return "", bad
			}
		}
	}
	tld := labels[len(labels)-1]
	if utf8.RuneCountInString(tld) < 2 || strings.IndexFunc(tld, unicode.IsLetter) < 0 {
		return "", bad
	}
	return e, ""
}

// CheckPassword applies the password policy to the plain text. Length counts
// bytes because that is what bcrypt limits.
func CheckPassword(password, normalizedEmail string) error {
	switch {
	case len(password) < minPasswordBytes:
		return domain.Invalid("password", domain.MsgMinBytes, domain.Args{"Count": minPasswordBytes})
	case len(password) > maxPasswordBytes:
		return domain.Invalid("password", domain.MsgMaxBytes, domain.Args{"Count": maxPasswordBytes})
	case normalizedEmail != "" && strings.EqualFold(password, normalizedEmail):
		return domain.Invalid("password", domain.MsgPasswordIsEmail)
	case isCommonPassword(password):
		return domain.Invalid("password", domain.MsgPasswordCommon)
	}
	return nil
}

var phonePattern = regexp.MustCompile(`^\+998[0-9]{9}$`)

// NormalizePhone allows no phone at all; a given one must be Uzbek in the
// international form so SMS and couriers can use it as is.
func NormalizePhone(s string) (string, error) {
	p, msg := normalizePhone(s)
	if msg != "" {
		return "", domain.Invalid("phone", msg)
	}
	return p, nil
}

func normalizePhone(s string) (string, string) {
	p := strings.TrimSpace(s)
	if p == "" || phonePattern.MatchString(p) {
		return p, ""
	}
	return "", domain.MsgPhone
}

//go:embed common_passwords.txt
var commonPasswordsText string

var commonPasswords = func() map[string]struct{} {
	m := make(map[string]struct{})
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		if p := strings.TrimSpace(line); p != "" {
			m[strings.ToLower(p)] = struct{}{}
		}
	}
	return m
}()

// isCommonPassword ignores case: "Password1" is as guessable as "password1".
func isCommonPassword(p string) bool {
	_, ok := commonPasswords[strings.ToLower(p)]
	return ok
}
