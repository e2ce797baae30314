// Package postgres is the Postgres adapter: connection pool, migrations,
// transactions carried in the context, and the repositories behind the
// storage ports (users, orders, Payme and Click transactions, settlements).
//
// Every repository method runs on the transaction that TxManager put into its
// context, or on the pool when there is none (see ext). Driver errors are
// turned into domain errors in one place (mapError), and every row read back is
// re-checked before it becomes a domain object: a value the domain does not
// know is an error wrapping ErrCorrupt, never a panic or a silently wrong
// aggregate.
package postgres
