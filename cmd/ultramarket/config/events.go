package config

import (
	"net/url"
	"strings"
)

// DefaultEventsStream is EVENTS_STREAM's default.
const DefaultEventsStream = "ULTRAMARKET"

// events reads EVENTS_URL and EVENTS_STREAM. The URL may hold credentials
// (nats://user:password@host), so it is never echoed; a bad one is refused
// here rather than found by the first publish, which would only make the
// outbox grow.
func (r *reader) events() (natsURL, stream string) {
	natsURL = r.str("EVENTS_URL", "")
	if natsURL != "" {
		for _, s := range strings.Split(natsURL, ",") {
			u, err := url.Parse(strings.TrimSpace(s))
			if err != nil || u.Host == "" {
				r.fail("EVENTS_URL", "must be a URL like nats://host:4222 (several separated by commas), or empty to turn events off")
				break
			}
			if u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss" {
				r.fail("EVENTS_URL", "must use the scheme nats, tls, ws or wss")
				break
			}
		}
	}
	stream = r.str("EVENTS_STREAM", DefaultEventsStream)
	// JetStream stream names may not hold spaces, dots, wildcards or path
	// separators (the name becomes part of API subjects and a directory).
	if stream == "" || strings.ContainsAny(stream, " \t\r\n.*>/\\") || len(stream) > 255 {
		r.fail("EVENTS_STREAM", "must be a stream name without spaces, dots, wildcards or slashes, like ULTRAMARKET")
	}
	return natsURL, stream
}
