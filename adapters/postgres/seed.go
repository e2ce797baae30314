package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/product"
)

// demoNamespace makes the demo products' ids deterministic, so seeding twice
// (every development start) inserts nothing the second time.
var demoNamespace = uuid.MustParse("5a1b7c3e-9d2f-4e6a-8b0c-1f2e3d4c5b6a")

// demoProducts are a small Uzbek marketplace; prices in tiyin (1 so'm = 100).
// Their fiscal codes (IKPU, package, unit) have the right shapes so that
// `make run` shows receipts end to end, but they are demo placeholders in
// the neighbourhood of each good's group, not checked against
// tasnif.soliq.uz: a real seller copies each product's codes from there.
var demoProducts = []struct {
	slug   string
	draft  product.Draft
	fiscal [3]string // ikpu_code, package_code, unit_code
}{
	{"rishton-lagan", product.Draft{Name: "Rishton ceramic lagan, 40 cm", Category: "Home & Kitchen", Price: 45_000_000, Stock: 25,
		Description: "Hand-painted blue and green ishkor-glazed serving plate from the master potters of Rishton."}, [3]string{"06912001001000000", "1500447", "796"}},
	{"chust-pichoq", product.Draft{Name: "Chust pichoq (traditional knife)", Category: "Home & Kitchen", Price: 18_000_000, Stock: 40,
		Description: "Forged steel blade with a bone-inlay handle, made in Chust, Namangan region."}, [3]string{"08211001001000000", "1500512", "796"}},
	{"margilan-atlas", product.Draft{Name: "Margilan khan-atlas silk, 1 m", Category: "Textiles", Price: 12_000_000, Stock: 120,
		Description: "Hand-woven ikat silk from the Yodgorlik factory in Margilan."}, [3]string{"05007001001000000", "1500633", "6"}},
	{"suzani-bukhara", product.Draft{Name: "Bukhara suzani wall hanging", Category: "Textiles", Price: 250_000_000, Stock: 5,
		Description: "Hand-embroidered cotton suzani with pomegranate motifs, about 2 x 1.5 m."}, [3]string{"06304001001000000", "1500701", "796"}},
	{"chust-doppi", product.Draft{Name: "Chust do'ppi skullcap", Category: "Clothing", Price: 9_500_000, Stock: 60,
		Description: "Black and white embroidered skullcap with the classic pepper (qalampir) pattern."}, [3]string{"06505001001000000", "1500802", "796"}},
	{"kok-choy", product.Draft{Name: "Green tea (ko'k choy) No. 95, 100 g", Category: "Grocery", Price: 1_800_000, Stock: 500,
		Description: "The everyday green tea of every Uzbek choyxona."}, [3]string{"09021001001000000", "1500903", "166"}},
	{"fergana-apricots", product.Draft{Name: "Dried apricots from Fergana, 1 kg", Category: "Grocery", Price: 8_500_000, Stock: 200,
		Description: "Sun-dried apricots (o'rik), no sugar added."}, [3]string{"08131001001000000", "1501004", "166"}},
	{"samarkand-non-stamp", product.Draft{Name: "Samarkand non stamp (chekich)", Category: "Home & Kitchen", Price: 6_000_000, Stock: 80,
		Description: "Wooden bread stamp with steel pins for the patterns on Samarkand non."}, [3]string{"04419001001000000", "1501105", "796"}},
}

// SeedDemoProducts inserts the demo products of sellerID into the built-in
// catalog, skipping those present already (by their fixed ids), and returns
// how many it inserted. Safe to run on every start and concurrently.
func SeedDemoProducts(ctx context.Context, db *sqlx.DB, sellerID string, now time.Time) (inserted int, err error) {
	if !validID(sellerID) {
		return 0, fmt.Errorf("seed demo products: seller id %q is not a UUID", sellerID)
	}
	q := ext(ctx, db)
	for _, d := range demoProducts {
		draft := d.draft
		draft.SellerID, draft.Active = sellerID, true
		unit, err := strconv.ParseInt(d.fiscal[2], 10, 64)
		if err != nil {
			return inserted, fmt.Errorf("seed demo product %s: unit code: %w", d.slug, err)
		}
		draft.Fiscal = fiscal.IdentityDraft{IKPUCode: &d.fiscal[0], PackageCode: &d.fiscal[1], UnitCode: &unit}
		id := uuid.NewSHA1(demoNamespace, []byte(d.slug)).String()
		p, err := product.New(id, draft, now)
		if err != nil {
			return inserted, fmt.Errorf("seed demo product %s: %w", d.slug, err)
		}
		res, err := q.ExecContext(ctx, `INSERT INTO products (`+productColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
			ON CONFLICT (id) DO NOTHING`,
			append([]any{p.ID(), p.SellerID(), p.Name(), p.Description(), p.Category(), p.Price().Tiyin(), p.Stock(),
				p.Active(), dbTime(p.CreatedAt()), dbTime(p.UpdatedAt())}, fiscalArgs(p.Fiscal())...)...)
		if err != nil {
			return inserted, fmt.Errorf("seed demo product %s: %w", d.slug, mapError(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return inserted, fmt.Errorf("seed demo product %s: %w", d.slug, err)
		}
		inserted += int(n)
		// Demo products seeded before they had codes get them once.
		if _, err := q.ExecContext(ctx, `UPDATE products SET ikpu_code = $2, package_code = $3, unit_code = $4
			WHERE id = $1 AND ikpu_code IS NULL AND package_code IS NULL`,
			p.ID(), d.fiscal[0], d.fiscal[1], unit); err != nil {
			return inserted, fmt.Errorf("seed demo product %s codes: %w", d.slug, mapError(err))
		}
	}
	return inserted, nil
}
