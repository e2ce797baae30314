package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// UserRepo implements ports.UserRepository.
type UserRepo struct {
	db *sqlx.DB
}

var _ ports.UserRepository = (*UserRepo)(nil)

// NewUserRepo returns a UserRepo on db.
func NewUserRepo(db *sqlx.DB) *UserRepo { return &UserRepo{db: db} }

const userColumns = `id, email, password_hash, full_name, phone, phone_verified, role, status, created_at, updated_at,
	seller_tin, seller_pinfl, seller_vat_payer`

type userRow struct {
	ID            string         `db:"id"`
	Email         sql.NullString `db:"email"`
	PasswordHash  sql.NullString `db:"password_hash"`
	FullName      string         `db:"full_name"`
	Phone         sql.NullString `db:"phone"`
	PhoneVerified bool           `db:"phone_verified"`
	Role          string         `db:"role"`
	Status        string         `db:"status"`
	CreatedAt     time.Time      `db:"created_at"`
	UpdatedAt     time.Time      `db:"updated_at"`

	SellerTIN      sql.NullString `db:"seller_tin"`
	SellerPINFL    sql.NullString `db:"seller_pinfl"`
	SellerVATPayer sql.NullBool   `db:"seller_vat_payer"`
}

func (r userRow) toDomain() (*user.User, error) {
	role, err := user.ParseRole(r.Role)
	if err != nil {
		return nil, fmt.Errorf("user %s: role %q: %w", r.ID, r.Role, ErrCorrupt)
	}
	status, err := user.ParseStatus(r.Status)
	if err != nil {
		return nil, fmt.Errorf("user %s: status %q: %w", r.ID, r.Status, ErrCorrupt)
	}
	// An account made by phone login has neither until its owner sets them;
	// every account has a way in (users_identity_check).
	if (!r.Email.Valid && !r.PhoneVerified) || (r.PhoneVerified && r.Phone.String == "") {
		return nil, fmt.Errorf("user %s: neither an email nor a verified phone: %w", r.ID, ErrCorrupt)
	}
	u := user.Restore(r.ID, r.Email.String, r.PasswordHash.String, r.FullName, r.Phone.String, role, status,
		r.CreatedAt.UTC(), r.UpdatedAt.UTC()).WithPhoneVerified(r.PhoneVerified)
	if p, ok := r.sellerProfile(); ok {
		u.WithSellerProfile(p)
	}
	return u, nil
}

// Create inserts u; an email already in use returns user.ErrEmailTaken, a
// phone another account has verified user.ErrPhoneTaken.
func (r *UserRepo) Create(ctx context.Context, u *user.User) error {
	tin, pinfl, vatPayer := sellerProfileArgs(u)
	_, err := ext(ctx, r.db).ExecContext(ctx, `INSERT INTO users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		u.ID(), nullString(u.Email()), nullString(u.PasswordHash()), u.FullName(), nullString(u.Phone()), u.PhoneVerified(),
		string(u.Role()), string(u.Status()), dbTime(u.CreatedAt()), dbTime(u.UpdatedAt()), tin, pinfl, vatPayer)
	if err != nil {
		return fmt.Errorf("insert user %s: %w", u.ID(), mapError(err))
	}
	return nil
}

// Update saves every field but the id and creation time.
func (r *UserRepo) Update(ctx context.Context, u *user.User) error {
	if !validID(u.ID()) {
		return fmt.Errorf("update user %s: %w", u.ID(), user.ErrNotFound)
	}
	tin, pinfl, vatPayer := sellerProfileArgs(u)
	res, err := ext(ctx, r.db).ExecContext(ctx, `UPDATE users
		SET email = $2, password_hash = $3, full_name = $4, phone = $5, phone_verified = $6, role = $7, status = $8,
			updated_at = $9, seller_tin = $10, seller_pinfl = $11, seller_vat_payer = $12
		WHERE id = $1`,
		u.ID(), nullString(u.Email()), nullString(u.PasswordHash()), u.FullName(), nullString(u.Phone()), u.PhoneVerified(),
		string(u.Role()), string(u.Status()), dbTime(u.UpdatedAt()), tin, pinfl, vatPayer)
	if err != nil {
		return fmt.Errorf("update user %s: %w", u.ID(), mapError(err))
	}
	return mustAffect(res, fmt.Sprintf("update user %s", u.ID()), user.ErrNotFound)
}

// GetByID returns the user or user.ErrNotFound.
func (r *UserRepo) GetByID(ctx context.Context, id string) (*user.User, error) {
	return r.getBy(ctx, "id", id, "")
}

// GetByEmail takes a normalised email.
func (r *UserRepo) GetByEmail(ctx context.Context, email string) (*user.User, error) {
	return r.getBy(ctx, "email", email, "")
}

// GetByVerifiedPhone returns the account that verified phone (E.164); a
// phone only typed at registration finds nothing.
func (r *UserRepo) GetByVerifiedPhone(ctx context.Context, phone string) (*user.User, error) {
	var row userRow
	err := sqlx.GetContext(ctx, ext(ctx, r.db), &row,
		`SELECT `+userColumns+` FROM users WHERE phone = $1 AND phone_verified`, phone)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("select user by verified phone: %w", user.ErrNotFound) // no number in errors
	}
	if err != nil {
		return nil, fmt.Errorf("select user by verified phone: %w", mapError(err))
	}
	return row.toDomain()
}

// GetForUpdate locks the user's row until the transaction in ctx ends.
func (r *UserRepo) GetForUpdate(ctx context.Context, id string) (*user.User, error) {
	return r.getBy(ctx, "id", id, " FOR UPDATE")
}

func (r *UserRepo) getBy(ctx context.Context, column, value, suffix string) (*user.User, error) {
	if column == "id" && !validID(value) {
		return nil, fmt.Errorf("select user %s: %w", value, user.ErrNotFound)
	}
	var row userRow
	err := sqlx.GetContext(ctx, ext(ctx, r.db), &row,
		`SELECT `+userColumns+` FROM users WHERE `+column+` = $1`+suffix, value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("select user by %s %s: %w", column, value, user.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select user by %s %s: %w", column, value, mapError(err))
	}
	return row.toDomain()
}

// CountActiveSuperAdminsForUpdate locks every active super_admin row and
// counts them. Row locks cannot be taken with COUNT, so the ids are selected.
// Under READ COMMITTED a row another transaction demoted or blocked while we
// waited for its lock is re-checked and drops out of the result.
func (r *UserRepo) CountActiveSuperAdminsForUpdate(ctx context.Context) (int, error) {
	var ids []string
	err := sqlx.SelectContext(ctx, ext(ctx, r.db), &ids, `SELECT id FROM users
		WHERE role = 'super_admin' AND status = 'active' ORDER BY id FOR UPDATE`)
	if err != nil {
		return 0, fmt.Errorf("lock active super admins: %w", mapError(err))
	}
	return len(ids), nil
}

// List returns one page of users, newest first, and how many match in total.
func (r *UserRepo) List(ctx context.Context, f ports.UserFilter) ([]*user.User, int, error) {
	var l listQuery
	if q := strings.TrimSpace(f.Query); q != "" {
		p := l.arg(likePattern(q))
		l.where("(email ILIKE " + p + " OR full_name ILIKE " + p + ")")
	}
	if f.Role != "" {
		l.where("role = " + l.arg(string(f.Role)))
	}
	if f.Status != "" {
		l.where("status = " + l.arg(string(f.Status)))
	}
	var rows []userRow
	total, err := l.page(ctx, ext(ctx, r.db), "users", userColumns, f.Page, f.PageSize, &rows)
	if err != nil {
		return nil, 0, err
	}
	users := make([]*user.User, 0, len(rows))
	for _, row := range rows {
		u, err := row.toDomain()
		if err != nil {
			return nil, 0, err
		}
		users = append(users, u)
	}
	return users, total, nil
}

// mustAffect turns "no row updated" into notFound.
func mustAffect(res sql.Result, what string, notFound error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: rows affected: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, notFound)
	}
	return nil
}
