package app

import (
	"log/slog"
	"time"

	"github.com/ultramarket/gateway/adapters/click"
	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/adapters/payme"
	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/ports"
)

// clickDeps are what Build has already made that the Click webhooks and the
// payment routes share with the rest of the app.
type clickDeps struct {
	tx     ports.TxManager
	clock  ports.Clock
	ids    ports.IDGenerator
	events ports.OrderEvents // nil: events off
}

// paymentLinks is ports.PaymentLinks: Payme's checkout link and Click's pay
// link, each built by its gateway's adapter.
type paymentLinks struct {
	payme *payme.Links
	click *click.Links
}

var _ ports.PaymentLinks = paymentLinks{}

func (l paymentLinks) PaymeURL(orderID string, amount money.Money, returnURL string) (string, error) {
	return l.payme.PaymeURL(orderID, amount, returnURL)
}

func (l paymentLinks) ClickURL(orderID string, amount money.Money, returnURL string) (string, error) {
	return l.click.ClickURL(orderID, amount, returnURL)
}

// wireClick builds the Click SHOP-API use cases on the Postgres repositories
// and mounts POST /api/payments/click/prepare and /complete on the public
// server, then the buyer-facing POST /api/payments (a payment link) and
// GET /api/payments?order_id= (the order's transactions of both gateways).
// It needs a.authenticate (wireIdentity).
func (a *App) wireClick(d clickDeps) {
	orders := postgres.NewOrderRepo(a.db)
	clicks := postgres.NewClickRepo(a.db)
	recon := postgres.NewReconciliationStore(a.db)

	if config.AllowsAny(a.cfg.ClickAllowedIPs) {
		a.log.Warn("CLICK_ALLOWED_IPS allows any address: Click webhook calls are accepted from anywhere")
	}
	click.NewWebhook(click.Config{
		ServiceID:  a.cfg.ClickServiceID,
		SecretKey:  a.cfg.ClickSecretKey,
		AllowedIPs: a.cfg.ClickAllowedIPs,
		Logger:     a.log,
	}, click.UseCases{
		Prepare: payments.NewClickPrepare(d.tx, orders, clicks, d.ids, d.clock),
		Complete: a.clickComplete(d, orders, clicks, payments.ClickCancelVerification{
			Claims: recon, Issues: recon, IDs: d.ids,
			// The reconciliation job asks Click about cancels of confirmed
			// payments when it can; otherwise a person is asked at once.
			Verifiable: a.cfg.ClickAPIURL != "",
		}),
	}, a.metrics).Register(a.public)

	links := paymentLinks{newPaymeLinks(a.cfg), click.NewLinks(a.cfg.ClickServiceID, a.cfg.ClickMerchantID)}
	// PAYMENT_RETURN_HOSTS; http only for localhost, and only in development.
	returns := payments.ReturnURLPolicy{
		Hosts:           a.cfg.PaymentReturnHosts,
		HTTPOnLocalhost: a.cfg.Env == config.EnvDevelopment,
	}
	httpapi.RegisterPayments(a.public, httpapi.PaymentUseCases{
		Authenticate:     a.authenticate,
		CreateLink:       payments.NewCreatePaymentLink(orders, links, returns),
		ListTransactions: payments.NewListTransactions(orders, postgres.NewPaymeRepo(a.db), clicks),
	})
}

// clickComplete is the Complete use case; with CLICK_API_URL set it also
// queues the sale receipt of every confirmed payment, which the Click
// receipt worker (started here) submits to Click's Merchant API after the
// webhook's transaction has committed.
func (a *App) clickComplete(d clickDeps, orders *postgres.OrderRepo, clicks *postgres.ClickRepo,
	cancels payments.ClickCancelVerification) *payments.ClickComplete {
	uc := payments.NewClickComplete(d.tx, orders, clicks, postgres.NewSettlementRepo(a.db), cancels, d.clock).
		WithEvents(d.events)
	merchant, err := newClickMerchant(a.cfg)
	if err != nil {
		// config.Load checked the URL; what is left is a programming error.
		a.log.Error("Click receipts off: the Merchant API client cannot be made", "err", err)
		return uc
	}
	if merchant == nil {
		return uc // CLICK_API_URL is off
	}
	receipts, outbox := postgres.NewClickReceiptStore(a.db), postgres.NewOutboxStore(a.db)
	worker := payments.NewClickReceiptWorker(outbox, receipts, orders, merchant, d.clock, a.cfg.ClickFiscalMaxTries,
		fiscal.Principal{})
	a.addLoop("click-receipts", clickReceiptPoll, worker.Pass,
		a.sweepLog("click receipt pass failed", "click receipts tried", slog.LevelInfo, "receipts"))
	return uc.WithReceipts(receipts, outbox, d.ids)
}

// clickReceiptPoll is how often the Click receipt worker looks for due
// receipts: API.md wants the first submission within 1 s of the commit.
const clickReceiptPoll = 250 * time.Millisecond
