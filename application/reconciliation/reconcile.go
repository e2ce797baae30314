// Package reconciliation is the reconciliation job (API.md, "Refunds and
// reconciliation"): a list of checks, each comparing what we recorded with
// what a provider says and opening an issue, once, for what disagrees; and
// the admin use cases that list and resolve those issues.
//
// A pass runs on one instance at a time, claimed in Postgres with a lease
// (ports.JobLeases), because its checks call providers and so cannot hold a
// database transaction open. Should two passes overlap anyway (a lease that
// ran out under a very slow pass), nothing is doubled: an issue is unique per
// kind and subject in the database, and every change to an order is made
// under its row lock, re-checked there.
package reconciliation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/ports"
)

// JobName is the reconciliation job's lease.
const JobName = "reconcile"

// DefaultLease is how long a pass holds the job: its checks stop starting
// new work after half of it, so a pass ends while its lease holds, and an
// instance that dies mid-pass blocks the job for at most this long.
const DefaultLease = 5 * time.Minute

// Check is one comparison with a provider. Run does what is due at now and
// returns how many issues it opened, by kind. It may be cut short by ctx
// (the pass's budget); what it did not reach, the next pass does.
type Check interface {
	Name() string
	Run(ctx context.Context, now time.Time) (map[reconciliation.Kind]int, error)
}

// Report is what one pass did.
type Report struct {
	// Skipped: another instance holds the job, or (scheduled passes) it ran
	// less than half an interval ago. Nothing was checked.
	Skipped bool
	// Opened counts the issues this pass opened, by kind.
	Opened map[reconciliation.Kind]int
	// Open counts every open issue after the pass, by kind (every kind listed).
	Open map[reconciliation.Kind]int64
}

// OpenedTotal is how many issues the pass opened.
func (r Report) OpenedTotal() int {
	n := 0
	for _, v := range r.Opened {
		n += v
	}
	return n
}

// Reconciler runs the checks, one instance at a time.
type Reconciler struct {
	leases   ports.JobLeases
	issues   ports.ReconciliationIssues
	clock    ports.Clock
	checks   []Check
	interval time.Duration
	lease    time.Duration
}

// NewReconciler returns the job with checks, run every interval
// (RECONCILE_INTERVAL) by the scheduled loop.
func NewReconciler(leases ports.JobLeases, issues ports.ReconciliationIssues, clock ports.Clock, interval time.Duration,
	checks ...Check) *Reconciler {
	return &Reconciler{leases: leases, issues: issues, clock: clock, checks: checks, interval: interval, lease: DefaultLease}
}

// WithLease sets how long a pass holds the job (d > 0).
func (r *Reconciler) WithLease(d time.Duration) *Reconciler {
	if d > 0 {
		r.lease = d
	}
	return r
}

// Scheduled is the pass of the background loop (a jobs.Pass): it runs
// unless another instance holds the job or a pass ended less than half an
// interval ago, so N instances ticking every interval reconcile about once
// per interval, never at once. It returns the issues opened.
func (r *Reconciler) Scheduled(ctx context.Context) (int, error) {
	rep, err := r.pass(ctx, r.interval/2)
	return rep.OpenedTotal(), err
}

// Once is `ultramarket reconcile`: one pass now, unless another instance
// is running one (Report.Skipped).
func (r *Reconciler) Once(ctx context.Context) (Report, error) {
	return r.pass(ctx, 0)
}

func (r *Reconciler) pass(ctx context.Context, minGap time.Duration) (rep Report, err error) {
	rep = Report{Opened: map[reconciliation.Kind]int{}}
	token, ok, claimErr := r.leases.Claim(ctx, JobName, r.clock.Now(), r.lease, minGap)
	if claimErr != nil {
		return rep, fmt.Errorf("reconcile: claim the job: %w", claimErr)
	}
	if !ok {
		rep.Skipped = true
		return rep, nil
	}
	defer func() {
		// Given back even when ctx ended (shutdown), so the next instance
		// need not wait for the lease to run out; bounded all the same.
		relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if relErr := r.leases.Release(relCtx, JobName, token, r.clock.Now()); relErr != nil {
			err = errors.Join(err, fmt.Errorf("reconcile: release the job: %w", relErr))
		}
	}()

	budget, cancel := context.WithTimeout(ctx, r.lease/2)
	defer cancel()
	var errs []error
	for _, c := range r.checks {
		opened, runErr := c.Run(budget, r.clock.Now())
		for k, n := range opened {
			rep.Opened[k] += n
		}
		if runErr != nil {
			errs = append(errs, fmt.Errorf("reconcile: %s: %w", c.Name(), runErr))
		}
	}
	open, countErr := r.issues.CountOpen(ctx)
	if countErr != nil {
		errs = append(errs, fmt.Errorf("reconcile: count open issues: %w", countErr))
	}
	rep.Open = open
	return rep, errors.Join(errs...)
}
