package products_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/products"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	sellerID      = "11111111-0000-4000-8000-000000000001"
	otherSellerID = "22222222-0000-4000-8000-000000000002"
	adminID       = "33333333-0000-4000-8000-000000000003"
	customerID    = "44444444-0000-4000-8000-000000000004"
)

var (
	anonymous   = user.Actor{}
	customer    = user.Actor{ID: customerID, Role: user.RoleCustomer}
	seller      = user.Actor{ID: sellerID, Role: user.RoleSeller}
	otherSeller = user.Actor{ID: otherSellerID, Role: user.RoleSeller}
	admin       = user.Actor{ID: adminID, Role: user.RoleAdmin}
	superAdmin  = user.Actor{ID: adminID, Role: user.RoleSuperAdmin}
)

func intp(n int) *int { return &n }

func prod(id string, active bool) *product.Product {
	return product.Restore(id, "Rishton lagan", "", "ceramics", sellerID, money.MustTiyin(15_000_000), 4, active, now, now)
}

func draft() product.Draft {
	return product.Draft{Name: "Rishton lagan", Category: "ceramics", Price: 15_000_000, Stock: 4, Active: true}
}

func newCatalog(t *testing.T) *mocks.MockCatalog {
	return mocks.NewMockCatalog(gomock.NewController(t))
}

func assertForbidden(t *testing.T, err error, msgAndArgs ...any) {
	t.Helper()
	assert.ErrorIs(t, err, products.ErrNotAllowed, msgAndArgs...)
	assert.ErrorIs(t, err, domain.ErrForbidden, msgAndArgs...)
}

// --- ListProducts ---

func TestListProducts_VisibilityByRole(t *testing.T) {
	tests := []struct {
		name   string
		actor  user.Actor
		incl   bool
		ofSell string
	}{
		{"anonymous sees active products only", anonymous, false, ""},
		{"customer sees active products only", customer, false, ""},
		{"seller also sees own inactive products", seller, false, sellerID},
		{"admin sees every product", admin, true, ""},
		{"super_admin sees every product", superAdmin, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := newCatalog(t)
			p := prod("p1", true)
			cat.EXPECT().List(gomock.Any(), ports.ProductQuery{
				Page: 1, PageSize: 20, IncludeInactive: tt.incl, InactiveOfSeller: tt.ofSell,
			}, tt.actor).Return(ports.ProductPage{Items: []*product.Product{p}, Total: 1}, nil)

			got, err := products.NewListProducts(cat).Handle(context.Background(), products.ListProductsInput{Actor: tt.actor})
			require.NoError(t, err)
			assert.Equal(t, products.ProductPage{Items: []*product.Product{p}, Page: 1, PageSize: 20, Total: 1}, got)
		})
	}
}

func TestListProducts_PassesFilters(t *testing.T) {
	cat := newCatalog(t)
	cat.EXPECT().List(gomock.Any(), ports.ProductQuery{
		Q: "lagan", Category: "ceramics", SellerID: sellerID, Page: 3, PageSize: 100,
	}, customer).Return(ports.ProductPage{Total: 201}, nil)

	got, err := products.NewListProducts(cat).Handle(context.Background(), products.ListProductsInput{
		Actor: customer, Q: " lagan ", Category: "ceramics", SellerID: sellerID, Page: intp(3), PageSize: intp(100),
	})
	require.NoError(t, err)
	assert.Equal(t, products.ProductPage{Items: []*product.Product{}, Page: 3, PageSize: 100, Total: 201}, got)
}

func TestListProducts_BadPagingNamesTheFields(t *testing.T) {
	tests := []struct {
		name       string
		page, size *int
		want       []string
	}{
		{"page 0", intp(0), nil, []string{"page"}},
		{"page -1", intp(-1), nil, []string{"page"}},
		{"page_size 0", nil, intp(0), []string{"page_size"}},
		{"page_size 101", nil, intp(101), []string{"page_size"}},
		{"both", intp(0), intp(1000), []string{"page", "page_size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := newCatalog(t) // no List
			_, err := products.NewListProducts(cat).Handle(context.Background(), products.ListProductsInput{
				Actor: anonymous, Page: tt.page, PageSize: tt.size,
			})
			assert.Equal(t, tt.want, testsupport.FieldsOf(t, err))
		})
	}
}

func TestListProducts_PropagatesCatalogErrors(t *testing.T) {
	cat := newCatalog(t)
	down := fmt.Errorf("list: %w", domain.ErrUpstreamUnavailable)
	cat.EXPECT().List(gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.ProductPage{}, down)
	_, err := products.NewListProducts(cat).Handle(context.Background(), products.ListProductsInput{})
	assert.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
}

// --- GetProduct ---

func TestGetProduct_VisibilityMatrix(t *testing.T) {
	tests := []struct {
		name          string
		actor         user.Actor
		seesInactive  bool
		seesAnyActive bool
	}{
		{"anonymous", anonymous, false, true},
		{"customer", customer, false, true},
		{"its seller", seller, true, true},
		{"another seller", otherSeller, false, true},
		{"admin", admin, true, true},
		{"super_admin", superAdmin, true, true},
	}
	for _, tt := range tests {
		for _, active := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/active=%v", tt.name, active), func(t *testing.T) {
				cat := newCatalog(t)
				p := prod("p1", active)
				cat.EXPECT().Get(gomock.Any(), "p1", tt.actor).Return(p, nil)

				got, err := products.NewGetProduct(cat).Handle(context.Background(), products.GetProductInput{Actor: tt.actor, ID: "p1"})
				if active || tt.seesInactive {
					require.NoError(t, err, "%s active=%v", tt.name, active)
					assert.Same(t, p, got)
					return
				}
				assert.ErrorIs(t, err, product.ErrNotFound, "%s active=%v", tt.name, active)
				assert.Nil(t, got)
			})
		}
	}
}

func TestGetProduct_NotFound(t *testing.T) {
	cat := newCatalog(t)
	cat.EXPECT().Get(gomock.Any(), "nope", anonymous).Return(nil, product.ErrNotFound)
	_, err := products.NewGetProduct(cat).Handle(context.Background(), products.GetProductInput{Actor: anonymous, ID: "nope"})
	assert.ErrorIs(t, err, domain.ErrNotFound)
}

// --- CreateProduct ---

func TestCreateProduct_SellerIDRules(t *testing.T) {
	tests := []struct {
		name       string
		actor      user.Actor
		sellerID   string
		wantSeller string
	}{
		{"seller omitting seller_id owns the product", seller, "", sellerID},
		{"seller sending own id", seller, sellerID, sellerID},
		{"admin omitting seller_id owns the product", admin, "", adminID},
		{"admin creating for a seller", admin, sellerID, sellerID},
		{"super_admin creating for a seller", superAdmin, otherSellerID, otherSellerID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := newCatalog(t)
			d := draft()
			d.SellerID = tt.sellerID
			want := d
			want.SellerID = tt.wantSeller
			created := prod("p1", true)
			cat.EXPECT().Create(gomock.Any(), want, tt.actor).Return(created, nil)

			got, err := products.NewCreateProduct(cat).Handle(context.Background(), products.CreateProductInput{Actor: tt.actor, Draft: d})
			require.NoError(t, err)
			assert.Same(t, created, got)
		})
	}
}

func TestCreateProduct_Forbidden(t *testing.T) {
	tests := []struct {
		name     string
		actor    user.Actor
		sellerID string
	}{
		{"anonymous", anonymous, ""},
		{"customer", customer, ""},
		{"customer naming a seller", customer, sellerID},
		{"seller naming another seller", seller, otherSellerID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := newCatalog(t) // no Create
			d := draft()
			d.SellerID = tt.sellerID
			_, err := products.NewCreateProduct(cat).Handle(context.Background(), products.CreateProductInput{Actor: tt.actor, Draft: d})
			assertForbidden(t, err, tt.name)
		})
	}
}

func TestCreateProduct_InvalidDraftNeverReachesTheCatalog(t *testing.T) {
	cat := newCatalog(t) // no Create
	d := draft()
	d.Name, d.Price, d.Stock = " ", 0, -1
	_, err := products.NewCreateProduct(cat).Handle(context.Background(), products.CreateProductInput{Actor: seller, Draft: d})
	assert.Equal(t, []string{"name", "price", "stock"}, testsupport.FieldsOf(t, err))
}

// --- ReplaceProduct ---

func TestReplaceProduct_OwnerAndAdmins(t *testing.T) {
	for _, actor := range []user.Actor{seller, admin, superAdmin} {
		for _, sentSeller := range []string{"", sellerID} {
			t.Run(fmt.Sprintf("%s/seller_id=%q", actor.Role, sentSeller), func(t *testing.T) {
				cat := newCatalog(t)
				current := prod("p1", false) // inactive: still editable by them
				d := draft()
				d.SellerID = sentSeller
				want := d
				want.SellerID = sellerID
				replaced := prod("p1", true)
				gomock.InOrder(
					cat.EXPECT().Get(gomock.Any(), "p1", actor).Return(current, nil),
					cat.EXPECT().Replace(gomock.Any(), "p1", want, actor).Return(replaced, nil),
				)
				got, err := products.NewReplaceProduct(cat).Handle(context.Background(), products.ReplaceProductInput{Actor: actor, ID: "p1", Draft: d})
				require.NoError(t, err, actor.Role)
				assert.Same(t, replaced, got)
			})
		}
	}
}

func TestReplaceProduct_AnotherSellersActiveProductIsForbidden(t *testing.T) {
	cat := newCatalog(t) // no Replace
	cat.EXPECT().Get(gomock.Any(), "p1", otherSeller).Return(prod("p1", true), nil)
	_, err := products.NewReplaceProduct(cat).Handle(context.Background(), products.ReplaceProductInput{Actor: otherSeller, ID: "p1", Draft: draft()})
	assertForbidden(t, err)
}

func TestReplaceProduct_AnotherSellersInactiveProductIsNotFound(t *testing.T) {
	cat := newCatalog(t) // no Replace
	cat.EXPECT().Get(gomock.Any(), "p1", otherSeller).Return(prod("p1", false), nil)
	_, err := products.NewReplaceProduct(cat).Handle(context.Background(), products.ReplaceProductInput{Actor: otherSeller, ID: "p1", Draft: draft()})
	assert.ErrorIs(t, err, product.ErrNotFound)
}

func TestReplaceProduct_ForbiddenBeforeAnyLookup(t *testing.T) {
	for _, tc := range []struct {
		name     string
		actor    user.Actor
		sellerID string
	}{{"anonymous", anonymous, ""}, {"customer", customer, ""}, {"seller naming another seller", seller, otherSellerID}} {
		t.Run(tc.name, func(t *testing.T) {
			cat := newCatalog(t) // no Get, no Replace
			d := draft()
			d.SellerID = tc.sellerID
			_, err := products.NewReplaceProduct(cat).Handle(context.Background(), products.ReplaceProductInput{Actor: tc.actor, ID: "p1", Draft: d})
			assertForbidden(t, err, tc.actor.Role)
		})
	}
}

func TestReplaceProduct_SellerCannotChange(t *testing.T) {
	cat := newCatalog(t) // no Replace
	cat.EXPECT().Get(gomock.Any(), "p1", admin).Return(prod("p1", true), nil)
	d := draft()
	d.SellerID = otherSellerID
	_, err := products.NewReplaceProduct(cat).Handle(context.Background(), products.ReplaceProductInput{Actor: admin, ID: "p1", Draft: d})
	assert.Equal(t, []string{"seller_id"}, testsupport.FieldsOf(t, err))
}

func TestReplaceProduct_InvalidDraft(t *testing.T) {
	cat := newCatalog(t) // no Replace
	cat.EXPECT().Get(gomock.Any(), "p1", seller).Return(prod("p1", true), nil)
	d := draft()
	d.Category = ""
	_, err := products.NewReplaceProduct(cat).Handle(context.Background(), products.ReplaceProductInput{Actor: seller, ID: "p1", Draft: d})
	assert.Equal(t, []string{"category"}, testsupport.FieldsOf(t, err))
}

func TestReplaceProduct_UnknownProduct(t *testing.T) {
	cat := newCatalog(t)
	cat.EXPECT().Get(gomock.Any(), "p404", admin).Return(nil, product.ErrNotFound)
	_, err := products.NewReplaceProduct(cat).Handle(context.Background(), products.ReplaceProductInput{Actor: admin, ID: "p404", Draft: draft()})
	assert.ErrorIs(t, err, product.ErrNotFound)
}

// --- DeleteProduct ---

func TestDeleteProduct_AdminsOnly(t *testing.T) {
	for _, actor := range []user.Actor{admin, superAdmin} {
		t.Run(string(actor.Role), func(t *testing.T) {
			cat := newCatalog(t)
			cat.EXPECT().Delete(gomock.Any(), "p1", actor).Return(nil)
			require.NoError(t, products.NewDeleteProduct(cat).Handle(context.Background(), products.DeleteProductInput{Actor: actor, ID: "p1"}))
		})
	}
	for _, actor := range []user.Actor{anonymous, customer, seller} {
		t.Run(fmt.Sprintf("refused %q", actor.Role), func(t *testing.T) {
			cat := newCatalog(t) // no Delete
			err := products.NewDeleteProduct(cat).Handle(context.Background(), products.DeleteProductInput{Actor: actor, ID: "p1"})
			assertForbidden(t, err, actor.Role)
		})
	}
}

func TestDeleteProduct_UnknownProduct(t *testing.T) {
	cat := newCatalog(t)
	cat.EXPECT().Delete(gomock.Any(), "p404", admin).Return(product.ErrNotFound)
	err := products.NewDeleteProduct(cat).Handle(context.Background(), products.DeleteProductInput{Actor: admin, ID: "p404"})
	assert.ErrorIs(t, err, product.ErrNotFound)
}
