package products

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// ListProducts pages through the catalog for anyone, signed in or not.
type ListProducts struct {
	catalog ports.Catalog
}

// NewListProducts wires the use case.
func NewListProducts(catalog ports.Catalog) *ListProducts {
	return &ListProducts{catalog: catalog}
}

// ListProductsInput is the caller (user.Actor{} when anonymous) and the query
// string. Page and PageSize are nil when not given, so that an explicit 0 is
// refused rather than defaulted.
type ListProductsInput struct {
	Actor    user.Actor
	Q        string
	Category string
	SellerID string
	Page     *int
	PageSize *int
}

// ProductPage is one page of products and how many match in all.
type ProductPage struct {
	Items    []*product.Product
	Page     int
	PageSize int
	Total    int
}

// Handle lists the products the caller may see: active ones for everyone,
// plus every inactive one for admins and a seller's own inactive ones for
// that seller. Bad parameters return a *domain.ValidationError naming q,
// page and page_size (422).
func (uc *ListProducts) Handle(ctx context.Context, in ListProductsInput) (ProductPage, error) {
	q := ports.ProductQuery{
		Q:        strings.TrimSpace(in.Q),
		Category: strings.TrimSpace(in.Category),
		SellerID: strings.TrimSpace(in.SellerID),
	}
	verr := &domain.ValidationError{}
	q.Page, q.PageSize = domain.Paging(in.Page, in.PageSize, verr)
	if utf8.RuneCountInString(q.Q) > maxQueryChars {
		verr.Add("q", domain.MsgMaxChars, domain.Args{"Count": 200})
	}
	if utf8.RuneCountInString(q.Category) > product.MaxCategoryChars {
		verr.Add("category", domain.MsgMaxChars, domain.Args{"Count": 100})
	}
	if err := verr.OrNil(); err != nil {
		return ProductPage{}, err
	}

	switch {
	case in.Actor.IsAdmin():
		q.IncludeInactive = true
	case in.Actor.Role == user.RoleSeller && in.Actor.SignedIn():
		q.InactiveOfSeller = in.Actor.ID
	}
	page, err := uc.catalog.List(ctx, q, in.Actor)
	if err != nil {
		return ProductPage{}, err
	}
	items := page.Items
	if items == nil {
		items = []*product.Product{}
	}
	return ProductPage{Items: items, Page: q.Page, PageSize: q.PageSize, Total: page.Total}, nil
}
