package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/ultramarket/gateway/domain/cart"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// CartRepo implements ports.CartRepository on cart_items: one row per user
// and product, no prices (a cart is priced when it is read).
type CartRepo struct {
	db *sqlx.DB
}

var _ ports.CartRepository = (*CartRepo)(nil)

// NewCartRepo returns a CartRepo on db.
func NewCartRepo(db *sqlx.DB) *CartRepo { return &CartRepo{db: db} }

const conCartItemsUser = "cart_items_user_id_fkey"

type cartRow struct {
	ProductID string    `db:"product_id"`
	Quantity  int64     `db:"quantity"`
	CreatedAt time.Time `db:"created_at"`
}

// Lines returns the user's cart, oldest line first; a user that cannot exist
// has an empty cart.
func (r *CartRepo) Lines(ctx context.Context, userID string) ([]ports.CartLine, error) {
	out := []ports.CartLine{}
	if !validID(userID) {
		return out, nil
	}
	var rows []cartRow
	err := sqlx.SelectContext(ctx, ext(ctx, r.db), &rows, `SELECT product_id, quantity, created_at
		FROM cart_items WHERE user_id = $1 ORDER BY created_at, product_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("select cart of user %s: %w", userID, mapError(err))
	}
	for _, row := range rows {
		if row.Quantity < 1 || row.Quantity > cart.MaxQuantity {
			return nil, fmt.Errorf("cart of user %s, product %s: quantity %d: %w", userID, row.ProductID, row.Quantity, ErrCorrupt)
		}
		out = append(out, ports.CartLine{ProductID: row.ProductID, Quantity: row.Quantity, AddedAt: row.CreatedAt.UTC()})
	}
	return out, nil
}

// Set adds the product (added at now) or changes its quantity, keeping the
// time it was first added so the line keeps its place. An unknown user
// returns user.ErrNotFound, a product id that cannot exist
// product.ErrNotFound, a quantity outside 1..100 a validation error.
func (r *CartRepo) Set(ctx context.Context, userID, productID string, quantity int64, now time.Time) error {
	if !validID(userID) {
		return fmt.Errorf("set cart item of user %s: %w", userID, user.ErrNotFound)
	}
	if !validID(productID) {
		return fmt.Errorf("set cart item %s: %w", productID, product.ErrNotFound)
	}
	_, err := ext(ctx, r.db).ExecContext(ctx, `INSERT INTO cart_items (user_id, product_id, quantity, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity, updated_at = EXCLUDED.updated_at`,
		userID, productID, quantity, dbTime(now))
	if err != nil {
		return fmt.Errorf("set cart item %s of user %s: %w", productID, userID, mapUserRef(err, conCartItemsUser))
	}
	return nil
}

// Remove drops one product; one that is not in the cart is not an error.
func (r *CartRepo) Remove(ctx context.Context, userID, productID string) error {
	if !validID(userID) || !validID(productID) {
		return nil
	}
	_, err := ext(ctx, r.db).ExecContext(ctx, `DELETE FROM cart_items WHERE user_id = $1 AND product_id = $2`, userID, productID)
	if err != nil {
		return fmt.Errorf("remove cart item %s of user %s: %w", productID, userID, mapError(err))
	}
	return nil
}

// Clear empties the user's cart.
func (r *CartRepo) Clear(ctx context.Context, userID string) error {
	if !validID(userID) {
		return nil
	}
	_, err := ext(ctx, r.db).ExecContext(ctx, `DELETE FROM cart_items WHERE user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("clear cart of user %s: %w", userID, mapError(err))
	}
	return nil
}

// mapUserRef is mapError that also knows constraint, a foreign key to users
// that errors.go does not list, as user.ErrNotFound.
func mapUserRef(err error, constraint string) error {
	if pe := pq.As(err, pqerror.ForeignKeyViolation); pe != nil && pe.Constraint == constraint {
		return fmt.Errorf("%w [%s] (%w)", user.ErrNotFound, pe.Constraint, err)
	}
	return mapError(err)
}
