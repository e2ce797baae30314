package postgres_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/test/testenv"
)

func parsePhone(t *testing.T, s string) user.Phone {
	t.Helper()
	p, err := user.ParsePhone(s)
	require.NoError(t, err)
	return p
}

// An account made by phone login is stored without an email or a password
// and found by its verified phone, and by nothing else.
func TestUserByPhoneRoundTrip(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewUserRepo(db)
	c := ctx(t)

	u, err := user.NewByPhone(uuid.NewString(), parsePhone(t, "+998901230001"), t0)
	require.NoError(t, err)
	require.NoError(t, repo.Create(c, u))

	got, err := repo.GetByVerifiedPhone(c, "+998901230001")
	require.NoError(t, err)
	assert.Equal(t, u.ID(), got.ID())
	assert.True(t, got.PhoneVerified())
	assert.Empty(t, got.Email())
	assert.False(t, got.HasPassword())
	assert.Empty(t, got.FullName())

	var email, hash *string
	require.NoError(t, db.QueryRowxContext(c, `SELECT email, password_hash FROM users WHERE id = $1`, u.ID()).Scan(&email, &hash))
	assert.Nil(t, email, "no email is NULL")
	assert.Nil(t, hash, "no password is NULL")

	// The owner sets a name, an email and a password.
	name, mail := "Aziz", "aziz@example.uz"
	require.NoError(t, got.ChangeProfile(user.ProfileChange{FullName: &name, Email: &mail}, t0.Add(time.Minute)))
	got.SetPasswordHash("argon2id$z", t0.Add(time.Minute))
	require.NoError(t, repo.Update(c, got))
	byEmail, err := repo.GetByEmail(c, "aziz@example.uz")
	require.NoError(t, err)
	assert.Equal(t, u.ID(), byEmail.ID())
	assert.True(t, byEmail.PhoneVerified())
	assert.True(t, byEmail.HasPassword())
}

// A phone typed at registration is not verified: it finds no account, and
// does not stop a phone login from making one with it verified.
func TestUserTypedPhoneIsNotVerified(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewUserRepo(db)
	c := ctx(t)

	typed, err := user.New(uuid.NewString(), "typed@example.uz", "argon2id$x", "Typed", "+998901230002", t0)
	require.NoError(t, err)
	require.NoError(t, repo.Create(c, typed))
	_, err = repo.GetByVerifiedPhone(c, "+998901230002")
	require.ErrorIs(t, err, user.ErrNotFound)

	byPhone, err := user.NewByPhone(uuid.NewString(), parsePhone(t, "+998901230002"), t0)
	require.NoError(t, err)
	require.NoError(t, repo.Create(c, byPhone))
	got, err := repo.GetByVerifiedPhone(c, "+998901230002")
	require.NoError(t, err)
	assert.Equal(t, byPhone.ID(), got.ID())
	again, err := repo.GetByID(c, typed.ID())
	require.NoError(t, err)
	assert.False(t, again.PhoneVerified())
}

// Verified phones are unique (the partial unique index).
func TestUserVerifiedPhoneTaken(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewUserRepo(db)
	c := ctx(t)

	first, err := user.NewByPhone(uuid.NewString(), parsePhone(t, "+998901230003"), t0)
	require.NoError(t, err)
	require.NoError(t, repo.Create(c, first))
	second, err := user.NewByPhone(uuid.NewString(), parsePhone(t, "+998901230003"), t0)
	require.NoError(t, err)
	err = repo.Create(c, second)
	require.ErrorIs(t, err, user.ErrPhoneTaken)
	assert.NotContains(t, err.Error(), "901230003", "no number in the error")
}

// The database refuses an account nobody can log into, and a verified phone
// that is not there.
func TestUserIdentityChecks(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	c := ctx(t)
	_, err := db.ExecContext(c, `INSERT INTO users (id, email, password_hash, full_name) VALUES ($1, NULL, NULL, '')`, uuid.NewString())
	require.Error(t, err, "neither email nor verified phone")
	_, err = db.ExecContext(c, `INSERT INTO users (id, email, password_hash, full_name, phone_verified)
		VALUES ($1, 'x@example.uz', 'h', 'X', true)`, uuid.NewString())
	require.Error(t, err, "verified without a phone")
	_, err = db.ExecContext(c, `INSERT INTO users (id, email, password_hash, full_name) VALUES ($1, 'y@example.uz', '', 'Y')`, uuid.NewString())
	require.Error(t, err, "no password is NULL, never ''")
}
