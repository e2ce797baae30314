package domain_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/domain"
)

const anID = "8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01"

func TestParseID(t *testing.T) {
	cases := []struct {
		name, in, want string
		ok             bool
	}{
		{"canonical", anID, anID, true},
		{"upper case is the same id", strings.ToUpper(anID), anID, true},
		{"mixed case", "8F14e45f-CEEA-467e-9f7b-3c1d2a6b7E01", anID, true},
		{"nil uuid", "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000", true},
		{"empty", "", "", false},
		{"not a uuid", "not-a-uuid", "", false},
		{"braces", "{" + anID + "}", "", false},
		{"urn", "urn:uuid:" + anID, "", false},
		{"no dashes", strings.ReplaceAll(anID, "-", ""), "", false},
		{"one short", anID[:35], "", false},
		{"one long", anID + "0", "", false},
		{"dash moved", "8f14e45fc-eea-467e-9f7b-3c1d2a6b7e01", "", false},
		{"not hex", "8f14e45f-ceea-467e-9f7b-3c1d2a6b7e0g", "", false},
		{"path", "../reservations/aaaaaaaaaaaaaaaaaaaaaa", "", false},
		{"sql", "' OR 1=1 --aaaaaaaaaaaaaaaaaaaaaaaaaa", "", false},
		{"36 bytes of non-ascii", strings.Repeat("я", 18), "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := domain.ParseID(c.in)
			assert.Equal(t, c.ok, ok)
			assert.Equal(t, c.want, got)
			assert.Equal(t, c.ok, domain.IsID(c.in))
		})
	}
}

// FuzzIsID keeps IsID the check the edge and the payment use cases made
// before it existed (a 36-character string uuid.Validate accepts), and
// ParseID the lower-case form uuid.Parse gives those strings.
func FuzzIsID(f *testing.F) {
	for _, s := range []string{anID, strings.ToUpper(anID), "", "{" + anID + "}", "urn:uuid:" + anID, strings.ReplaceAll(anID, "-", "")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := len(s) == 36 && uuid.Validate(s) == nil
		if got := domain.IsID(s); got != want {
			t.Fatalf("IsID(%q) = %v, uuid.Validate says %v", s, got, want)
		}
		id, ok := domain.ParseID(s)
		if ok != want {
			t.Fatalf("ParseID(%q) ok = %v, want %v", s, ok, want)
		}
		if ok && id != uuid.MustParse(s).String() {
			t.Fatalf("ParseID(%q) = %q, uuid.Parse gives %q", s, id, uuid.MustParse(s).String())
		}
	})
}
