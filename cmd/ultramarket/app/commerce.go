package app

import (
	"log/slog"
	"time"

	"github.com/ultramarket/gateway/adapters/catalogclient"
	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/application/analytics"
	appcart "github.com/ultramarket/gateway/application/cart"
	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/application/products"
	"github.com/ultramarket/gateway/ports"
)

// chooseCatalog sets a.catalog to the product catalog the app uses and
// returns what the "catalog" health check pings: with CATALOG_URL set, the
// upstream microservice's HTTP client (timeouts, retries of idempotent
// calls, circuit breaker) and its own Ping; otherwise the built-in Postgres
// catalog, whose health is Postgres's (pg). Build calls it before the health
// checker is made and before anything that needs a.catalog.
func (a *App) chooseCatalog(ids ports.IDGenerator, clock ports.Clock, pg ports.Pinger) ports.Pinger {
	if a.cfg.CatalogURL == "" {
		a.catalog = postgres.NewProductStore(a.db, ids, clock)
		return pg
	}
	client := catalogclient.New(catalogclient.Config{
		BaseURL:         a.cfg.CatalogURL,
		Timeout:         a.cfg.CatalogTimeout,
		BreakerFailures: a.cfg.CatalogBreakerFailures,
		BreakerOpen:     a.cfg.CatalogBreakerOpen,
		Metrics:         a.metrics,
	})
	a.catalog = client
	return client
}

// commerceDeps are what Build has already made that the commerce routes
// share with the rest of the app.
type commerceDeps struct {
	tx     ports.TxManager
	clock  ports.Clock
	ids    ports.IDGenerator
	events ports.OrderEvents // nil: events off
}

// wireCommerce builds the product, cart, order and analytics use cases on
// a.catalog and the Postgres repositories, mounts /api/products, /api/cart,
// /api/orders and /api/analytics on the public server, and adds the jobs
// that, every EXPIRY_SWEEP_INTERVAL, cancel orders left unpaid for
// ORDER_PAYMENT_TTL and (built-in catalog only) give back the stock of
// reservations whose order was never stored. It needs a.catalog
// (chooseCatalog) and a.authenticate (wireIdentity).
func (a *App) wireCommerce(d commerceDeps) {
	cat := a.catalog
	carts := postgres.NewCartRepo(a.db)
	orderRepo := postgres.NewOrderRepo(a.db)
	keys := postgres.NewIdempotencyStore(a.db)
	stats := postgres.NewAnalytics(a.db)
	paymeRepo := postgres.NewPaymeRepo(a.db)
	clicks := postgres.NewClickRepo(a.db)

	httpapi.RegisterProducts(a.public, httpapi.ProductUseCases{
		Authenticate: a.authenticate,
		List:         products.NewListProducts(cat),
		Get:          products.NewGetProduct(cat),
		Create:       products.NewCreateProduct(cat),
		Replace:      products.NewReplaceProduct(cat),
		Delete:       products.NewDeleteProduct(cat),
		CacheTTL:     a.cfg.CatalogCacheTTL,
		Clock:        d.clock,
	})
	httpapi.RegisterCart(a.public, httpapi.CartUseCases{
		Authenticate: a.authenticate,
		Get:          appcart.NewGetCart(carts, cat),
		SetItem:      appcart.NewSetItem(carts, cat, d.clock),
		RemoveItem:   appcart.NewRemoveItem(carts, cat),
		Clear:        appcart.NewClear(carts),
	})
	// ORDER_MAX_UNPAID is counted in Postgres, whatever the catalog.
	place := orders.NewPlaceOrder(d.tx, orderRepo, carts, keys, cat, d.ids, d.clock).
		WithUnpaidLimit(postgres.NewUnpaidOrderSlots(a.db), a.cfg.OrderMaxUnpaid).
		WithEvents(d.events).
		WithFiscal(postgres.NewUserRepo(a.db), a.cfg.FiscalRequired)
	httpapi.RegisterOrders(a.public, httpapi.OrderUseCases{
		Authenticate: a.authenticate,
		Place:        place,
		List:         orders.NewListOrders(orderRepo),
		Get:          orders.NewGetOrder(orderRepo),
		Cancel:       orders.NewCancelOrder(d.tx, orderRepo, clicks, cat, d.clock).WithEvents(d.events),
		ChangeStatus: orders.NewChangeOrderStatus(d.tx, orderRepo, d.clock).WithEvents(d.events),
		Refunds:      admin.NewOrderRefunds(postgres.NewRefundRepo(a.db)),
	})
	httpapi.RegisterAnalytics(a.public, httpapi.AnalyticsUseCases{
		Authenticate: a.authenticate,
		Sales:        analytics.NewSales(stats, d.clock),
		Orders:       analytics.NewOrders(stats),
		Payments:     analytics.NewPayments(stats),
		TopProducts:  analytics.NewTopProducts(stats),
	})

	expiry := orders.NewExpireOverdueOrders(d.tx, orderRepo, paymeRepo, clicks, cat, d.clock, a.cfg.OrderPaymentTTL).
		WithEvents(d.events)
	interval := a.cfg.ExpirySweepInterval
	// A failed release leaves its order cancelled and its stock held: the
	// error logged names the order, for an operator to release it.
	a.addLoop("order-expiry", interval, expiry.Sweep,
		a.sweepLog("order expiry sweep failed", "order expiry sweep", slog.LevelInfo, "cancelled"))

	a.addOrphanSweep(d.clock, interval)
}

// addOrphanSweep adds the job that gives back the stock of reservations
// whose order was never stored: PlaceOrder reserves before the order's
// transaction and releases (with retries) when that fails, but one outage
// can break both, and then nothing remembers the reservation. The sweep
// needs no such memory: every EXPIRY_SWEEP_INTERVAL it releases the
// reservations older than orders.OrphanReservationAge (10 minutes, far
// longer than placing an order takes) that have no order row. Several
// instances may run it at once (SKIP LOCKED, each line given back once).
//
// Only the built-in catalog (CATALOG_URL empty) gets it: its reservations
// live next to the orders. With CATALOG_URL set the upstream catalog owns
// its reservations and cannot be asked which of them are orphans; what we
// do there is PlaceOrder's bounded retry of Release, and a release that
// still fails is logged with the order id ("releasing the stock of order …
// failed") for the upstream's own expiry or an operator.
func (a *App) addOrphanSweep(clock ports.Clock, interval time.Duration) {
	builtin, ok := a.catalog.(*postgres.ProductStore)
	if !ok || a.cfg.CatalogURL != "" {
		return
	}
	sweep := orders.NewReleaseOrphanedStock(builtin, clock)
	a.addLoop("orphan-reservation-sweep", interval, sweep.Sweep, a.sweepLog("orphan reservation sweep failed",
		"orphan reservation sweep gave back stock of orders never stored", slog.LevelWarn, "released"))
}
