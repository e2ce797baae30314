package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/adapters/click"
	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/adapters/system"
	"github.com/ultramarket/gateway/application/outbox"
	"github.com/ultramarket/gateway/application/reconciliation"
	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	domrecon "github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/ports"
)

// newClickMerchant is Click's Merchant API client, or nil when CLICK_API_URL
// is off. Reconciliation, refunds and Click receipts share it.
func newClickMerchant(cfg config.Config) (ports.ClickMerchant, error) {
	if cfg.ClickAPIURL == "" {
		return nil, nil
	}
	c, err := click.NewMerchantClient(click.MerchantConfig{
		BaseURL:        cfg.ClickAPIURL,
		ServiceID:      cfg.ClickServiceID,
		MerchantUserID: cfg.ClickMerchantUserID,
		SecretKey:      cfg.ClickSecretKey,
	})
	if err != nil {
		return nil, fmt.Errorf("CLICK_API_URL: %w", err)
	}
	return c, nil
}

// newReconciler builds the reconciliation job with the checks the
// configuration allows: the Click checks need Click's Merchant API, and
// receipt_missing runs only with FISCAL_REQUIRED; receipt_failed always runs.
func newReconciler(cfg config.Config, db *sqlx.DB, catalog ports.Catalog, merchant ports.ClickMerchant,
	events ports.OrderEvents) *reconciliation.Reconciler {
	store := postgres.NewReconciliationStore(db)
	clock, ids := system.Clock{}, system.UUIDs{}
	orders, clicks := postgres.NewOrderRepo(db), postgres.NewClickRepo(db)
	checks := []reconciliation.Check{reconciliation.NewReceiptFailed(store, store, ids)}
	if cfg.FiscalRequired {
		checks = append(checks, reconciliation.NewReceiptMissing(store, store, ids))
	}
	if merchant != nil {
		checks = append(checks,
			reconciliation.NewClickCancels(postgres.NewTxManager(db), orders, clicks, store, store, merchant, catalog, ids).
				WithEvents(events),
			reconciliation.NewClickPaidUnconfirmed(store, clicks, store, merchant, ids))
	}
	return reconciliation.NewReconciler(store, store, clock, cfg.ReconcileInterval, checks...)
}

// wireReconciliation mounts the admin routes of reconciliation, the
// reconciliation_issues_open metric, and the job, every RECONCILE_INTERVAL
// on one instance at a time. It needs a.catalog and a.authenticate.
func (a *App) wireReconciliation(tx ports.TxManager, clock ports.Clock, events ports.OrderEvents) error {
	store := postgres.NewReconciliationStore(a.db)
	httpapi.RegisterReconciliation(a.public, httpapi.ReconciliationUseCases{
		Authenticate: a.authenticate,
		List:         reconciliation.NewListIssues(store),
		Resolve:      reconciliation.NewResolveIssue(tx, store, clock),
	})
	if err := a.metrics.WatchReconciliation(func(ctx context.Context) (map[string]int64, error) {
		counts, err := store.CountOpen(ctx)
		out := make(map[string]int64, len(counts))
		for k, n := range counts {
			out[string(k)] = n
		}
		return out, err
	}); err != nil {
		return fmt.Errorf("reconciliation metric: %w", err)
	}
	merchant, err := newClickMerchant(a.cfg)
	if err != nil {
		return err
	}
	job := newReconciler(a.cfg, a.db, a.catalog, merchant, events)
	a.addLoop("reconciliation", a.cfg.ReconcileInterval, job.Scheduled, func(n int, err error) {
		switch {
		case err != nil:
			a.log.Error("reconciliation pass failed", "opened", n, "err", err)
		case n > 0:
			a.log.Warn("reconciliation opened issues", "opened", n)
		}
	})
	return nil
}

// Reconcile is `ultramarket reconcile`: one pass now, then a line per kind
// (issues this pass opened, issues open in all). A pass another instance is
// running is not waited for: that is an error.
func Reconcile(ctx context.Context, cfg config.Config, out io.Writer, log *slog.Logger) error {
	db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.PoolOptions{MaxOpenConns: 4})
	if err != nil {
		return fmt.Errorf("open postgres: %w", err)
	}
	defer db.Close()
	a := &App{cfg: cfg, log: log, db: db}
	a.chooseCatalog(system.UUIDs{}, system.Clock{}, postgres.NewPinger(db))
	merchant, err := newClickMerchant(cfg)
	if err != nil {
		return err
	}
	if merchant == nil {
		fmt.Fprintln(out, "CLICK_API_URL is off: Click is not asked about anything")
	}
	var events ports.OrderEvents // the running service's relay publishes them
	if cfg.EventsURL != "" {
		events = outbox.NewOrderEvents(postgres.NewOutboxStore(db), system.UUIDs{}, system.Clock{})
	}
	rep, err := newReconciler(cfg, db, a.catalog, merchant, events).Once(ctx)
	if rep.Skipped {
		return fmt.Errorf("another instance is running a reconciliation pass; try again in a few minutes")
	}
	for _, k := range domrecon.Kinds() {
		fmt.Fprintf(out, "%s: %d new, %d open\n", k, rep.Opened[k], rep.Open[k])
	}
	return err
}
