package postgres_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/test/testenv"
)

func strPtr(s string) *string { return &s }

// The order lines' fiscal snapshots are stored and read back as taken.
func TestOrderKeepsTheFiscalSnapshotOfItsLines(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewOrderRepo(db)
	c := ctx(t)
	unit := int64(1111)
	shirt, err := fiscal.NewIdentity(fiscal.IdentityDraft{IKPUCode: strPtr("11111111111111111"), PackageCode: strPtr("1111111"), UnitCode: &unit})
	require.NoError(t, err)
	person, err := fiscal.NewSellerProfile(fiscal.SellerProfileDraft{PINFL: strPtr("12345678901234")})
	require.NoError(t, err)
	company, err := fiscal.NewSellerProfile(fiscal.SellerProfileDraft{TIN: strPtr("123456789"), VATPayer: true})
	require.NoError(t, err)
	line := func(name string, price, qty int64, id fiscal.Identity, seller *fiscal.SellerProfile) fiscal.Line {
		l, err := fiscal.NewLine(fiscal.LineDraft{Name: name, UnitPrice: money.MustTiyin(price), Quantity: qty, Product: id, Seller: seller})
		require.NoError(t, err)
		return l
	}
	o, err := order.New(uuid.NewString(), someUser(t, db).ID(), []order.Item{
		{ProductID: uuid.NewString(), Name: "Futbolka", UnitPrice: money.MustTiyin(15_000_000), Quantity: 2,
			Fiscal: line("Futbolka", 15_000_000, 2, shirt, &company)},
		{ProductID: uuid.NewString(), Name: "Choynak", UnitPrice: money.MustTiyin(25_000_000), Quantity: 1,
			Fiscal: line("Choynak", 25_000_000, 1, fiscal.Identity{}, &person)},
		{ProductID: uuid.NewString(), Name: "Yetkazib berish", UnitPrice: money.MustTiyin(2_000_000), Quantity: 1,
			Fiscal: line("Yetkazib berish", 2_000_000, 1, fiscal.Identity{}, nil)},
	}, shipTo, "", t0)
	require.NoError(t, err)
	require.NoError(t, repo.Create(c, o))

	got, err := repo.Get(c, o.ID())
	require.NoError(t, err)
	assert.Equal(t, o.FiscalLines(), got.FiscalLines())
	lines := got.FiscalLines()
	assert.Equal(t, money.MustTiyin(3_214_286), lines[0].VATAmount(), "30 000 000 × 12/112 rounds half up")
	assert.Equal(t, fiscal.Principal{TIN: "123456789"}, lines[0].Seller())
	assert.Equal(t, 0, lines[1].VATPercent(), "a seller outside VAT")
	assert.True(t, lines[2].Seller().IsZero())
	assert.Empty(t, got.Receipts())
}

func TestSellerProfileIsStoredWithTheUser(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewUserRepo(db)
	c := ctx(t)
	seller, other := someUser(t, db), someUser(t, db)
	super := user.Restore(uuid.NewString(), "root@example.uz", "h", "Root", "", user.RoleSuperAdmin, user.StatusActive, t0, t0)
	require.NoError(t, user.ChangeRole(super, seller, user.RoleSeller, 1, t0))
	p, err := fiscal.NewSellerProfile(fiscal.SellerProfileDraft{TIN: strPtr("123456789"), VATPayer: true})
	require.NoError(t, err)
	require.NoError(t, seller.SetSellerProfile(p, t0))
	require.NoError(t, repo.Update(c, seller))

	got, err := repo.GetByID(c, seller.ID())
	require.NoError(t, err)
	gp, ok := got.SellerProfile()
	require.True(t, ok)
	assert.Equal(t, p, gp)
	_, ok = other.SellerProfile()
	assert.False(t, ok)

	profiles, err := repo.SellerProfilesOf(c, []string{seller.ID(), other.ID(), "not-a-uuid"})
	require.NoError(t, err)
	assert.Equal(t, map[string]fiscal.SellerProfile{seller.ID(): p}, profiles)
}
