// Package requestid carries the id of the request a context belongs to, from
// the edge that assigns it (httpapi's middleware) to what reads it further
// in: the log handler, and the outbound clients that forward it (the catalog
// client's X-Request-ID), so one id follows a request through the catalog
// service too. It travels in the context rather than beside the caller's
// identity (user.Actor) because it is about the request, not about who
// makes it: a background job has none.
package requestid

import "context"

type key struct{}

// NewContext returns ctx carrying the request id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// FromContext returns the id of the request ctx belongs to, or "".
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}
