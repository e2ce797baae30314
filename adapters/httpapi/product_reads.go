package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/ports"
)

// The product reads (GET /api/products and /api/products/:id) are the
// gateway's hottest anonymous path. Their answers are encoded once into a
// pooled buffer, carry a strong ETag (so a client that sends If-None-Match
// gets 304 Not Modified without the body, with either catalog), and, when
// CATALOG_CACHE_TTL is set, anonymous answers are kept as encoded bytes for
// that long (microcaching: at 1 s, a thousand anonymous reads a second of the
// same page cost the catalog one).
//
// What the cache may show: an entry is stamped with the time its catalog
// read began, and served until that time + TTL, never after. A product
// deleted or made inactive at time d was read as present only by reads that
// began before d, so it disappears from every answer by d + TTL. Writes made
// through this instance (create, replace, delete) empty the cache at once;
// those of other instances, or made upstream directly, take up to the TTL.
// Requests with an Authorization header never touch the cache (a seller or
// an admin sees inactive products, and their answers are private), and
// orders never read it: they go to the catalog, which holds the live stock.

// The cache's bounds: the query string is the client's to vary, and each
// distinct one is an entry, so both their number and their bytes are capped
// (a full page of 100 products is about 30 KiB).
const (
	maxCachedReads = 4096
	maxCachedBytes = 16 << 20
)

// bufPool holds the buffers answers are encoded into.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

type cachedRead struct {
	body    []byte
	etag    string
	expires time.Time
}

// readCache is the anonymous product-read cache; a nil *readCache caches
// nothing (CATALOG_CACHE_TTL off).
type readCache struct {
	ttl   time.Duration
	clock ports.Clock

	mu      sync.RWMutex
	entries map[string]cachedRead
	bytes   int // sum of the entries' bodies
}

func newReadCache(ttl time.Duration, clock ports.Clock) *readCache {
	if ttl <= 0 {
		return nil
	}
	if clock == nil {
		clock = wallClock{}
	}
	return &readCache{ttl: ttl, clock: clock, entries: map[string]cachedRead{}}
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (rc *readCache) get(key string) (cachedRead, bool) {
	if rc == nil {
		return cachedRead{}, false
	}
	rc.mu.RLock()
	e, ok := rc.entries[key]
	rc.mu.RUnlock()
	if !ok || !rc.clock.Now().Before(e.expires) {
		return cachedRead{}, false
	}
	return e, true
}

// put keeps body under key until began + TTL. A full cache first drops what
// has expired; if that frees nothing, the answer is simply not kept.
func (rc *readCache) put(key string, began time.Time, body []byte, etag string) {
	if rc == nil {
		return
	}
	e := cachedRead{body: body, etag: etag, expires: began.Add(rc.ttl)}
	now := rc.clock.Now()
	if !now.Before(e.expires) {
		return // the read took longer than the TTL: already stale
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	prev, had := rc.entries[key]
	full := func() bool {
		return (!had && len(rc.entries) >= maxCachedReads) || rc.bytes-len(prev.body)+len(body) > maxCachedBytes
	}
	if full() {
		for k, old := range rc.entries {
			if !now.Before(old.expires) {
				delete(rc.entries, k)
				rc.bytes -= len(old.body)
			}
		}
		prev, had = rc.entries[key]
		if full() {
			return
		}
	}
	rc.bytes += len(body) - len(prev.body)
	rc.entries[key] = e
}

// purge forgets every entry: a product changed through this instance.
func (rc *readCache) purge() {
	if rc == nil {
		return
	}
	rc.mu.Lock()
	clear(rc.entries)
	rc.bytes = 0
	rc.mu.Unlock()
}

// readKey is the cache key of an anonymous read: the path and the query,
// its parameters sorted (url.Values.Encode sorts), so ?a&b and ?b&a share.
func readKey(c echo.Context) string {
	q := c.QueryParams()
	if len(q) == 0 {
		return c.Request().URL.Path
	}
	return c.Request().URL.Path + "?" + q.Encode()
}

// anonymous reports whether the request may be served from, and stored in,
// the cache.
func anonymous(c echo.Context) bool {
	return c.Request().Header.Get(echo.HeaderAuthorization) == ""
}

// etagOf is a strong validator of body: 96 bits of its SHA-256 in hex,
// the shape of the docs' ETags (OpenAPI components/headers/ETag).
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// writeRead sends an encoded product read: 304 when the client holds it
// already, else 200 with body. The caller has set Vary and Cache-Control.
func writeRead(c echo.Context, body []byte, etag string) error {
	c.Response().Header().Set("ETag", etag)
	if etagMatches(c.Request().Header.Get("If-None-Match"), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	// The length is known: say it, rather than chunk the answer, so a HEAD
	// (answered by this GET without its body) tells it too.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}

// serveRead answers a product read: from the cache when the request is
// anonymous and a fresh entry exists; else by load (the use case) and
// encoding its result, which an anonymous request then stores.
func serveRead(c echo.Context, rc *readCache, load func() (any, error)) error {
	anon := anonymous(c)
	var key string
	if anon && rc != nil {
		key = readKey(c)
		if e, ok := rc.get(key); ok {
			privateIfSignedIn(c)
			return writeRead(c, e.body, e.etag)
		}
	}
	var began time.Time
	if rc != nil {
		began = rc.clock.Now() // before the catalog is read: see the package comment
	}
	out, err := load()
	if err != nil {
		return err
	}
	privateIfSignedIn(c)
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 { // do not let one huge page pin its buffer
			buf.Reset()
			bufPool.Put(buf)
		}
	}()
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false) // as jsonSerializer: the same bytes as c.JSON
	if err := enc.Encode(out); err != nil {
		return err
	}
	etag := etagOf(buf.Bytes())
	if anon && rc != nil {
		rc.put(key, began, bytes.Clone(buf.Bytes()), etag)
	}
	return writeRead(c, buf.Bytes(), etag)
}
