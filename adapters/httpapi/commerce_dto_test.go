package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/application/analytics"
	appcart "github.com/ultramarket/gateway/application/cart"
	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/application/products"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

// Ids of the commerce tests. Users come from the identity fixture (annID,
// bobID); products and orders are these.
const (
	phoneID  = "1a2b3c4d-0000-4000-8000-00000000a001"
	caseID   = "1a2b3c4d-0000-4000-8000-00000000a002"
	orderOne = "1a2b3c4d-0000-4000-8000-00000000b001"
)

// Exact key sets of the commerce objects of API.md, sorted.
var (
	productKeys = []string{"active", "category", "created_at", "currency", "description", "id", "ikpu_code", "name",
		"package_code", "price", "seller_id", "stock", "unit_code", "updated_at", "vat_percent"}
	cartKeys     = []string{"currency", "items", "total"}
	cartItemKeys = []string{"available", "line_total", "name", "product_id", "quantity", "unit_price"}
	orderKeys    = []string{"cancelled_at", "created_at", "currency", "id", "items", "note", "paid_at", "receipts", "refund_authorized_at",
		"shipping_address", "status", "total", "updated_at", "user_id"}
	orderItemKeys = []string{"line_total", "name", "product_id", "quantity", "unit_price", "vat_amount", "vat_percent"}
	addressKeys   = []string{"city", "phone", "region", "street"}
	pageKeys      = []string{"items", "page", "page_size", "total"}
)

// commerce is the identity fixture with the product, cart, order and
// analytics routes mounted on the real use cases, their ports mocked.
type commerce struct {
	identity
	catalog *mocks.MockCatalog
	carts   *mocks.MockCartRepository
	orders  *mocks.MockOrderRepository
	keys    *mocks.MockIdempotencyStore
	stats   *mocks.MockAnalytics
	payme   *mocks.MockPaymeRepository
	clicks  *mocks.MockClickRepository
	refunds *mocks.MockRefundRepository
}

func newCommerce(t *testing.T) commerce {
	t.Helper()
	ctrl := gomock.NewController(t)
	f := commerce{
		identity: newIdentity(t),
		catalog:  mocks.NewMockCatalog(ctrl),
		carts:    mocks.NewMockCartRepository(ctrl),
		orders:   mocks.NewMockOrderRepository(ctrl),
		keys:     mocks.NewMockIdempotencyStore(ctrl),
		stats:    mocks.NewMockAnalytics(ctrl),
		payme:    mocks.NewMockPaymeRepository(ctrl),
		clicks:   mocks.NewMockClickRepository(ctrl),
		refunds:  mocks.NewMockRefundRepository(ctrl),
	}
	clock := testsupport.FixedClock(now)
	httpapi.RegisterProducts(f.e, httpapi.ProductUseCases{
		Authenticate: f.authenticate,
		List:         products.NewListProducts(f.catalog),
		Get:          products.NewGetProduct(f.catalog),
		Create:       products.NewCreateProduct(f.catalog),
		Replace:      products.NewReplaceProduct(f.catalog),
		Delete:       products.NewDeleteProduct(f.catalog),
	})
	httpapi.RegisterCart(f.e, httpapi.CartUseCases{
		Authenticate: f.authenticate,
		Get:          appcart.NewGetCart(f.carts, f.catalog),
		SetItem:      appcart.NewSetItem(f.carts, f.catalog, clock),
		RemoveItem:   appcart.NewRemoveItem(f.carts, f.catalog),
		Clear:        appcart.NewClear(f.carts),
	})
	httpapi.RegisterOrders(f.e, httpapi.OrderUseCases{
		Authenticate: f.authenticate,
		// Every id is orderOne: the one order a test places.
		Place:        orders.NewPlaceOrder(testsupport.InlineTx{}, f.orders, f.carts, f.keys, f.catalog, testsupport.FixedID(orderOne), clock),
		List:         orders.NewListOrders(f.orders),
		Get:          orders.NewGetOrder(f.orders),
		Cancel:       orders.NewCancelOrder(testsupport.InlineTx{}, f.orders, f.clicks, f.catalog, clock),
		ChangeStatus: orders.NewChangeOrderStatus(testsupport.InlineTx{}, f.orders, clock),
		Refunds:      admin.NewOrderRefunds(f.refunds),
	})
	httpapi.RegisterAnalytics(f.e, httpapi.AnalyticsUseCases{
		Authenticate: f.authenticate,
		Sales:        analytics.NewSales(f.stats, clock),
		Orders:       analytics.NewOrders(f.stats),
		Payments:     analytics.NewPayments(f.stats),
		TopProducts:  analytics.NewTopProducts(f.stats),
	})
	return f
}

// storedProduct is a product as a catalog returns it; times are the
// fixture's now (Tashkent, nanoseconds) so the answers must convert them.
func storedProduct(id, sellerID string, price, stock int64, active bool) *product.Product {
	return product.Restore(id, "Product "+id[len(id)-4:], "Described", "phones", sellerID,
		money.MustTiyin(price), stock, active, now.Add(-time.Hour), now)
}

// storedOrder is a pending order of userID: 2 × 150 000 tiyin of phoneID.
func storedOrder(id, userID string, status order.Status, note string) *order.Order {
	items := []order.Item{{ProductID: phoneID, Name: "Phone", UnitPrice: money.MustTiyin(150_000), Quantity: 2}}
	var paidAt time.Time
	if status != order.StatusPendingPayment && status != order.StatusCancelled {
		paidAt = now.Add(-time.Minute)
	}
	return order.Restore(id, userID, status, items, money.MustTiyin(300_000),
		order.Address{Region: "Toshkent", City: "Toshkent", Street: "Amir Temur 1", Phone: "+998901234567"}, note,
		now.Add(-time.Hour), now.Add(-time.Hour), paidAt, time.Time{}, time.Time{}, time.Time{}, time.Time{})
}

// utcMicros is how a timestamp of now-relative t must read on the wire.
func utcMicros(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
}

func TestCommerceDTO_TimestampsAreUTCMicroseconds(t *testing.T) {
	f := newCommerce(t)
	f.catalog.EXPECT().Get(gomock.Any(), phoneID, gomock.Any()).Return(storedProduct(phoneID, bobID, 100, 1, true), nil)
	rec := f.call("GET", "/api/products/"+phoneID, "", "")
	require.Equal(t, 200, rec.Code, rec.Body.String())
	body := object(t, rec)
	assert.Equal(t, utcMicros(now), body["updated_at"])
	assert.Equal(t, utcMicros(now.Add(-time.Hour)), body["created_at"])
	assert.True(t, strings.HasSuffix(body["updated_at"].(string), "Z"))
}
