package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/application/products"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

// cachedProducts is the identity fixture with only /api/products mounted,
// CATALOG_CACHE_TTL = ttl on clock.
type cachedProducts struct {
	identity
	catalog *mocks.MockCatalog
	clock   *testsupport.Clock
}

func newCachedProducts(t *testing.T, ttl time.Duration) cachedProducts {
	t.Helper()
	f := cachedProducts{identity: newIdentity(t), clock: testsupport.NewClock(now)}
	f.catalog = mocks.NewMockCatalog(gomock.NewController(t))
	httpapi.RegisterProducts(f.e, httpapi.ProductUseCases{
		Authenticate: f.authenticate,
		List:         products.NewListProducts(f.catalog),
		Get:          products.NewGetProduct(f.catalog),
		Create:       products.NewCreateProduct(f.catalog),
		Replace:      products.NewReplaceProduct(f.catalog),
		Delete:       products.NewDeleteProduct(f.catalog),
		CacheTTL:     ttl,
		Clock:        f.clock,
	})
	return f
}

func onePage() ports.ProductPage {
	return ports.ProductPage{Items: []*product.Product{storedProduct(phoneID, bobID, 1_500_000, 7, true)}, Total: 1}
}

func TestProductReads_ETagAnd304WithoutTheCache(t *testing.T) {
	f := newCachedProducts(t, 0)
	f.catalog.EXPECT().List(gomock.Any(), gomock.Any(), gomock.Any()).Return(onePage(), nil).Times(5)
	f.catalog.EXPECT().Get(gomock.Any(), phoneID, gomock.Any()).Return(storedProduct(phoneID, bobID, 100, 1, true), nil).Times(2)

	rec := f.call(http.MethodGet, "/api/products", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	etag := rec.Header().Get("ETag")
	require.Regexp(t, `^"[0-9a-f]{24}"$`, etag, "a strong validator")

	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		rec = f.call(http.MethodGet, "/api/products", "", "", "If-None-Match", inm)
		assert.Equal(t, http.StatusNotModified, rec.Code, inm)
		assert.Empty(t, rec.Body.String(), inm)
		assert.Equal(t, etag, rec.Header().Get("ETag"), inm)
	}
	// Changed content (here, another page) is another validator: a full answer.
	rec = f.call(http.MethodGet, "/api/products/"+phoneID, "", "", "If-None-Match", etag)
	require.Equal(t, http.StatusOK, rec.Code)
	other := rec.Header().Get("ETag")
	assert.NotEqual(t, etag, other)
	assert.Equal(t, productKeys, keysOf(object(t, rec)))
	rec = f.call(http.MethodGet, "/api/products/"+phoneID, "", "", "If-None-Match", other)
	assert.Equal(t, http.StatusNotModified, rec.Code)
}

// A product read says its length, on a real server too (no chunking), so a
// HEAD of it tells the length the GET would send.
func TestProductReads_SayTheirLength(t *testing.T) {
	f := newCachedProducts(t, 0)
	// Larger than what net/http buffers before it chunks an answer of
	// unknown length (2 KiB).
	page := ports.ProductPage{Total: 40}
	for range 40 {
		page.Items = append(page.Items, storedProduct(uuid.NewString(), bobID, 1_500_000, 7, true))
	}
	f.catalog.EXPECT().List(gomock.Any(), gomock.Any(), gomock.Any()).Return(page, nil).Times(2)
	srv := httptest.NewServer(f.e)
	t.Cleanup(srv.Close)
	lengthOf := func(method string) (int64, []string, int) {
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+"/api/products", nil)
		require.NoError(t, err)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		return resp.ContentLength, resp.TransferEncoding, len(body)
	}
	getLength, chunked, read := lengthOf(http.MethodGet)
	require.Greater(t, read, 4096)
	assert.Equal(t, int64(read), getLength)
	assert.Empty(t, chunked)
	headLength, _, headRead := lengthOf(http.MethodHead)
	assert.Equal(t, getLength, headLength)
	assert.Zero(t, headRead)
}

func TestProductReads_CacheServesAnonymousReadsForTheTTL(t *testing.T) {
	f := newCachedProducts(t, time.Second)
	f.catalog.EXPECT().List(gomock.Any(), ports.ProductQuery{Category: "phones", Page: 1, PageSize: 20}, gomock.Any()).Return(onePage(), nil).Times(2)

	first := f.call(http.MethodGet, "/api/products?category=phones&page=1", "", "")
	require.Equal(t, http.StatusOK, first.Code)
	f.clock.Advance(999 * time.Millisecond)
	// The same query, its parameters in another order: the same entry.
	again := f.call(http.MethodGet, "/api/products?page=1&category=phones", "", "")
	require.Equal(t, http.StatusOK, again.Code)
	assert.Equal(t, first.Body.String(), again.Body.String())
	assert.Equal(t, first.Header().Get("ETag"), again.Header().Get("ETag"))
	assert.Contains(t, again.Header().Values("Vary"), "Authorization")
	assert.Equal(t, http.StatusNotModified,
		f.call(http.MethodGet, "/api/products?category=phones&page=1", "", "", "If-None-Match", first.Header().Get("ETag")).Code)

	f.clock.Advance(time.Millisecond) // TTL reached: the catalog is asked again
	require.Equal(t, http.StatusOK, f.call(http.MethodGet, "/api/products?category=phones&page=1", "", "").Code)
}

func TestProductReads_BearerRequestsBypassTheCache(t *testing.T) {
	f := newCachedProducts(t, time.Minute)
	seller := f.bearer(bobID, sessionID, user.RoleSeller)
	f.catalog.EXPECT().List(gomock.Any(), ports.ProductQuery{Page: 1, PageSize: 20, InactiveOfSeller: bobID}, gomock.Any()).
		Return(ports.ProductPage{Items: []*product.Product{storedProduct(caseID, bobID, 100, 1, false)}, Total: 1}, nil).Times(2)
	f.catalog.EXPECT().List(gomock.Any(), ports.ProductQuery{Page: 1, PageSize: 20}, gomock.Any()).Return(onePage(), nil).Times(1)

	for range 2 {
		rec := f.call(http.MethodGet, "/api/products", seller, "")
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "private, no-store", rec.Header().Get("Cache-Control"))
		assert.Contains(t, rec.Body.String(), caseID, "the seller's inactive product")
	}
	// The seller's answer did not fill the cache for anonymous readers.
	for range 2 {
		rec := f.call(http.MethodGet, "/api/products", "", "")
		require.Equal(t, http.StatusOK, rec.Code)
		assert.NotContains(t, rec.Body.String(), caseID)
	}
}

func TestProductReads_ADeletionShowsOnceTheTTLHasPassed(t *testing.T) {
	f := newCachedProducts(t, time.Second)
	gomock.InOrder(
		// The read that fills the cache takes 600 ms: its entry still
		// expires 1 s after the read began, not after it ended.
		f.catalog.EXPECT().Get(gomock.Any(), phoneID, gomock.Any()).DoAndReturn(
			func(_ any, _ string, _ user.Actor) (*product.Product, error) {
				f.clock.Advance(600 * time.Millisecond)
				return storedProduct(phoneID, bobID, 100, 1, true), nil
			}),
		// Deleted upstream (by another instance) meanwhile.
		f.catalog.EXPECT().Get(gomock.Any(), phoneID, gomock.Any()).Return(nil, product.ErrNotFound),
	)

	require.Equal(t, http.StatusOK, f.call(http.MethodGet, "/api/products/"+phoneID, "", "").Code)
	f.clock.Advance(399 * time.Millisecond)
	assert.Equal(t, http.StatusOK, f.call(http.MethodGet, "/api/products/"+phoneID, "", "").Code, "within the TTL of the read")
	f.clock.Advance(time.Millisecond)
	assert.Equal(t, http.StatusNotFound, f.call(http.MethodGet, "/api/products/"+phoneID, "", "").Code, "the TTL after the read began")
}

func TestProductReads_AWriteThroughThisInstanceEmptiesTheCache(t *testing.T) {
	f := newCachedProducts(t, time.Hour)
	admin := f.bearer(annID, otherSID, user.RoleAdmin)
	gomock.InOrder(
		f.catalog.EXPECT().Get(gomock.Any(), phoneID, gomock.Any()).Return(storedProduct(phoneID, bobID, 100, 1, true), nil),
		f.catalog.EXPECT().Delete(gomock.Any(), phoneID, gomock.Any()).Return(nil),
		f.catalog.EXPECT().Get(gomock.Any(), phoneID, gomock.Any()).Return(nil, product.ErrNotFound),
	)

	require.Equal(t, http.StatusOK, f.call(http.MethodGet, "/api/products/"+phoneID, "", "").Code)
	require.Equal(t, http.StatusNoContent, f.call(http.MethodDelete, "/api/products/"+phoneID, admin, "").Code)
	assert.Equal(t, http.StatusNotFound, f.call(http.MethodGet, "/api/products/"+phoneID, "", "").Code)
}

func TestProductReads_ErrorsAreNotCached(t *testing.T) {
	f := newCachedProducts(t, time.Hour)
	gomock.InOrder(
		f.catalog.EXPECT().Get(gomock.Any(), phoneID, gomock.Any()).Return(nil, product.ErrNotFound),
		f.catalog.EXPECT().Get(gomock.Any(), phoneID, gomock.Any()).Return(storedProduct(phoneID, bobID, 100, 1, true), nil),
	)
	assert.Equal(t, http.StatusNotFound, f.call(http.MethodGet, "/api/products/"+phoneID, "", "").Code)
	assert.Equal(t, http.StatusOK, f.call(http.MethodGet, "/api/products/"+phoneID, "", "").Code)
}
