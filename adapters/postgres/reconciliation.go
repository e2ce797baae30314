package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/ports"
)

// ReconciliationStore implements ports.ReconciliationIssues,
// ports.ClickCancelClaims, ports.ReconciliationChecks and ports.JobLeases on
// the tables of migrations/00010_reconciliation.sql, which explains them.
type ReconciliationStore struct {
	db *sqlx.DB
}

var (
	_ ports.ReconciliationIssues = (*ReconciliationStore)(nil)
	_ ports.ClickCancelClaims    = (*ReconciliationStore)(nil)
	_ ports.ReconciliationChecks = (*ReconciliationStore)(nil)
	_ ports.JobLeases            = (*ReconciliationStore)(nil)
)

// NewReconciliationStore returns a ReconciliationStore on db.
func NewReconciliationStore(db *sqlx.DB) *ReconciliationStore { return &ReconciliationStore{db: db} }

const issueColumns = `id, kind, subject, order_id, provider, provider_transaction_id, detail, status,
	detected_at, resolved_at, resolved_by, note`

type issueRow struct {
	ID           string         `db:"id"`
	Kind         string         `db:"kind"`
	Subject      string         `db:"subject"`
	OrderID      sql.NullString `db:"order_id"`
	Provider     sql.NullString `db:"provider"`
	ProviderTxID sql.NullString `db:"provider_transaction_id"`
	Detail       string         `db:"detail"`
	Status       string         `db:"status"`
	DetectedAt   time.Time      `db:"detected_at"`
	ResolvedAt   sql.NullTime   `db:"resolved_at"`
	ResolvedBy   sql.NullString `db:"resolved_by"`
	Note         sql.NullString `db:"note"`
}

func (r issueRow) toDomain() (*reconciliation.Issue, error) {
	kind, err := reconciliation.ParseKind(r.Kind)
	if err != nil {
		return nil, fmt.Errorf("reconciliation issue %s: kind %q: %w", r.ID, r.Kind, ErrCorrupt)
	}
	status, err := reconciliation.ParseStatus(r.Status)
	if err != nil {
		return nil, fmt.Errorf("reconciliation issue %s: status %q: %w", r.ID, r.Status, ErrCorrupt)
	}
	return reconciliation.RestoreIssue(r.ID, kind, r.Subject, r.OrderID.String, r.Provider.String, r.ProviderTxID.String,
		r.Detail, status, r.DetectedAt.UTC(), fromNull(r.ResolvedAt), r.ResolvedBy.String, r.Note.String), nil
}

func (s *ReconciliationStore) Open(ctx context.Context, i *reconciliation.Issue) (bool, error) {
	if !validID(i.ID()) {
		return false, fmt.Errorf("open %s issue about %s: %w", i.Kind(), i.Subject(), domain.Invalid("id", domain.MsgUUID))
	}
	res, err := ext(ctx, s.db).ExecContext(ctx, `INSERT INTO reconciliation_issues
		(id, kind, subject, order_id, provider, provider_transaction_id, detail, status, detected_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8)
		ON CONFLICT (kind, subject) DO NOTHING`,
		i.ID(), string(i.Kind()), i.Subject(), nullString(i.OrderID()), nullString(i.Provider()),
		nullString(i.ProviderTransactionID()), i.Detail(), dbTime(i.DetectedAt()))
	if err != nil {
		return false, fmt.Errorf("open %s issue about %s: %w", i.Kind(), i.Subject(), mapError(ctxErr(ctx, err)))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("open %s issue about %s: %w", i.Kind(), i.Subject(), err)
	}
	return n == 1, nil
}

func (s *ReconciliationStore) GetForUpdate(ctx context.Context, id string) (*reconciliation.Issue, error) {
	if !inTx(ctx, s.db) {
		return nil, fmt.Errorf("lock reconciliation issue %s: %w", id, ErrNoTx)
	}
	if !validID(id) {
		return nil, fmt.Errorf("reconciliation issue %q: %w", id, reconciliation.ErrNotFound)
	}
	return s.getOne(ctx, fmt.Sprintf("reconciliation issue %s", id),
		`SELECT `+issueColumns+` FROM reconciliation_issues WHERE id = $1 FOR UPDATE`, id)
}

func (s *ReconciliationStore) FindOpenForUpdate(ctx context.Context, kind reconciliation.Kind, subject string) (*reconciliation.Issue, error) {
	if !inTx(ctx, s.db) {
		return nil, fmt.Errorf("lock open %s issue about %s: %w", kind, subject, ErrNoTx)
	}
	return s.getOne(ctx, fmt.Sprintf("open %s issue about %s", kind, subject),
		`SELECT `+issueColumns+` FROM reconciliation_issues WHERE kind = $1 AND subject = $2 AND status = 'open' FOR UPDATE`,
		string(kind), subject)
}

func (s *ReconciliationStore) getOne(ctx context.Context, what, query string, args ...any) (*reconciliation.Issue, error) {
	var row issueRow
	err := sqlx.GetContext(ctx, ext(ctx, s.db), &row, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("select %s: %w", what, reconciliation.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select %s: %w", what, mapError(ctxErr(ctx, err)))
	}
	return row.toDomain()
}

func (s *ReconciliationStore) Update(ctx context.Context, i *reconciliation.Issue) error {
	if !validID(i.ID()) {
		return fmt.Errorf("update reconciliation issue %q: %w", i.ID(), reconciliation.ErrNotFound)
	}
	res, err := ext(ctx, s.db).ExecContext(ctx, `UPDATE reconciliation_issues
		SET status = $2, resolved_at = $3, resolved_by = $4, note = $5 WHERE id = $1`,
		i.ID(), string(i.Status()), nullTime(i.ResolvedAt()), nullString(i.ResolvedBy()), nullString(i.Note()))
	if err != nil {
		return fmt.Errorf("update reconciliation issue %s: %w", i.ID(), mapError(ctxErr(ctx, err)))
	}
	return mustAffect(res, "update reconciliation issue "+i.ID(), reconciliation.ErrNotFound)
}

func (s *ReconciliationStore) List(ctx context.Context, f ports.IssueFilter) ([]*reconciliation.Issue, int, error) {
	where, args := `WHERE ($1 = '' OR status = $1) AND ($2 = '' OR kind = $2)`, []any{string(f.Status), string(f.Kind)}
	var total int
	if err := sqlx.GetContext(ctx, ext(ctx, s.db), &total, `SELECT count(*) FROM reconciliation_issues `+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count reconciliation issues: %w", mapError(ctxErr(ctx, err)))
	}
	page, size := max(f.Page, 1), max(f.PageSize, 1)
	var rows []issueRow
	err := sqlx.SelectContext(ctx, ext(ctx, s.db), &rows, `SELECT `+issueColumns+` FROM reconciliation_issues `+where+
		` ORDER BY detected_at DESC, id DESC LIMIT $3 OFFSET $4`, append(args, size, (page-1)*size)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list reconciliation issues: %w", mapError(ctxErr(ctx, err)))
	}
	out := make([]*reconciliation.Issue, 0, len(rows))
	for _, r := range rows {
		i, err := r.toDomain()
		if err != nil {
			return nil, 0, err
		}
		out = append(out, i)
	}
	return out, total, nil
}

func (s *ReconciliationStore) CountOpen(ctx context.Context) (map[reconciliation.Kind]int64, error) {
	var rows []struct {
		Kind  string `db:"kind"`
		Count int64  `db:"n"`
	}
	if err := sqlx.SelectContext(ctx, ext(ctx, s.db), &rows,
		`SELECT kind, count(*) AS n FROM reconciliation_issues WHERE status = 'open' GROUP BY kind`); err != nil {
		return nil, fmt.Errorf("count open reconciliation issues: %w", mapError(ctxErr(ctx, err)))
	}
	out := make(map[reconciliation.Kind]int64, len(reconciliation.Kinds()))
	for _, k := range reconciliation.Kinds() {
		out[k] = 0
	}
	for _, r := range rows {
		out[reconciliation.Kind(r.Kind)] = r.Count
	}
	return out, nil
}

// Record upserts the claim in the caller's transaction.
func (s *ReconciliationStore) Record(ctx context.Context, c ports.ClickCancelClaim) error {
	if !inTx(ctx, s.db) {
		return fmt.Errorf("record click cancel claim of attempt %s: %w", c.AttemptID, ErrNoTx)
	}
	_, err := ext(ctx, s.db).ExecContext(ctx, `INSERT INTO click_cancel_claims (attempt_id, order_id, click_error, claimed_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (attempt_id) DO UPDATE
		SET click_error = EXCLUDED.click_error, claimed_at = EXCLUDED.claimed_at, settled_at = NULL, outcome = NULL`,
		c.AttemptID, c.OrderID, c.ClickError, dbTime(c.ClaimedAt))
	if err != nil {
		return fmt.Errorf("record click cancel claim of attempt %s: %w", c.AttemptID, mapError(ctxErr(ctx, err)))
	}
	return nil
}

func (s *ReconciliationStore) ListPending(ctx context.Context, limit int) ([]ports.ClickCancelClaim, error) {
	var rows []struct {
		AttemptID  string    `db:"attempt_id"`
		OrderID    string    `db:"order_id"`
		ClickError int       `db:"click_error"`
		ClaimedAt  time.Time `db:"claimed_at"`
	}
	err := sqlx.SelectContext(ctx, ext(ctx, s.db), &rows, `SELECT attempt_id, order_id, click_error, claimed_at
		FROM click_cancel_claims WHERE settled_at IS NULL
		ORDER BY checked_at NULLS FIRST, claimed_at LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list pending click cancel claims: %w", mapError(ctxErr(ctx, err)))
	}
	out := make([]ports.ClickCancelClaim, 0, len(rows))
	for _, r := range rows {
		out = append(out, ports.ClickCancelClaim{AttemptID: r.AttemptID, OrderID: r.OrderID, ClickError: r.ClickError,
			ClaimedAt: r.ClaimedAt.UTC()})
	}
	return out, nil
}

func (s *ReconciliationStore) NoteAsked(ctx context.Context, attemptID string, now time.Time) error {
	_, err := ext(ctx, s.db).ExecContext(ctx, `UPDATE click_cancel_claims SET checked_at = $2
		WHERE attempt_id = $1 AND settled_at IS NULL`, attemptID, dbTime(now))
	if err != nil {
		return fmt.Errorf("mark click cancel claim of attempt %s checked: %w", attemptID, mapError(ctxErr(ctx, err)))
	}
	return nil
}

func (s *ReconciliationStore) Settle(ctx context.Context, attemptID string, claimedAt time.Time, outcome ports.ClickCancelOutcome,
	now time.Time) (bool, error) {
	res, err := ext(ctx, s.db).ExecContext(ctx, `UPDATE click_cancel_claims SET settled_at = $3, outcome = $4, checked_at = $3
		WHERE attempt_id = $1 AND claimed_at = $2 AND settled_at IS NULL`,
		attemptID, dbTime(claimedAt), dbTime(now), string(outcome))
	if err != nil {
		return false, fmt.Errorf("settle click cancel claim of attempt %s: %w", attemptID, mapError(ctxErr(ctx, err)))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("settle click cancel claim of attempt %s: %w", attemptID, err)
	}
	return n == 1, nil
}

func (s *ReconciliationStore) UnconfirmedClickOrders(ctx context.Context, name string, since, until time.Time, age time.Duration,
	limit int) ([]ports.UnconfirmedClickOrder, error) {
	var rows []struct {
		OrderID string    `db:"order_id"`
		Last    time.Time `db:"last_prepared_at"`
	}
	// "Never confirmed": still prepared, or ended by us (no Click error)
	// because the order expired, was cancelled or was paid otherwise.
	err := sqlx.SelectContext(ctx, ext(ctx, s.db), &rows, `SELECT c.order_id, max(c.prepared_at) AS last_prepared_at
		FROM click_transactions c
		WHERE c.prepared_at >= $2 AND c.prepared_at < $3
			AND (c.state = $6 OR (c.state = $7 AND c.click_error IS NULL))
			AND NOT EXISTS (
				SELECT 1 FROM reconciliation_checks k
				WHERE k.name = $1 AND k.subject = c.order_id::text
					AND k.checked_at >= c.prepared_at + make_interval(secs => $4))
		GROUP BY c.order_id
		ORDER BY max(c.prepared_at)
		LIMIT $5`,
		name, dbTime(since), dbTime(until), age.Seconds(), limit, int(payment.ClickPrepared), int(payment.ClickCancelled))
	if err != nil {
		return nil, fmt.Errorf("list unconfirmed click orders: %w", mapError(ctxErr(ctx, err)))
	}
	out := make([]ports.UnconfirmedClickOrder, 0, len(rows))
	for _, r := range rows {
		out = append(out, ports.UnconfirmedClickOrder{OrderID: r.OrderID, LastPreparedAt: r.Last.UTC()})
	}
	return out, nil
}

// MarkChecked upserts the mark; an older time never replaces a newer one.
func (s *ReconciliationStore) MarkChecked(ctx context.Context, name, subject string, now time.Time) error {
	_, err := ext(ctx, s.db).ExecContext(ctx, `INSERT INTO reconciliation_checks (name, subject, checked_at)
		VALUES ($1, $2, $3) ON CONFLICT (name, subject) DO UPDATE SET checked_at = GREATEST(reconciliation_checks.checked_at, EXCLUDED.checked_at)`,
		name, subject, dbTime(now))
	if err != nil {
		return fmt.Errorf("mark %s checked for %s: %w", name, subject, mapError(ctxErr(ctx, err)))
	}
	return nil
}

// Claim is one UPDATE (after making sure the row exists), so the lease is
// committed when it returns and no transaction stays open during the pass.
func (s *ReconciliationStore) Claim(ctx context.Context, name string, now time.Time, lease, minGap time.Duration) (string, bool, error) {
	if inTx(ctx, s.db) {
		return "", false, fmt.Errorf("claim job %s: %w", name, ErrInTx)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO job_leases (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, name); err != nil {
		return "", false, fmt.Errorf("claim job %s: %w", name, mapError(ctxErr(ctx, err)))
	}
	token := uuid.NewString()
	res, err := s.db.ExecContext(ctx, `UPDATE job_leases SET owner = $2, lease_until = $3
		WHERE name = $1 AND (lease_until IS NULL OR lease_until <= $4)
			AND (finished_at IS NULL OR finished_at <= $5)`,
		name, token, dbTime(now.Add(lease)), dbTime(now), dbTime(now.Add(-minGap)))
	if err != nil {
		return "", false, fmt.Errorf("claim job %s: %w", name, mapError(ctxErr(ctx, err)))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", false, fmt.Errorf("claim job %s: %w", name, err)
	}
	if n == 0 {
		return "", false, nil
	}
	return token, true, nil
}

func (s *ReconciliationStore) Release(ctx context.Context, name, token string, now time.Time) error {
	if !validID(token) {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `UPDATE job_leases SET owner = NULL, lease_until = NULL, finished_at = $3
		WHERE name = $1 AND owner = $2`, name, token, dbTime(now))
	if err != nil {
		return fmt.Errorf("release job %s: %w", name, mapError(ctxErr(ctx, err)))
	}
	return nil
}
