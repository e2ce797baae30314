package product_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/test/testsupport"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func validDraft() product.Draft {
	return product.Draft{
		Name: "Phone", Description: "A phone", Category: "electronics", SellerID: "seller-1",
		Price: 500000, Stock: 10, Active: true,
	}
}

func TestErrors(t *testing.T) {
	assert.ErrorIs(t, product.ErrNotFound, domain.ErrNotFound)
	assert.ErrorIs(t, product.ErrInactive, domain.ErrValidation)
	assert.ErrorIs(t, product.ErrInsufficientStock, domain.ErrConflict)

	err := fmt.Errorf("reserve: %w", &product.InsufficientStockError{ProductID: "p9"})
	assert.ErrorIs(t, err, product.ErrInsufficientStock)
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.False(t, errors.Is(err, domain.ErrValidation))
	var ise *product.InsufficientStockError
	require.ErrorAs(t, err, &ise)
	assert.Equal(t, "p9", ise.ProductID)
	assert.Contains(t, err.Error(), "p9")
}

func TestNew(t *testing.T) {
	d := validDraft()
	d.Name, d.Category, d.Description = "  Phone  ", " electronics ", "  A phone \n"
	p, err := product.New("p1", d, t0)
	require.NoError(t, err)
	assert.Equal(t, "p1", p.ID())
	assert.Equal(t, "Phone", p.Name())
	assert.Equal(t, "A phone", p.Description())
	assert.Equal(t, "electronics", p.Category())
	assert.Equal(t, "seller-1", p.SellerID())
	assert.Equal(t, money.MustTiyin(500000), p.Price())
	assert.Equal(t, int64(10), p.Stock())
	assert.True(t, p.Active())
	assert.Equal(t, t0, p.CreatedAt())
	assert.Equal(t, t0, p.UpdatedAt())
}

func TestDraftValidationBoundaries(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*product.Draft)
		field string // "" = valid
	}{
		{"name empty", func(d *product.Draft) { d.Name = "" }, "name"},
		{"name blank", func(d *product.Draft) { d.Name = "   " }, "name"},
		{"name 1", func(d *product.Draft) { d.Name = "x" }, ""},
		{"name 200 chars multibyte", func(d *product.Draft) { d.Name = strings.Repeat("ю", 200) }, ""},
		{"name 201", func(d *product.Draft) { d.Name = strings.Repeat("n", 201) }, "name"},
		{"description empty", func(d *product.Draft) { d.Description = "" }, ""},
		{"description 5000 multibyte", func(d *product.Draft) { d.Description = strings.Repeat("д", 5000) }, ""},
		{"description 5001", func(d *product.Draft) { d.Description = strings.Repeat("d", 5001) }, "description"},
		{"category empty", func(d *product.Draft) { d.Category = "" }, "category"},
		{"category blank", func(d *product.Draft) { d.Category = " \t" }, "category"},
		{"category 1", func(d *product.Draft) { d.Category = "c" }, ""},
		{"category 100", func(d *product.Draft) { d.Category = strings.Repeat("к", 100) }, ""},
		{"category 101", func(d *product.Draft) { d.Category = strings.Repeat("c", 101) }, "category"},
		{"price -1", func(d *product.Draft) { d.Price = -1 }, "price"},
		{"price 0", func(d *product.Draft) { d.Price = 0 }, "price"},
		{"price 1", func(d *product.Draft) { d.Price = 1 }, ""},
		{"price 1e12", func(d *product.Draft) { d.Price = 1_000_000_000_000 }, ""},
		{"price 1e12+1", func(d *product.Draft) { d.Price = 1_000_000_000_001 }, "price"},
		{"stock -1", func(d *product.Draft) { d.Stock = -1 }, "stock"},
		{"stock 0", func(d *product.Draft) { d.Stock = 0 }, ""},
		{"stock 1e6", func(d *product.Draft) { d.Stock = 1_000_000 }, ""},
		{"stock 1e6+1", func(d *product.Draft) { d.Stock = 1_000_001 }, "stock"},
		{"inactive", func(d *product.Draft) { d.Active = false }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := validDraft()
			c.edit(&d)
			p, err := product.New("p", d, t0)
			existing, rerr := product.New("p", validDraft(), t0)
			require.NoError(t, rerr)
			replaceErr := existing.Replace(d, t0.Add(time.Hour))
			if c.field == "" {
				require.NoError(t, err)
				require.NoError(t, replaceErr)
				assert.Equal(t, d.Stock, p.Stock())
				assert.Equal(t, d.Price, p.Price().Tiyin())
				assert.Equal(t, d.Active, p.Active())
				return
			}
			assert.Nil(t, p)
			assert.ErrorIs(t, err, domain.ErrValidation)
			assert.Equal(t, []string{c.field}, testsupport.FieldsOf(t, err))
			assert.Equal(t, []string{c.field}, testsupport.FieldsOf(t, replaceErr))
			assert.Equal(t, "Phone", existing.Name(), "failed Replace changes nothing")
			assert.Equal(t, t0, existing.UpdatedAt())
		})
	}
}

func TestNewReportsEveryField(t *testing.T) {
	_, err := product.New("p", product.Draft{Price: 0, Stock: -1, Description: strings.Repeat("x", 5001)}, t0)
	assert.ElementsMatch(t, []string{"name", "description", "category", "price", "stock"}, testsupport.FieldsOf(t, err))
}

func TestReplace(t *testing.T) {
	p, err := product.New("p", validDraft(), t0)
	require.NoError(t, err)
	t1 := t0.Add(time.Hour)
	require.NoError(t, p.Replace(product.Draft{
		Name: " New ", Description: "", Category: "books", SellerID: "someone-else",
		Price: 1, Stock: 0, Active: false,
	}, t1))
	assert.Equal(t, "New", p.Name())
	assert.Equal(t, "", p.Description())
	assert.Equal(t, "books", p.Category())
	assert.Equal(t, "seller-1", p.SellerID(), "seller never changes")
	assert.Equal(t, int64(1), p.Price().Tiyin())
	assert.Equal(t, int64(0), p.Stock())
	assert.False(t, p.Active())
	assert.Equal(t, t0, p.CreatedAt())
	assert.Equal(t, t1, p.UpdatedAt())
}

func TestRestore(t *testing.T) {
	t1 := t0.Add(time.Hour)
	p := product.Restore("p", "n", "d", "c", "s", money.MustTiyin(7), 3, false, t0, t1)
	assert.Equal(t, "p", p.ID())
	assert.Equal(t, "n", p.Name())
	assert.Equal(t, "d", p.Description())
	assert.Equal(t, "c", p.Category())
	assert.Equal(t, "s", p.SellerID())
	assert.Equal(t, int64(7), p.Price().Tiyin())
	assert.Equal(t, int64(3), p.Stock())
	assert.False(t, p.Active())
	assert.Equal(t, t0, p.CreatedAt())
	assert.Equal(t, t1, p.UpdatedAt())
}

func TestVisibleTo(t *testing.T) {
	cases := []struct {
		active  bool
		userID  string
		isAdmin bool
		want    bool
	}{
		{true, "", false, true},
		{true, "other", false, true},
		{true, "seller-1", false, true},
		{true, "other", true, true},
		{false, "", false, false},
		{false, "other", false, false},
		{false, "seller-1", false, true},
		{false, "other", true, true},
		{false, "", true, true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			p := product.Restore("p", "n", "", "c", "seller-1", money.MustTiyin(1), 1, c.active, t0, t0)
			assert.Equal(t, c.want, p.VisibleTo(c.userID, c.isAdmin), "%+v", c)
		})
	}
	// A product without a seller is not visible to an anonymous user through an empty id match.
	orphan := product.Restore("p", "n", "", "c", "", money.MustTiyin(1), 1, false, t0, t0)
	assert.False(t, orphan.VisibleTo("", false))
}
