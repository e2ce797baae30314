package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/domain/product"
)

// demoNamespace makes the demo products' ids deterministic, so seeding twice
// (every development start) inserts nothing the second time.
var demoNamespace = uuid.MustParse("5a1b7c3e-9d2f-4e6a-8b0c-1f2e3d4c5b6a")

// demoProducts are a small Uzbek marketplace; prices in tiyin (1 so'm = 100).
var demoProducts = []struct {
	slug  string
	draft product.Draft
}{
	{"rishton-lagan", product.Draft{Name: "Rishton ceramic lagan, 40 cm", Category: "Home & Kitchen", Price: 45_000_000, Stock: 25,
		Description: "Hand-painted blue and green ishkor-glazed serving plate from the master potters of Rishton."}},
	{"chust-pichoq", product.Draft{Name: "Chust pichoq (traditional knife)", Category: "Home & Kitchen", Price: 18_000_000, Stock: 40,
		Description: "Forged steel blade with a bone-inlay handle, made in Chust, Namangan region."}},
	{"margilan-atlas", product.Draft{Name: "Margilan khan-atlas silk, 1 m", Category: "Textiles", Price: 12_000_000, Stock: 120,
		Description: "Hand-woven ikat silk from the Yodgorlik factory in Margilan."}},
	{"suzani-bukhara", product.Draft{Name: "Bukhara suzani wall hanging", Category: "Textiles", Price: 250_000_000, Stock: 5,
		Description: "Hand-embroidered cotton suzani with pomegranate motifs, about 2 x 1.5 m."}},
	{"chust-doppi", product.Draft{Name: "Chust do'ppi skullcap", Category: "Clothing", Price: 9_500_000, Stock: 60,
		Description: "Black and white embroidered skullcap with the classic pepper (qalampir) pattern."}},
	{"kok-choy", product.Draft{Name: "Green tea (ko'k choy) No. 95, 100 g", Category: "Grocery", Price: 1_800_000, Stock: 500,
		Description: "The everyday green tea of every Uzbek choyxona."}},
	{"fergana-apricots", product.Draft{Name: "Dried apricots from Fergana, 1 kg", Category: "Grocery", Price: 8_500_000, Stock: 200,
		Description: "Sun-dried apricots (o'rik), no sugar added."}},
	{"samarkand-non-stamp", product.Draft{Name: "Samarkand non stamp (chekich)", Category: "Home & Kitchen", Price: 6_000_000, Stock: 80,
		Description: "Wooden bread stamp with steel pins for the patterns on Samarkand non."}},
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
		id := uuid.NewSHA1(demoNamespace, []byte(d.slug)).String()
		p, err := product.New(id, draft, now)
		if err != nil {
			return inserted, fmt.Errorf("seed demo product %s: %w", d.slug, err)
		}
		res, err := q.ExecContext(ctx, `INSERT INTO products
			(id, seller_id, name, description, category, price, stock, active, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (id) DO NOTHING`,
			p.ID(), p.SellerID(), p.Name(), p.Description(), p.Category(), p.Price().Tiyin(), p.Stock(), p.Active(),
			dbTime(p.CreatedAt()), dbTime(p.UpdatedAt()))
		if err != nil {
			return inserted, fmt.Errorf("seed demo product %s: %w", d.slug, mapError(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return inserted, fmt.Errorf("seed demo product %s: %w", d.slug, err)
		}
		inserted += int(n)
	}
	return inserted, nil
}
