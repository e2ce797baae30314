package migrations_test

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ultramarket/gateway/migrations"
)

// Every migration is embedded, numbered in increasing order and reversible;
// the round trip against a real database is in adapters/postgres. Numbers are
// handed out to branches in advance, so one branch may have a gap (00010
// before 00007..00009 land); once they are all merged there is none, and
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
		version, _ := strconv.Atoi(m[1])
		if version <= last {
			t.Errorf("%s: version %d does not follow %d", name, version, last)
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
