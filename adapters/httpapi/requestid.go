package httpapi

import (
	"context"
	"log/slog"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/adapters/requestid"
)

// maxRequestIDLen bounds a client-sent X-Request-ID (API.md: 1..128 characters).
const maxRequestIDLen = 128

// requestID keeps the client's X-Request-ID when it is sane and makes a new
// one otherwise. "Sane" is a short token of [A-Za-z0-9._-]: the id is echoed
// in a header, written to logs and forwarded upstream, so anything that could
// split headers, forge log lines or bloat storage is replaced, not escaped.
func requestID() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			id := req.Header.Get(echo.HeaderXRequestID)
			if !validRequestID(id) {
				id = uuid.NewString()
				// Code further in reads the header, not only the context.
				req.Header.Set(echo.HeaderXRequestID, id)
			}
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			c.SetRequest(req.WithContext(requestid.NewContext(req.Context(), id)))
			return next(c)
		}
	}
}

func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '.', b == '_', b == '-':
		default:
			return false
		}
	}
	return true
}

// NewLogHandler wraps h so that every record logged with a request's context
// carries that request's id as request_id (and the authenticated user as
// user_id), without each call site passing them.
// Wire it once in main: slog.New(httpapi.NewLogHandler(slog.NewJSONHandler(os.Stdout, nil))).
func NewLogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	cloned := false
	add := func(a slog.Attr) {
		if !cloned {
			r, cloned = r.Clone(), true
		}
		r.AddAttrs(a)
	}
	if id := requestid.FromContext(ctx); id != "" && !hasAttr(r, "request_id") {
		add(slog.String("request_id", id))
	}
	// The authenticated user, so one user's requests can be followed through
	// the log; an id, never an email or a token.
	if uid := UserIDFromContext(ctx); uid != "" && !hasAttr(r, "user_id") {
		add(slog.String("user_id", uid))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// hasAttr avoids a duplicate key when the call site already logged the id
// (the access log does, so it reads the same with or without this handler).
func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}
