// Package contract holds the behaviour every implementation of a port must
// have, as test suites each adapter's tests run against itself (STYLE.md: one
// contract suite per port, run against every adapter of it).
package contract

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/requestid"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testsupport"
)

// Fixture is one fresh, empty catalog for one subtest.
type Fixture struct {
	Catalog ports.Catalog
}

// NewClock is a clock that moves one second forward at every reading,
// starting at 2025-03-01 10:00:00 UTC, so products created one after another
// have distinct, ordered timestamps without sleeping. Give one to the
// catalog under test (the built-in one's clock, the fake upstream's
// WithClock).
func NewClock() *testsupport.Clock {
	return testsupport.NewStepClock(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), time.Second)
}

// RunCatalogSuite runs the ports.Catalog contract against the catalogs
// newCatalog makes: one fresh, empty catalog per subtest.
func RunCatalogSuite(t *testing.T, newCatalog func(t *testing.T) Fixture) {
	cases := []struct {
		name string
		run  func(t *testing.T, s *suite)
	}{
		{"CreateGetRoundTrip", testCreateGetRoundTrip},
		{"CreateRejectsBadDraft", testCreateRejectsBadDraft},
		{"FiscalIdentityRoundTrip", testFiscalIdentityRoundTrip},
		{"Replace", testReplace},
		{"GetUnknown", testGetUnknown},
		{"GetOnlyByAnID", testGetOnlyByAnID},
		{"ListFiltersAndVisibility", testListFilters},
		{"ListQIsLiteralSubstring", testListQLiteral},
		{"ListPagination", testListPagination},
		{"SoftDelete", testSoftDelete},
		{"Lookup", testLookup},
		{"ReserveAndReleaseOnce", testReserveRelease},
		{"ReserveAllOrNothing", testReserveAllOrNothing},
		{"ReserveUnavailableProducts", testReserveUnavailable},
		{"ReserveBadInput", testReserveBadInput},
		{"ReserveTwiceForOneOrder", testReserveTwice},
		{"ReserveMergesRepeatedLines", testReserveMerges},
		{"ConcurrentReservationsOfTheLastItems", testConcurrentReservations},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, &suite{t: t, cat: newCatalog(t).Catalog})
		})
	}
}

// Who the suite speaks as. Catalogs must not depend on them for the results
// checked here: visibility is the query's business.
var (
	sellerA = uuid.NewString()
	sellerB = uuid.NewString()
	admin   = user.Actor{ID: uuid.NewString(), Role: user.RoleAdmin}
)

type suite struct {
	t   *testing.T
	cat ports.Catalog
}

func (s *suite) ctx() context.Context {
	ctx, cancel := context.WithTimeout(requestid.NewContext(context.Background(), "contract-suite"), 30*time.Second)
	s.t.Cleanup(cancel)
	return ctx
}

func draft(name, category, seller string, stock int64, active bool) product.Draft {
	return product.Draft{
		Name: name, Description: "about " + name, Category: category, SellerID: seller,
		Price: 1_250_000, Stock: stock, Active: active,
	}
}

func (s *suite) create(d product.Draft) *product.Product {
	s.t.Helper()
	p, err := s.cat.Create(s.ctx(), d, admin)
	require.NoError(s.t, err, "create %q", d.Name)
	return p
}

func (s *suite) stock(id string) int64 {
	s.t.Helper()
	p, err := s.cat.Get(s.ctx(), id, admin)
	require.NoError(s.t, err)
	return p.Stock()
}

func (s *suite) list(q ports.ProductQuery) ([]string, int) {
	s.t.Helper()
	page, err := s.cat.List(s.ctx(), q, admin)
	require.NoError(s.t, err, "list %+v", q)
	require.NotNil(s.t, page.Items, "an empty page is [], not nil")
	names := make([]string, 0, len(page.Items))
	for _, p := range page.Items {
		names = append(names, p.Name())
	}
	return names, page.Total
}

func assertSameProduct(t *testing.T, want, got *product.Product) {
	t.Helper()
	assert.Equal(t, want.ID(), got.ID(), "id")
	assert.Equal(t, want.Name(), got.Name(), "name")
	assert.Equal(t, want.Description(), got.Description(), "description")
	assert.Equal(t, want.Category(), got.Category(), "category")
	assert.Equal(t, want.SellerID(), got.SellerID(), "seller_id")
	assert.Equal(t, want.Price(), got.Price(), "price")
	assert.Equal(t, want.Stock(), got.Stock(), "stock")
	assert.Equal(t, want.Active(), got.Active(), "active")
	assert.True(t, want.CreatedAt().Equal(got.CreatedAt()), "created_at %v != %v", want.CreatedAt(), got.CreatedAt())
	assert.True(t, want.UpdatedAt().Equal(got.UpdatedAt()), "updated_at %v != %v", want.UpdatedAt(), got.UpdatedAt())
	assert.Equal(t, want.Fiscal(), got.Fiscal(), "fiscal identity")
}

// testFiscalIdentityRoundTrip: the codes and VAT rate are stored, read back
// and replaced; a product without them has none and 12 %.
func testFiscalIdentityRoundTrip(t *testing.T, s *suite) {
	code, pkg, unit, zero := "08517001001000000", "1500539", int64(796), 0
	d := draft("Phone", "phones", sellerA, 3, true)
	d.Fiscal = fiscal.IdentityDraft{IKPUCode: &code, PackageCode: &pkg, UnitCode: &unit, VATPercent: &zero}
	created, err := s.cat.Create(s.ctx(), d, admin)
	require.NoError(t, err)
	f := created.Fiscal()
	assert.Equal(t, code, f.IKPUCode())
	assert.Equal(t, pkg, f.PackageCode())
	assert.Equal(t, 796, f.UnitCode())
	assert.Equal(t, 0, f.VATPercent())
	got, err := s.cat.Get(s.ctx(), created.ID(), admin)
	require.NoError(t, err)
	assertSameProduct(t, created, got)

	d.Fiscal = fiscal.IdentityDraft{}
	replaced, err := s.cat.Replace(s.ctx(), created.ID(), d, admin)
	require.NoError(t, err)
	assert.False(t, replaced.Fiscal().Complete(), "PUT replaces the codes too")
	assert.Equal(t, 12, replaced.Fiscal().VATPercent())
	looked, err := s.cat.Lookup(s.ctx(), []string{created.ID()}, admin)
	require.NoError(t, err)
	require.Len(t, looked, 1)
	assert.Equal(t, replaced.Fiscal(), looked[0].Fiscal())

	bad := "123"
	d.Fiscal = fiscal.IdentityDraft{IKPUCode: &bad}
	_, err = s.cat.Create(s.ctx(), d, admin)
	require.ErrorIs(t, err, domain.ErrValidation)
	assert.Equal(t, []string{"ikpu_code"}, testsupport.FieldsOf(t, err))
}

func testCreateGetRoundTrip(t *testing.T, s *suite) {
	for _, active := range []bool{true, false} {
		d := product.Draft{
			Name: "  Rishton lagan  ", Description: " Hand-painted ceramic plate, 32 cm ", Category: " ceramics ",
			SellerID: sellerA, Price: 15_000_050, Stock: 7, Active: active,
		}
		created, err := s.cat.Create(s.ctx(), d, admin)
		require.NoError(t, err)

		_, err = uuid.Parse(created.ID())
		assert.NoError(t, err, "ids are UUIDs")
		assert.Equal(t, "Rishton lagan", created.Name(), "trimmed by the domain")
		assert.Equal(t, "Hand-painted ceramic plate, 32 cm", created.Description())
		assert.Equal(t, "ceramics", created.Category())
		assert.Equal(t, sellerA, created.SellerID())
		assert.Equal(t, int64(15_000_050), created.Price().Tiyin())
		assert.Equal(t, int64(7), created.Stock())
		assert.Equal(t, active, created.Active())
		assert.False(t, created.CreatedAt().IsZero())
		assert.True(t, created.CreatedAt().Equal(created.UpdatedAt()))
		assert.Equal(t, time.UTC, created.CreatedAt().Location(), "times are UTC")

		got, err := s.cat.Get(s.ctx(), created.ID(), admin)
		require.NoError(t, err, "an inactive product is still found by id")
		assertSameProduct(t, created, got)
	}
}

func testCreateRejectsBadDraft(t *testing.T, s *suite) {
	_, err := s.cat.Create(s.ctx(), product.Draft{Name: " ", Category: "c", SellerID: sellerA, Price: 0, Stock: -1}, admin)
	require.ErrorIs(t, err, domain.ErrValidation)
	assert.ElementsMatch(t, []string{"name", "price", "stock"}, testsupport.FieldsOf(t, err))

	_, err = s.cat.Create(s.ctx(), draft("No seller", "c", "", 1, true), admin)
	require.ErrorIs(t, err, domain.ErrValidation)
	assert.Contains(t, testsupport.FieldsOf(t, err), "seller_id")

	names, total := s.list(ports.ProductQuery{IncludeInactive: true})
	assert.Empty(t, names, "nothing stored")
	assert.Zero(t, total)
}

func testReplace(t *testing.T, s *suite) {
	p := s.create(draft("Choynak", "kitchen", sellerA, 5, true))
	edited, err := s.cat.Replace(s.ctx(), p.ID(), product.Draft{
		Name: "Choynak XL", Description: "", Category: "tea", SellerID: sellerB,
		Price: 99, Stock: 0, Active: false,
	}, admin)
	require.NoError(t, err)
	assert.Equal(t, p.ID(), edited.ID())
	assert.Equal(t, "Choynak XL", edited.Name())
	assert.Equal(t, "", edited.Description())
	assert.Equal(t, "tea", edited.Category())
	assert.Equal(t, sellerA, edited.SellerID(), "the seller never changes")
	assert.Equal(t, int64(99), edited.Price().Tiyin())
	assert.Equal(t, int64(0), edited.Stock())
	assert.False(t, edited.Active())
	assert.True(t, p.CreatedAt().Equal(edited.CreatedAt()), "created_at kept")
	assert.True(t, edited.UpdatedAt().After(p.UpdatedAt()), "updated_at moves")

	got, err := s.cat.Get(s.ctx(), p.ID(), admin)
	require.NoError(t, err)
	assertSameProduct(t, edited, got)

	_, err = s.cat.Replace(s.ctx(), p.ID(), product.Draft{Name: "", Category: "tea", Price: 1, SellerID: sellerA}, admin)
	require.ErrorIs(t, err, domain.ErrValidation)
	assert.Equal(t, []string{"name"}, testsupport.FieldsOf(t, err))
	got, err = s.cat.Get(s.ctx(), p.ID(), admin)
	require.NoError(t, err)
	assertSameProduct(t, edited, got) // a refused replace changes nothing

	_, err = s.cat.Replace(s.ctx(), uuid.NewString(), draft("x", "c", sellerA, 1, true), admin)
	assert.ErrorIs(t, err, product.ErrNotFound)
	_, err = s.cat.Replace(s.ctx(), "not-a-uuid", draft("x", "c", sellerA, 1, true), admin)
	assert.ErrorIs(t, err, product.ErrNotFound)
}

func testGetUnknown(t *testing.T, s *suite) {
	for _, id := range []string{uuid.NewString(), "not-a-uuid", "", "../reservations"} {
		p, err := s.cat.Get(s.ctx(), id, admin)
		assert.ErrorIs(t, err, product.ErrNotFound, "id %q", id)
		assert.ErrorIs(t, err, domain.ErrNotFound, "id %q", id)
		assert.Nil(t, p)
	}
}

// testGetOnlyByAnID: what counts as an id is domain.IsID's decision, in
// both catalogs: its upper-case spelling is the same id, while the other
// spellings a UUID parser would take (braces, urn:, no dashes) name nothing.
func testGetOnlyByAnID(t *testing.T, s *suite) {
	p := s.create(draft("Beshik", "home", sellerA, 1, true))
	got, err := s.cat.Get(s.ctx(), strings.ToUpper(p.ID()), admin)
	require.NoError(t, err)
	assert.Equal(t, p.ID(), got.ID())

	for _, id := range []string{"{" + p.ID() + "}", "urn:uuid:" + p.ID(), strings.ReplaceAll(p.ID(), "-", "")} {
		got, err := s.cat.Get(s.ctx(), id, admin)
		assert.ErrorIs(t, err, product.ErrNotFound, "id %q", id)
		assert.Nil(t, got, "id %q", id)
	}
}

func testListFilters(t *testing.T, s *suite) {
	// Created in this order, so newest first is the reverse.
	s.create(product.Draft{Name: "Red phone", Description: "smart", Category: "Electronics", SellerID: sellerA, Price: 1, Stock: 1, Active: true})
	s.create(product.Draft{Name: "Case", Description: "fits any PHONE", Category: "accessories", SellerID: sellerA, Price: 1, Stock: 1, Active: true})
	s.create(product.Draft{Name: "Green tea", Description: "loose leaf", Category: "food", SellerID: sellerB, Price: 1, Stock: 0, Active: true})
	s.create(product.Draft{Name: "Hidden phone", Description: "", Category: "electronics", SellerID: sellerB, Price: 1, Stock: 1, Active: false})
	s.create(product.Draft{Name: "Draft of A", Description: "", Category: "electronics", SellerID: sellerA, Price: 1, Stock: 1, Active: false})
	gone := s.create(product.Draft{Name: "Lost phone", Description: "", Category: "electronics", SellerID: sellerB, Price: 1, Stock: 1, Active: true})
	require.NoError(t, s.cat.Delete(s.ctx(), gone.ID(), admin))

	cases := []struct {
		name  string
		q     ports.ProductQuery
		want  []string
		total int
	}{
		{"active only, newest first", ports.ProductQuery{}, []string{"Green tea", "Case", "Red phone"}, 3},
		{"q matches name or description, any case", ports.ProductQuery{Q: "PhOnE"}, []string{"Case", "Red phone"}, 2},
		{"q is trimmed", ports.ProductQuery{Q: "  tea "}, []string{"Green tea"}, 1},
		{"category exact, any case", ports.ProductQuery{Category: "ELECTRONICS"}, []string{"Red phone"}, 1},
		{"category is not a substring match", ports.ProductQuery{Category: "electro"}, []string{}, 0},
		{"seller", ports.ProductQuery{SellerID: sellerB}, []string{"Green tea"}, 1},
		{"unknown seller", ports.ProductQuery{SellerID: uuid.NewString()}, []string{}, 0},
		{"seller not a uuid", ports.ProductQuery{SellerID: "nobody"}, []string{}, 0},
		{"admin sees inactive", ports.ProductQuery{IncludeInactive: true},
			[]string{"Draft of A", "Hidden phone", "Green tea", "Case", "Red phone"}, 5},
		{"a seller sees their own inactive", ports.ProductQuery{InactiveOfSeller: sellerB},
			[]string{"Hidden phone", "Green tea", "Case", "Red phone"}, 4},
		{"but not another's", ports.ProductQuery{InactiveOfSeller: sellerA, SellerID: sellerB}, []string{"Green tea"}, 1},
		{"filters combine", ports.ProductQuery{Q: "phone", Category: "electronics", InactiveOfSeller: sellerB},
			[]string{"Hidden phone", "Red phone"}, 2},
		{"q with no match", ports.ProductQuery{Q: "zzz"}, []string{}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			names, total := s.list(c.q)
			assert.Equal(t, c.want, names)
			assert.Equal(t, c.total, total)
		})
	}
}

func testListQLiteral(t *testing.T, s *suite) {
	s.create(draft("100% cotton", "textile", sellerA, 1, true))
	s.create(draft("1000 cotton buds", "textile", sellerA, 1, true))
	s.create(draft("snake_case mug", "kitchen", sellerA, 1, true))
	s.create(draft("snakeXcase mug", "kitchen", sellerA, 1, true))

	names, total := s.list(ports.ProductQuery{Q: "0%"})
	assert.Equal(t, []string{"100% cotton"}, names, "%% is not a wildcard")
	assert.Equal(t, 1, total)
	names, _ = s.list(ports.ProductQuery{Q: "e_c"})
	assert.Equal(t, []string{"snake_case mug"}, names, "_ is not a wildcard")
}

func testListPagination(t *testing.T, s *suite) {
	for i := 1; i <= 5; i++ {
		s.create(draft(fmt.Sprintf("P%d", i), "c", sellerA, 1, true))
	}
	s.create(draft("Inactive", "c", sellerA, 1, false))

	pages := []struct {
		page, size int
		want       []string
	}{
		{1, 2, []string{"P5", "P4"}},
		{2, 2, []string{"P3", "P2"}},
		{3, 2, []string{"P1"}},
		{4, 2, []string{}},
		{1, 100, []string{"P5", "P4", "P3", "P2", "P1"}},
		{0, 0, []string{"P5", "P4", "P3", "P2", "P1"}}, // zero values: page 1 of the default size
	}
	for _, p := range pages {
		names, total := s.list(ports.ProductQuery{Page: p.page, PageSize: p.size})
		assert.Equal(t, p.want, names, "page %d size %d", p.page, p.size)
		assert.Equal(t, 5, total, "total counts every match, not the page")
	}
}

func testSoftDelete(t *testing.T, s *suite) {
	keep := s.create(draft("Keep", "c", sellerA, 3, true))
	gone := s.create(draft("Gone", "c", sellerA, 3, true))
	require.NoError(t, s.cat.Delete(s.ctx(), gone.ID(), admin))

	_, err := s.cat.Get(s.ctx(), gone.ID(), admin)
	assert.ErrorIs(t, err, product.ErrNotFound)
	names, total := s.list(ports.ProductQuery{IncludeInactive: true})
	assert.Equal(t, []string{"Keep"}, names)
	assert.Equal(t, 1, total)
	found, err := s.cat.Lookup(s.ctx(), []string{gone.ID(), keep.ID()}, admin)
	require.NoError(t, err)
	require.Len(t, found, 1)
	assert.Equal(t, keep.ID(), found[0].ID())

	assert.ErrorIs(t, s.cat.Delete(s.ctx(), gone.ID(), admin), product.ErrNotFound, "deleting twice")
	assert.ErrorIs(t, s.cat.Delete(s.ctx(), uuid.NewString(), admin), product.ErrNotFound)
	assert.ErrorIs(t, s.cat.Delete(s.ctx(), "nope", admin), product.ErrNotFound)
	_, err = s.cat.Replace(s.ctx(), gone.ID(), draft("Back", "c", sellerA, 1, true), admin)
	assert.ErrorIs(t, err, product.ErrNotFound, "a deleted product cannot be edited back")
}

func testLookup(t *testing.T, s *suite) {
	a := s.create(draft("A", "c", sellerA, 1, true))
	b := s.create(draft("B", "c", sellerB, 0, false))

	found, err := s.cat.Lookup(s.ctx(), []string{uuid.NewString(), b.ID(), "garbage", a.ID(), a.ID()}, admin)
	require.NoError(t, err)
	byID := map[string]*product.Product{}
	for _, p := range found {
		byID[p.ID()] = p
	}
	assert.Len(t, byID, 2, "unknown and non-UUID ids are skipped; inactive products are returned")
	require.Contains(t, byID, a.ID())
	require.Contains(t, byID, b.ID())
	assertSameProduct(t, a, byID[a.ID()])
	assertSameProduct(t, b, byID[b.ID()])

	for _, ids := range [][]string{nil, {}, {"x"}, {uuid.NewString()}} {
		found, err := s.cat.Lookup(s.ctx(), ids, admin)
		require.NoError(t, err)
		assert.NotNil(t, found)
		assert.Empty(t, found)
	}
}

func testReserveRelease(t *testing.T, s *suite) {
	a := s.create(draft("A", "c", sellerA, 10, true))
	b := s.create(draft("B", "c", sellerA, 5, true))
	order := uuid.NewString()

	require.NoError(t, s.cat.Reserve(s.ctx(), order, []ports.ReservationItem{
		{ProductID: a.ID(), Quantity: 3}, {ProductID: b.ID(), Quantity: 5},
	}, admin))
	assert.Equal(t, int64(7), s.stock(a.ID()))
	assert.Equal(t, int64(0), s.stock(b.ID()), "reserving the last items is fine")

	require.NoError(t, s.cat.Release(s.ctx(), order, admin))
	assert.Equal(t, int64(10), s.stock(a.ID()))
	assert.Equal(t, int64(5), s.stock(b.ID()))

	require.NoError(t, s.cat.Release(s.ctx(), order, admin), "releasing twice is not an error")
	assert.Equal(t, int64(10), s.stock(a.ID()), "and gives nothing back twice")
	assert.Equal(t, int64(5), s.stock(b.ID()))

	require.NoError(t, s.cat.Release(s.ctx(), uuid.NewString(), admin), "an order that holds nothing")
	require.NoError(t, s.cat.Release(s.ctx(), "not-a-uuid", admin))

	// The released stock can be reserved again.
	require.NoError(t, s.cat.Reserve(s.ctx(), uuid.NewString(), []ports.ReservationItem{{ProductID: b.ID(), Quantity: 5}}, admin))
	assert.Equal(t, int64(0), s.stock(b.ID()))
}

func testReserveAllOrNothing(t *testing.T, s *suite) {
	a := s.create(draft("A", "c", sellerA, 5, true))
	b := s.create(draft("B", "c", sellerA, 1, true))
	c := s.create(draft("C", "c", sellerA, 9, true))
	order := uuid.NewString()

	err := s.cat.Reserve(s.ctx(), order, []ports.ReservationItem{
		{ProductID: a.ID(), Quantity: 2}, {ProductID: b.ID(), Quantity: 2}, {ProductID: c.ID(), Quantity: 1},
	}, admin)
	require.ErrorIs(t, err, product.ErrInsufficientStock)
	assert.ErrorIs(t, err, domain.ErrConflict)
	var ise *product.InsufficientStockError
	require.ErrorAs(t, err, &ise)
	assert.Equal(t, b.ID(), ise.ProductID, "names the product that ran short")

	assert.Equal(t, int64(5), s.stock(a.ID()), "nothing was taken")
	assert.Equal(t, int64(1), s.stock(b.ID()))
	assert.Equal(t, int64(9), s.stock(c.ID()))

	require.NoError(t, s.cat.Release(s.ctx(), order, admin), "a refused order holds nothing")
	assert.Equal(t, int64(5), s.stock(a.ID()))
	assert.Equal(t, int64(9), s.stock(c.ID()))
}

func testReserveUnavailable(t *testing.T, s *suite) {
	ok := s.create(draft("OK", "c", sellerA, 5, true))
	inactive := s.create(draft("Off", "c", sellerA, 5, false))
	deleted := s.create(draft("Gone", "c", sellerA, 5, true))
	require.NoError(t, s.cat.Delete(s.ctx(), deleted.ID(), admin))

	cases := []struct {
		name string
		id   string
		want error
	}{
		{"unknown", uuid.NewString(), product.ErrNotFound},
		{"not a uuid", "nope", product.ErrNotFound},
		{"deleted", deleted.ID(), product.ErrNotFound},
		{"inactive", inactive.ID(), domain.ErrValidation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.cat.Reserve(s.ctx(), uuid.NewString(), []ports.ReservationItem{
				{ProductID: ok.ID(), Quantity: 1}, {ProductID: c.id, Quantity: 1},
			}, admin)
			assert.ErrorIs(t, err, c.want, c.name)
			assert.False(t, errors.Is(err, product.ErrInsufficientStock), c.name)
			assert.Equal(t, int64(5), s.stock(ok.ID()), "%s: nothing taken", c.name)
		})
	}
	assert.Equal(t, int64(5), s.stock(inactive.ID()))
}

func testReserveBadInput(t *testing.T, s *suite) {
	p := s.create(draft("P", "c", sellerA, 5, true))
	cases := []struct {
		name  string
		order string
		items []ports.ReservationItem
	}{
		{"no items", uuid.NewString(), nil},
		{"zero quantity", uuid.NewString(), []ports.ReservationItem{{ProductID: p.ID(), Quantity: 0}}},
		{"negative quantity", uuid.NewString(), []ports.ReservationItem{{ProductID: p.ID(), Quantity: -2}}},
		{"order id not a uuid", "order-1", []ports.ReservationItem{{ProductID: p.ID(), Quantity: 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.cat.Reserve(s.ctx(), c.order, c.items, admin)
			assert.ErrorIs(t, err, domain.ErrValidation, c.name)
		})
	}
	assert.Equal(t, int64(5), s.stock(p.ID()))
}

func testReserveTwice(t *testing.T, s *suite) {
	p := s.create(draft("P", "c", sellerA, 5, true))
	order := uuid.NewString()
	items := []ports.ReservationItem{{ProductID: p.ID(), Quantity: 2}}
	require.NoError(t, s.cat.Reserve(s.ctx(), order, items, admin))

	err := s.cat.Reserve(s.ctx(), order, items, admin)
	assert.ErrorIs(t, err, domain.ErrConflict, "an order holds one reservation")
	assert.False(t, errors.Is(err, product.ErrInsufficientStock))
	assert.Equal(t, int64(3), s.stock(p.ID()), "taken once")
	other := s.create(draft("Other", "c", sellerA, 5, true))
	err = s.cat.Reserve(s.ctx(), order, []ports.ReservationItem{{ProductID: other.ID(), Quantity: 1}}, admin)
	assert.ErrorIs(t, err, domain.ErrConflict, "even for other products")
	assert.Equal(t, int64(5), s.stock(other.ID()))

	require.NoError(t, s.cat.Release(s.ctx(), order, admin))
	assert.Equal(t, int64(5), s.stock(p.ID()))
}

func testReserveMerges(t *testing.T, s *suite) {
	p := s.create(draft("P", "c", sellerA, 5, true))
	order := uuid.NewString()
	err := s.cat.Reserve(s.ctx(), order, []ports.ReservationItem{
		{ProductID: p.ID(), Quantity: 3}, {ProductID: p.ID(), Quantity: 3},
	}, admin)
	var ise *product.InsufficientStockError
	require.ErrorAs(t, err, &ise, "3+3 of 5")
	assert.Equal(t, p.ID(), ise.ProductID)

	require.NoError(t, s.cat.Reserve(s.ctx(), order, []ports.ReservationItem{
		{ProductID: p.ID(), Quantity: 2}, {ProductID: p.ID(), Quantity: 3},
	}, admin))
	assert.Equal(t, int64(0), s.stock(p.ID()))
	require.NoError(t, s.cat.Release(s.ctx(), order, admin))
	assert.Equal(t, int64(5), s.stock(p.ID()))
}

func testConcurrentReservations(t *testing.T, s *suite) {
	const buyers, left = 20, 5
	p := s.create(draft("Last few", "c", sellerA, left, true))
	other := s.create(draft("Plenty", "c", sellerA, 1000, true))

	var wins, short atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, buyers)
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Half the orders name the products in the other order: no deadlock either way.
			items := []ports.ReservationItem{{ProductID: other.ID(), Quantity: 1}, {ProductID: p.ID(), Quantity: 1}}
			if i%2 == 1 {
				items[0], items[1] = items[1], items[0]
			}
			err := s.cat.Reserve(context.Background(), uuid.NewString(), items, admin)
			var ise *product.InsufficientStockError
			switch {
			case err == nil:
				wins.Add(1)
			case errors.As(err, &ise) && ise.ProductID == p.ID():
				short.Add(1)
			default:
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected reservation error: %v", err)
	}
	assert.Equal(t, int32(left), wins.Load(), "exactly the items left are sold")
	assert.Equal(t, int32(buyers-left), short.Load())
	assert.Equal(t, int64(0), s.stock(p.ID()))
	assert.Equal(t, int64(1000-left), s.stock(other.ID()), "refused orders took nothing of the other product")
}
