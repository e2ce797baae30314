package app

import (
	"log/slog"

	"github.com/ultramarket/gateway/adapters/payme"
	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/ports"
)

// paymeDeps are what Build has already made that the Payme webhook shares
// with the rest of the app. catalog is the one the app uses (built-in or
// upstream): a refund gives the order's stock back through it.
type paymeDeps struct {
	tx      ports.TxManager
	clock   ports.Clock
	ids     ports.IDGenerator
	catalog ports.Catalog
	events  ports.OrderEvents // nil: events off
}

// wirePayme builds the Payme Merchant API use cases on the Postgres
// repositories, mounts /api/payments/payme on the public server, and
// adds the background sweep that cancels (reason 4) state-1 transactions
// past Payme's 12 hours, every EXPIRY_SWEEP_INTERVAL.
func (a *App) wirePayme(d paymeDeps) {
	orders := postgres.NewOrderRepo(a.db)
	repo := postgres.NewPaymeRepo(a.db)
	settlements := postgres.NewSettlementRepo(a.db)
	clicks := postgres.NewClickRepo(a.db) // a Payme payment ends the order's prepared Click attempts

	if config.AllowsAny(a.cfg.PaymeAllowedIPs) {
		a.log.Warn("PAYME_ALLOWED_IPS allows any address: Payme webhook calls are accepted from anywhere (the Basic credentials still apply)")
	}
	payme.NewWebhook(payme.Config{
		Login:      a.cfg.PaymeLogin,
		Key:        a.cfg.PaymeKey,
		AllowedIPs: a.cfg.PaymeAllowedIPs,
		Logger:     a.log,
	}, payme.UseCases{
		CheckPerformTransaction: payments.NewPaymeCheckPerformTransaction(orders, repo, d.clock),
		CreateTransaction:       payments.NewPaymeCreateTransaction(d.tx, orders, repo, d.ids, d.clock),
		PerformTransaction:      payments.NewPaymePerformTransaction(d.tx, orders, repo, clicks, settlements, d.clock).WithEvents(d.events),
		CancelTransaction:       payments.NewPaymeCancelTransaction(d.tx, orders, repo, d.catalog, d.clock).WithEvents(d.events),
		CheckTransaction:        payments.NewPaymeCheckTransaction(repo),
		GetStatement:            payments.NewPaymeGetStatement(repo),
		SetFiscalData:           payments.NewPaymeSetFiscalData(repo),
	}, a.metrics).Register(a.public)

	sweep := payments.NewPaymeSweepTimeouts(d.tx, repo, d.clock, 0)
	a.addLoop("payme-timeout-sweep", a.cfg.ExpirySweepInterval, sweep.Drain,
		a.sweepLog("payme timeout sweep failed", "payme timeout sweep", slog.LevelInfo, "cancelled"))
}

// newPaymeLinks is the Payme half of ports.PaymentLinks (the Click helper
// builds ClickURL); the payments wiring combines the two.
func newPaymeLinks(cfg config.Config) *payme.Links {
	return payme.NewLinks(cfg.PaymeCheckoutURL, cfg.PaymeMerchantID)
}
