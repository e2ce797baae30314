package admin_test

import (
	"context"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/test/testsupport"
)

func newSetSellerProfile(t *testing.T) (*admin.SetSellerProfile, adminMocks) {
	m := newAdminMocks(t)
	return admin.NewSetSellerProfile(testsupport.InlineTx{}, m.users, m.sessions, testsupport.FixedClock(now)), m
}

func tin(s string) *string { return &s }

func expectPair(m adminMocks, target *user.User, actorRole user.Role) {
	m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(target, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(restore(actorID, actorRole, user.StatusActive), nil)
}

func TestSetSellerProfile_StoresTheSellersProfile(t *testing.T) {
	uc, m := newSetSellerProfile(t)
	target := restore(targetID, user.RoleSeller, user.StatusActive)
	expectPair(m, target, user.RoleAdmin)
	m.users.EXPECT().Update(gomock.Any(), target).Return(nil)
	// after the commit: the seller's sessions drop the profile GET me showed
	m.sessions.EXPECT().ForgetProfiles(gomock.Any(), targetID).Return(nil)

	got, err := uc.Handle(context.Background(), admin.SetSellerProfileInput{ActorID: actorID, TargetID: targetID,
		Profile: fiscal.SellerProfileDraft{TIN: tin("123456789"), VATPayer: true}})
	require.NoError(t, err)
	p, ok := got.SellerProfile()
	require.True(t, ok)
	assert.Equal(t, "123456789", p.TIN())
	assert.True(t, p.VATPayer())
}

func TestSetSellerProfile_NotASellerIsAConflict(t *testing.T) {
	uc, m := newSetSellerProfile(t) // no Update
	expectPair(m, restore(targetID, user.RoleCustomer, user.StatusActive), user.RoleSuperAdmin)

	_, err := uc.Handle(context.Background(), admin.SetSellerProfileInput{ActorID: actorID, TargetID: targetID,
		Profile: fiscal.SellerProfileDraft{PINFL: tin("12345678901234")}})
	assert.ErrorIs(t, err, user.ErrNotSeller)
	assert.ErrorIs(t, err, domain.ErrConflict)
}

func TestSetSellerProfile_NeedsExactlyOneNumber(t *testing.T) {
	uc, _ := newSetSellerProfile(t) // refused before any read
	_, err := uc.Handle(context.Background(), admin.SetSellerProfileInput{ActorID: actorID, TargetID: targetID,
		Profile: fiscal.SellerProfileDraft{TIN: tin("123456789"), PINFL: tin("12345678901234")}})
	assert.ErrorIs(t, err, domain.ErrValidation)
	assert.ElementsMatch(t, []string{"tin", "pinfl"}, testsupport.FieldsOf(t, err))
}

func TestSetSellerProfile_OnlyAdmins(t *testing.T) {
	uc, m := newSetSellerProfile(t) // no Update
	expectPair(m, restore(targetID, user.RoleSeller, user.StatusActive), user.RoleSeller)
	_, err := uc.Handle(context.Background(), admin.SetSellerProfileInput{ActorID: actorID, TargetID: targetID,
		Profile: fiscal.SellerProfileDraft{TIN: tin("123456789")}})
	assert.ErrorIs(t, err, user.ErrNotAllowed)
}
