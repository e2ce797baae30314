package reconciliation

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// ListIssues pages through the reconciliation issues, for admins.
type ListIssues struct {
	issues ports.ReconciliationIssues
}

// NewListIssues wires the use case.
func NewListIssues(issues ports.ReconciliationIssues) *ListIssues { return &ListIssues{issues: issues} }

// ListIssuesInput is the caller's role and the query string: Status and Kind
// raw ("" = any), Page and PageSize nil when not given.
type ListIssuesInput struct {
	ActorRole user.Role
	Status    string
	Kind      string
	Page      *int
	PageSize  *int
}

// IssuePage is one page of issues and how many match in all.
type IssuePage struct {
	Items    []*reconciliation.Issue
	Page     int
	PageSize int
	Total    int
}

// Handle returns user.ErrNotAllowed unless the caller is an admin, and a
// *domain.ValidationError naming every bad parameter.
func (uc *ListIssues) Handle(ctx context.Context, in ListIssuesInput) (IssuePage, error) {
	if !in.ActorRole.IsAdmin() {
		return IssuePage{}, user.ErrNotAllowed
	}
	verr := &domain.ValidationError{}
	var f ports.IssueFilter
	if in.Status != "" {
		s, err := reconciliation.ParseStatus(in.Status)
		if err := verr.Merge(err); err != nil {
			return IssuePage{}, err
		}
		f.Status = s
	}
	if in.Kind != "" {
		k, err := reconciliation.ParseKind(in.Kind)
		if err := verr.Merge(err); err != nil {
			return IssuePage{}, err
		}
		f.Kind = k
	}
	f.Page, f.PageSize = domain.Paging(in.Page, in.PageSize, verr)
	if err := verr.OrNil(); err != nil {
		return IssuePage{}, err
	}
	items, total, err := uc.issues.List(ctx, f)
	if err != nil {
		return IssuePage{}, err
	}
	return IssuePage{Items: items, Page: f.Page, PageSize: f.PageSize, Total: total}, nil
}

// ResolveIssue closes an issue with the admin's note.
type ResolveIssue struct {
	tx     ports.TxManager
	issues ports.ReconciliationIssues
	clock  ports.Clock
}

// NewResolveIssue wires the use case.
func NewResolveIssue(tx ports.TxManager, issues ports.ReconciliationIssues, clock ports.Clock) *ResolveIssue {
	return &ResolveIssue{tx: tx, issues: issues, clock: clock}
}

// Handle resolves issue id for actor: user.ErrNotAllowed unless an admin,
// reconciliation.ErrNotFound, ErrInvalidNote, ErrAlreadyResolved (409).
func (uc *ResolveIssue) Handle(ctx context.Context, actor user.Actor, id, note string) (*reconciliation.Issue, error) {
	if !actor.Role.IsAdmin() {
		return nil, user.ErrNotAllowed
	}
	var out *reconciliation.Issue
	err := uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		i, err := uc.issues.GetForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if err := i.Resolve(actor.ID, note, uc.clock.Now()); err != nil {
			return fmt.Errorf("resolve reconciliation issue %s: %w", id, err)
		}
		out = i
		return uc.issues.Update(ctx, i)
	})
	return out, err
}
