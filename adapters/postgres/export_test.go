package postgres

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// Ext exposes ext to the external tests.
func Ext(ctx context.Context, db *sqlx.DB) sqlx.ExtContext { return ext(ctx, db) }
