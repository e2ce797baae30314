package app

import (
	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/ports"
)

// moneyDeps are what Build has already made that the admin's money routes
// share with the rest of the app.
type moneyDeps struct {
	tx     ports.TxManager
	clock  ports.Clock
	ids    ports.IDGenerator
	events ports.OrderEvents // nil: events off
}

// wireMoney mounts the payments console (GET /api/admin/payments and its CSV
// export) and admin refunds (POST /api/admin/orders/:id/refund) on the
// public server. It needs a.catalog (a refund gives unshipped stock back)
// and a.authenticate (wireIdentity).
func (a *App) wireMoney(d moneyDeps) error {
	merchant, err := newClickMerchant(a.cfg)
	if err != nil {
		return err
	}
	console := postgres.NewPaymentConsole(a.db)
	httpapi.RegisterAdminMoney(a.public, httpapi.AdminMoneyUseCases{
		Authenticate:   a.authenticate,
		ListPayments:   admin.NewListPayments(console),
		ExportPayments: admin.NewExportPayments(console),
		RefundOrder: admin.NewRefundOrder(admin.RefundOrderDeps{
			Tx: d.tx, Orders: postgres.NewOrderRepo(a.db), Payme: postgres.NewPaymeRepo(a.db),
			Clicks: postgres.NewClickRepo(a.db), Refunds: postgres.NewRefundRepo(a.db), Merchant: merchant,
			Catalog: a.catalog, IDs: d.ids, Clock: d.clock, Events: d.events,
		}),
		Logger: a.log,
	})
	return nil
}
