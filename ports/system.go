package ports

//go:generate go run github.com/golang/mock/mockgen -source=system.go -destination=mocks/system.go -package=mocks

import (
	"context"
	"time"
)

// Clock gives the core the current time, so tests can pin it.
type Clock interface {
	Now() time.Time
}

// IDGenerator makes new unique ids (UUID strings) for aggregates.
type IDGenerator interface {
	NewID() string
}

// TxManager runs fn in one database transaction carried by the context fn
// receives; repositories called with that context take part in it. fn's error
// rolls the transaction back and is returned as is.
type TxManager interface {
	WithinTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Pinger is a dependency whose health a readiness probe checks.
type Pinger interface {
	Ping(ctx context.Context) error
}
