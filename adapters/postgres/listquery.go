package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// listQuery builds the filtered, paginated "newest first" queries of the
// list endpoints (users, orders, products): conditions joined with AND and
// their values bound as $n placeholders, never spliced into the SQL.
type listQuery struct {
	conds []string
	args  []any
}

// arg binds v and returns its placeholder.
func (l *listQuery) arg(v any) string {
	l.args = append(l.args, v)
	return fmt.Sprintf("$%d", len(l.args))
}

// where adds a condition written with placeholders from arg.
func (l *listQuery) where(cond string) { l.conds = append(l.conds, cond) }

func (l *listQuery) whereSQL() string {
	if len(l.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(l.conds, " AND ")
}

// page counts the matching rows of table and selects one page of columns
// into dest (a pointer to a slice of row structs), newest first.
func (l *listQuery) page(ctx context.Context, q sqlx.QueryerContext, table, columns string, page, pageSize int, dest any) (total int, err error) {
	cond := l.whereSQL()
	if err := sqlx.GetContext(ctx, q, &total, `SELECT count(*) FROM `+table+cond, l.args...); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, mapError(err))
	}
	limit, offset := pageOf(page, pageSize)
	query := `SELECT ` + columns + ` FROM ` + table + cond +
		` ORDER BY created_at DESC, id DESC LIMIT ` + l.arg(limit) + ` OFFSET ` + l.arg(offset)
	if err := sqlx.SelectContext(ctx, q, dest, query, l.args...); err != nil {
		return 0, fmt.Errorf("list %s: %w", table, mapError(err))
	}
	return total, nil
}
