package i18n_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/adapters/i18n"
)

func TestNegotiate(t *testing.T) {
	cases := []struct {
		name, header, want string
	}{
		{"no header", "", "en"},
		{"blank", "   ", "en"},
		{"uzbek", "uz", "uz"},
		{"uzbek latin in Uzbekistan", "uz-Latn-UZ", "uz"},
		{"uzbek cyrillic is still uzbek", "uz-Cyrl", "uz"},
		{"russian in Russia", "ru-RU", "ru"},
		{"upper case", "RU-ru", "ru"},
		{"underscore", "ru_RU", "ru"},
		{"english in the US", "en-US", "en"},
		{"none of ours", "de-DE, fr;q=0.9", "en"},
		{"first of ours in order", "de, ru, uz", "ru"},
		{"q-values win over order", "ru;q=0.5, uz;q=0.9, en;q=0.1", "uz"},
		{"browser-like", "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"},
		{"ours only with lower weight", "fr-FR, fr;q=0.9, ru;q=0.3", "ru"},
		{"q=0 refuses a language", "uz;q=0, ru", "ru"},
		{"only refused", "ru;q=0", "en"},
		{"wildcard", "*", "en"},
		{"wildcard before ours", "*, uz;q=0.5", "uz"},
		{"und names no language", "und", "en"},
		{"spaces around", "  uz-UZ ; q=0.8 ,  de ", "uz"},
		{"malformed entry skipped", "ru, !!!", "ru"},
		{"malformed weight skipped", "uz;q=abc, ru;q=0.4", "ru"},
		{"malformed everything", ";;;,,,===", "en"},
		{"binary junk", "\x00\xff\xfe", "en"},
		{"kazakh is not russian", "kk-KZ", "en"},
		{"too many subtags", strings.Repeat("a-", 2000) + "ru", "en"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, i18n.Negotiate(tc.header), "Accept-Language %q", tc.header)
		})
	}
}

// FuzzNegotiate: whatever a client sends, Negotiate answers one of our three
// languages and never panics.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "uz-Latn-UZ", "ru-RU,ru;q=0.9,en;q=0.8", "*;q=0.1", "x;q=", "en;q=1e400", ";q=0.5", "ru, !!!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		switch got := i18n.Negotiate(header); got {
		case "uz", "ru", "en":
		default:
			t.Fatalf("Negotiate(%q) = %q", header, got)
		}
	})
}
