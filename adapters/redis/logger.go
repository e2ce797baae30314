package redis

import (
	"context"
	"fmt"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"
)

// UseLogger sends go-redis's own messages (failed dials, pool trouble) to
// logger as structured warnings instead of plain lines on stderr. go-redis
// keeps one logger per process, so main calls this once.
func UseLogger(logger *slog.Logger) {
	goredis.SetLogger(slogAdapter{logger})
}

type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Printf(ctx context.Context, format string, v ...any) {
	a.l.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}
