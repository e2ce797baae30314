package migrations_test

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ultramarket/gateway/migrations"
)

// Every migration is embedded, numbered in ascending order without
// repeats, and reversible; the round trip against a real database is in
// adapters/postgres. Numbers are handed out per feature before the features
// merge (00007 fiscal, 00008, 00009 refunds, 00010 reconciliation), so a
// branch may hold a later number while an earlier one is still elsewhere:
// goose applies them in order either way.
func TestMigrationsAreEmbeddedNumberedAndReversible(t *testing.T) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no migrations embedded")
	}
	pattern := regexp.MustCompile(`^(\d{5})_[a-z0-9_]+\.sql$`)
	last := 0
	for _, name := range names {
		m := pattern.FindStringSubmatch(name)
		if m == nil {
			t.Errorf("%s: want NNNNN_snake_case.sql", name)
			continue
		}
		version, err := strconv.Atoi(m[1])
		if err != nil || version <= last {
			t.Errorf("%s: want a version above %05d (ascending, no repeats)", name, last)
		}
		last = version
		body, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		text := string(body)
		up, down := strings.Index(text, "-- +goose Up"), strings.Index(text, "-- +goose Down")
		if up < 0 || down < 0 || down < up {
			t.Errorf("%s: needs -- +goose Up followed by -- +goose Down", name)
			continue
		}
		if !strings.Contains(text[down:], "DROP ") {
			t.Errorf("%s: Down drops nothing", name)
		}
		if strings.Count(text, "-- +goose StatementBegin") != strings.Count(text, "-- +goose StatementEnd") {
			t.Errorf("%s: unbalanced StatementBegin/End", name)
		}
	}
}
