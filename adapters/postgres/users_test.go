package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

var _ ports.UserRepository = (*postgres.UserRepo)(nil)

func TestUserCreateGetUpdate(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewUserRepo(db)
	c := ctx(t)

	u, err := user.New(uuid.NewString(), "  Dilnoza@Example.UZ ", "argon2id$x", " Dilnoza Karimova ", "+998901112233", t0)
	require.NoError(t, err)
	require.NoError(t, repo.Create(c, u))

	got, err := repo.GetByID(c, u.ID())
	require.NoError(t, err)
	assert.Equal(t, "dilnoza@example.uz", got.Email())
	assert.Equal(t, "Dilnoza Karimova", got.FullName())
	assert.Equal(t, "+998901112233", got.Phone())
	assert.Equal(t, "argon2id$x", got.PasswordHash())
	assert.Equal(t, user.RoleCustomer, got.Role())
	assert.Equal(t, user.StatusActive, got.Status())
	assert.True(t, got.CreatedAt().Equal(t0), "%v", got.CreatedAt())
	assert.Equal(t, time.UTC, got.CreatedAt().Location())

	byEmail, err := repo.GetByEmail(c, "dilnoza@example.uz")
	require.NoError(t, err)
	assert.Equal(t, u.ID(), byEmail.ID())

	// Update: role, status, hash, updated_at.
	later := t0.Add(time.Hour)
	got.SetPasswordHash("argon2id$y", later)
	got.Promote(user.RoleSeller, later)
	require.NoError(t, repo.Update(c, got))
	again, err := repo.GetByID(c, u.ID())
	require.NoError(t, err)
	assert.Equal(t, "argon2id$y", again.PasswordHash())
	assert.Equal(t, user.RoleSeller, again.Role())
	assert.True(t, again.UpdatedAt().Equal(later))
	assert.True(t, again.CreatedAt().Equal(t0))

	// No phone is stored as NULL and read back as "".
	np := newUser(t, db, "nophone@example.uz")
	got, err = repo.GetByID(c, np.ID())
	require.NoError(t, err)
	assert.Equal(t, "", got.Phone())
	var isNull bool
	require.NoError(t, db.GetContext(c, &isNull, `SELECT phone IS NULL FROM users WHERE id = $1`, np.ID()))
	assert.True(t, isNull)
}

func TestUserNotFound(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewUserRepo(db)
	c := ctx(t)
	for _, id := range []string{uuid.NewString(), "not-a-uuid", ""} {
		_, err := repo.GetByID(c, id)
		assert.ErrorIs(t, err, user.ErrNotFound, id)
		assert.ErrorIs(t, err, domain.ErrNotFound, id)
		_, err = repo.GetForUpdate(c, id)
		assert.ErrorIs(t, err, user.ErrNotFound, id)
	}
	_, err := repo.GetByEmail(c, "nobody@example.uz")
	assert.ErrorIs(t, err, user.ErrNotFound)

	ghost, _ := user.New(uuid.NewString(), "ghost@example.uz", "h", "G", "", t0)
	assert.ErrorIs(t, repo.Update(c, ghost), user.ErrNotFound)
}

func TestUserEmailTaken(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewUserRepo(db)
	c := ctx(t)
	newUser(t, db, "aziz@example.uz")

	for _, email := range []string{"aziz@example.uz", "AZIZ@Example.uz", "  aziz@example.uz\t"} {
		dup, err := user.New(uuid.NewString(), email, "h", "Other", "", t0)
		require.NoError(t, err)
		err = repo.Create(c, dup)
		assert.ErrorIs(t, err, user.ErrEmailTaken, email)
		assert.ErrorIs(t, err, domain.ErrConflict, email)
	}

	// Changing one's email to a taken one, too.
	other := newUser(t, db, "other@example.uz")
	moved := user.Restore(other.ID(), "aziz@example.uz", other.PasswordHash(), other.FullName(), "",
		other.Role(), other.Status(), other.CreatedAt(), t0)
	assert.ErrorIs(t, repo.Update(c, moved), user.ErrEmailTaken)

	// Two concurrent registrations: exactly one wins.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, _ := user.New(uuid.NewString(), "race@example.uz", "h", "R", "", t0)
			errs[i] = repo.Create(context.Background(), u)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			assert.ErrorIs(t, err, user.ErrEmailTaken)
		}
	}
	assert.Equal(t, 1, ok)
}

func TestUserChecksRefuseWhatTheDomainWould(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewUserRepo(db)
	c := ctx(t)
	bad := []*user.User{
		user.Restore(uuid.NewString(), "Upper@Example.uz", "h", "N", "", user.RoleCustomer, user.StatusActive, t0, t0),
		user.Restore(uuid.NewString(), "ok1@example.uz", "h", "N", "+99890", user.RoleCustomer, user.StatusActive, t0, t0),
		user.Restore(uuid.NewString(), "ok2@example.uz", "h", "N", "", user.Role("root"), user.StatusActive, t0, t0),
		user.Restore(uuid.NewString(), "ok3@example.uz", "h", "N", "", user.RoleCustomer, user.Status("gone"), t0, t0),
		user.Restore(uuid.NewString(), "ok4@example.uz", "h", "  ", "", user.RoleCustomer, user.StatusActive, t0, t0),
	}
	for _, u := range bad {
		t.Run(u.Email(), func(t *testing.T) {
			err := repo.Create(c, u)
			assert.ErrorIs(t, err, domain.ErrValidation, u.Email())
		})
	}
}

func TestUserReadBackRechecksValues(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewUserRepo(db)
	c := ctx(t)
	u := newUser(t, db, "corrupt@example.uz")
	// Someone relaxes the constraint and writes a role the code does not know.
	_, err := db.ExecContext(c, `ALTER TABLE users DROP CONSTRAINT users_role_check;
		UPDATE users SET role = 'overlord' WHERE id = '`+u.ID()+`'`)
	require.NoError(t, err)
	_, err = repo.GetByID(c, u.ID())
	assert.ErrorIs(t, err, postgres.ErrCorrupt)
	assert.NotErrorIs(t, err, domain.ErrValidation, "corrupt data is an internal error, not the client's")
	_, _, err = repo.List(c, ports.UserFilter{})
	assert.ErrorIs(t, err, postgres.ErrCorrupt)
}

func TestUserCountActiveSuperAdminsForUpdate(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo, tm := postgres.NewUserRepo(db), postgres.NewTxManager(db)
	c := ctx(t)
	promote := func(email string, role user.Role, status user.Status) *user.User {
		u := newUser(t, db, email)
		r := user.Restore(u.ID(), u.Email(), u.PasswordHash(), u.FullName(), u.Phone(), role, status, t0, t0)
		require.NoError(t, repo.Update(c, r))
		return r
	}
	a := promote("sa1@example.uz", user.RoleSuperAdmin, user.StatusActive)
	promote("sa2@example.uz", user.RoleSuperAdmin, user.StatusActive)
	promote("sa3@example.uz", user.RoleSuperAdmin, user.StatusBlocked)
	promote("ad@example.uz", user.RoleAdmin, user.StatusActive)

	n, err := repo.CountActiveSuperAdminsForUpdate(c)
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	// T1 counts (locking both) and demotes a; T2 counting meanwhile waits and
	// then sees only one: the two cannot both demote "the other".
	locked := make(chan struct{})
	done := make(chan int, 1)
	go func() {
		_ = tm.WithinTx(context.Background(), func(ctx context.Context) error {
			<-locked
			n, err := repo.CountActiveSuperAdminsForUpdate(ctx)
			if err != nil {
				return err
			}
			done <- n
			return nil
		})
	}()
	require.NoError(t, tm.WithinTx(c, func(ctx context.Context) error {
		n, err := repo.CountActiveSuperAdminsForUpdate(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		close(locked)
		time.Sleep(100 * time.Millisecond) // T2 is now blocked on our locks
		demoted := user.Restore(a.ID(), a.Email(), a.PasswordHash(), a.FullName(), "", user.RoleAdmin, user.StatusActive, t0, t0)
		return repo.Update(ctx, demoted)
	}))
	assert.Equal(t, 1, <-done)
}

func TestUserList(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewUserRepo(db)
	c := ctx(t)
	var ids []string
	for i := range 25 {
		u, err := user.New(uuid.NewString(), fmt.Sprintf("user%02d@example.uz", i), "h", fmt.Sprintf("Person %02d", i), "",
			t0.Add(time.Duration(i)*time.Minute))
		require.NoError(t, err)
		require.NoError(t, repo.Create(c, u))
		ids = append(ids, u.ID())
	}
	special, _ := user.New(uuid.NewString(), "percent@example.uz", "h", "Shavkat 100%_Real Rahimov", "", t0)
	require.NoError(t, repo.Create(c, special))
	seller := user.Restore(ids[3], "user03@example.uz", "h", "Person 03", "", user.RoleSeller, user.StatusBlocked, t0.Add(3*time.Minute), t0)
	require.NoError(t, repo.Update(c, seller))

	page1, total, err := repo.List(c, ports.UserFilter{Page: 1, PageSize: 10})
	require.NoError(t, err)
	assert.Equal(t, 26, total)
	require.Len(t, page1, 10)
	assert.Equal(t, ids[24], page1[0].ID(), "newest first")
	assert.Equal(t, ids[15], page1[9].ID())

	page3, total, err := repo.List(c, ports.UserFilter{Page: 3, PageSize: 10})
	require.NoError(t, err)
	assert.Equal(t, 26, total)
	assert.Len(t, page3, 6)

	beyond, total, err := repo.List(c, ports.UserFilter{Page: 9, PageSize: 10})
	require.NoError(t, err)
	assert.Equal(t, 26, total, "total is known past the last page")
	assert.NotNil(t, beyond)
	assert.Empty(t, beyond)

	// q: substring of email or full name, case-insensitive.
	found, total, err := repo.List(c, ports.UserFilter{Query: "USER1", PageSize: 100})
	require.NoError(t, err)
	assert.Equal(t, 10, total) // user10..user19
	assert.Len(t, found, 10)
	found, total, err = repo.List(c, ports.UserFilter{Query: "person 07"})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	assert.Equal(t, ids[7], found[0].ID())
	// LIKE wildcards in q are literal.
	found, total, err = repo.List(c, ports.UserFilter{Query: "100%_r"})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	assert.Equal(t, special.ID(), found[0].ID())
	_, total, err = repo.List(c, ports.UserFilter{Query: "%"})
	require.NoError(t, err)
	assert.Equal(t, 1, total)

	// role and status filters.
	found, total, err = repo.List(c, ports.UserFilter{Role: user.RoleSeller})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	assert.Equal(t, ids[3], found[0].ID())
	_, total, err = repo.List(c, ports.UserFilter{Status: user.StatusBlocked, Role: user.RoleCustomer})
	require.NoError(t, err)
	assert.Equal(t, 0, total)
	_, total, err = repo.List(c, ports.UserFilter{Status: user.StatusActive, Query: "example.uz"})
	require.NoError(t, err)
	assert.Equal(t, 25, total)

	// Out-of-range paging is clamped, not an SQL error.
	found, _, err = repo.List(c, ports.UserFilter{Page: -1, PageSize: 1000})
	require.NoError(t, err)
	assert.Len(t, found, 26)
}
