package postgres

import (
	"database/sql"
	"strings"
	"time"

	"github.com/ultramarket/gateway/domain"
)

// dbTime is how a time is written: UTC, cut to the microseconds Postgres
// keeps, so what is read back equals what was written.
func dbTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// nullTime writes an unset (zero) time as NULL.
func nullTime(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: dbTime(t), Valid: true}
}

// fromNull reads NULL back as the zero time, the domain's "unset".
func fromNull(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// nullString writes "" as NULL.
func nullString(s string) sql.NullString {
	if s == "" {
		return sql.NullString{}
	}
	return sql.NullString{String: s, Valid: true}
}

// nullStringOf writes a nil pointer as NULL (and "" as "": a JSON string
// that is there is kept as it is).
func nullStringOf(p *string) sql.NullString {
	if p == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *p, Valid: true}
}

// validID reports whether id can be a stored id (domain.IsID decides what an
// id looks like). Lookups of anything else are answered "not found" without
// asking Postgres, which would fail on the cast.
func validID(id string) bool { return domain.IsID(id) }

// likePattern turns user input into a substring pattern for ILIKE, escaping
// the wildcards so "50%" matches a literal percent sign.
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(q) + "%"
}

const (
	defaultPageSize = 20
	maxPageSize     = 100
	maxPage         = 1 << 30
)

// pageOf clamps a page request: the edge validates, this only keeps a bad
// value from reaching SQL.
func pageOf(page, size int) (limit, offset int) {
	if size < 1 {
		size = defaultPageSize
	}
	if size > maxPageSize {
		size = maxPageSize
	}
	if page < 1 {
		page = 1
	}
	if page > maxPage {
		page = maxPage
	}
	return size, (page - 1) * size
}
