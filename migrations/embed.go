// Package migrations holds the database schema as goose SQL migrations,
// embedded into the binary so `ultramarket migrate up` (and MIGRATE_ON_START)
// need no files on disk. adapters/postgres.Migrate applies them.
//
// Constraint names are part of the contract with adapters/postgres, which maps
// unique violations to domain errors by name: renaming one here means changing
// the mapping there.
package migrations

import "embed"

// FS holds every migration, named NNNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
