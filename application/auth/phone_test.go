package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/otp"
	"github.com/ultramarket/gateway/domain/sms"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

const phone = "+998901234567"

// texts writes "<lang> <code> <ttl>", so a test sees what reached it.
type texts struct{}

func (texts) LoginCode(lang, code string, ttl time.Duration) string {
	return fmt.Sprintf("%s %s %s", lang, code, ttl)
}

type outcomes []string

func (o *outcomes) OTPCodeRequested(outcome string) { *o = append(*o, outcome) }

type otpMocks struct {
	codes    *mocks.MockOTPStore
	sms      *mocks.MockSMSSender
	users    *mocks.MockUserRepository
	hasher   *mocks.MockPasswordHasher
	sessions *mocks.MockSessionStore
	tokens   *mocks.MockTokenIssuer
	counted  *outcomes
}

func newOTPMocks(t *testing.T) otpMocks {
	ctrl := gomock.NewController(t)
	return otpMocks{
		codes: mocks.NewMockOTPStore(ctrl), sms: mocks.NewMockSMSSender(ctrl),
		users: mocks.NewMockUserRepository(ctrl), hasher: mocks.NewMockPasswordHasher(ctrl),
		sessions: mocks.NewMockSessionStore(ctrl), tokens: mocks.NewMockTokenIssuer(ctrl),
		counted: &outcomes{},
	}
}

func phoneUser(status user.Status) *user.User {
	return user.Restore(userID, "", "", "", phone, user.RoleCustomer, status, now, now).WithPhoneVerified(true)
}

func TestRequestOTP_StoresThenTextsTheCodeInTheLanguage(t *testing.T) {
	m := newOTPMocks(t)
	uc := auth.NewRequestOTP(m.codes, m.sms, texts{}, testsupport.FixedClock(now), m.counted, 3*time.Minute)
	var stored otp.Code
	issued := otp.Issued{ExpiresIn: 3 * time.Minute, ResendIn: time.Minute}
	gomock.InOrder(
		m.codes.EXPECT().Issue(gomock.Any(), gomock.Any(), lockoutClient, gomock.Any(), now).
			DoAndReturn(func(_ context.Context, p user.Phone, _ string, c otp.Code, _ time.Time) (otp.Issued, error) {
				assert.Equal(t, phone, p.String())
				stored = c
				return issued, nil
			}),
		m.sms.EXPECT().Send(gomock.Any(), gomock.Any(), gomock.Any()).
			DoAndReturn(func(_ context.Context, p user.Phone, text string) error {
				assert.Equal(t, phone, p.String())
				assert.Equal(t, "en "+stored.Reveal()+" 3m0s", text, "the stored code, in the request's language")
				return nil
			}),
	)
	got, err := uc.Handle(context.Background(), auth.RequestOTPInput{Phone: " " + phone + " ", Client: lockoutClient, Lang: "en"})
	require.NoError(t, err)
	assert.Equal(t, issued, got)
	assert.Len(t, stored.Reveal(), 6)
	assert.Equal(t, outcomes{ports.OTPSent}, *m.counted)
}

func TestRequestOTP_OnlyUzbekNumbers(t *testing.T) {
	m := newOTPMocks(t) // no EXPECT: storing or texting fails the test
	uc := auth.NewRequestOTP(m.codes, m.sms, texts{}, testsupport.FixedClock(now), m.counted, time.Minute)
	for _, p := range []string{"", "+79161234567", "998901234567", "+99890123456", "+9989012345678"} {
		_, err := uc.Handle(context.Background(), auth.RequestOTPInput{Phone: p, Client: lockoutClient, Lang: "en"})
		require.ErrorIs(t, err, domain.ErrValidation, p)
		assert.Equal(t, []string{"phone"}, testsupport.FieldsOf(t, err), p)
	}
	assert.Empty(t, *m.counted)
}

func TestRequestOTP_RateLimitedTextsNobody(t *testing.T) {
	m := newOTPMocks(t)
	uc := auth.NewRequestOTP(m.codes, m.sms, texts{}, testsupport.FixedClock(now), m.counted, time.Minute)
	refusal := &otp.RateLimitedError{Limit: otp.LimitPhone, RetryAfter: 42 * time.Second}
	m.codes.EXPECT().Issue(gomock.Any(), gomock.Any(), lockoutClient, gomock.Any(), now).Return(otp.Issued{}, refusal)

	_, err := uc.Handle(context.Background(), auth.RequestOTPInput{Phone: phone, Client: lockoutClient})
	require.ErrorIs(t, err, otp.ErrRateLimited)
	assert.Equal(t, outcomes{ports.OTPRateLimited}, *m.counted)
}

func TestRequestOTP_GatewayFailure(t *testing.T) {
	m := newOTPMocks(t)
	uc := auth.NewRequestOTP(m.codes, m.sms, texts{}, testsupport.FixedClock(now), m.counted, time.Minute)
	m.codes.EXPECT().Issue(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any(), now).Return(otp.Issued{}, nil)
	m.sms.EXPECT().Send(gomock.Any(), gomock.Any(), gomock.Any()).Return(fmt.Errorf("eskiz send: %w", sms.ErrNotSent))

	_, err := uc.Handle(context.Background(), auth.RequestOTPInput{Phone: phone, Client: lockoutClient})
	require.ErrorIs(t, err, domain.ErrUnavailable)
	assert.NotContains(t, err.Error(), "901234567", "the number is masked")
	assert.Equal(t, outcomes{ports.OTPSendFailed}, *m.counted)
}

func newVerifyOTP(m otpMocks) *auth.VerifyOTP {
	return auth.NewVerifyOTP(m.codes, m.users, m.sessions, m.tokens, testsupport.FixedID(userID), testsupport.FixedClock(now), policy)
}

func TestVerifyOTP_FirstLoginMakesAVerifiedCustomer(t *testing.T) {
	m := newOTPMocks(t)
	uc := newVerifyOTP(m)
	var created *user.User
	m.codes.EXPECT().Verify(gomock.Any(), gomock.Any(), gomock.Any(), now).Return(nil)
	m.users.EXPECT().GetByVerifiedPhone(gomock.Any(), phone).Return(nil, user.ErrNotFound)
	m.users.EXPECT().Create(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, u *user.User) error {
		created = u
		return nil
	})
	m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil)
	m.users.EXPECT().GetByID(gomock.Any(), userID).DoAndReturn(func(context.Context, string) (*user.User, error) { return created, nil })
	expectSessionStart(m.sessions, m.tokens, phoneUser(user.StatusActive), userID, 0, nil)
	m.sessions.EXPECT().ListActive(gomock.Any(), userID, now).Return(nil, nil)

	res, err := uc.Handle(context.Background(), auth.VerifyOTPInput{Phone: phone, Code: "123456", UserAgent: "app", IP: client})
	require.NoError(t, err)
	assert.True(t, res.Created)
	assert.True(t, res.User.PhoneVerified())
	assert.Empty(t, res.User.Email())
	assert.Equal(t, user.RoleCustomer, res.User.Role())
	assertTokens(t, userID, res.Tokens)
}

func TestVerifyOTP_LaterLoginFindsTheAccount(t *testing.T) {
	m := newOTPMocks(t)
	uc := newVerifyOTP(m) // no Create EXPECT
	existing := phoneUser(user.StatusActive)
	m.codes.EXPECT().Verify(gomock.Any(), gomock.Any(), gomock.Any(), now).Return(nil)
	m.users.EXPECT().GetByVerifiedPhone(gomock.Any(), phone).Return(existing, nil)
	m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(3), nil)
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(existing, nil)
	expectSessionStart(m.sessions, m.tokens, existing, userID, 3, nil)
	m.sessions.EXPECT().ListActive(gomock.Any(), userID, now).Return(nil, nil)

	res, err := uc.Handle(context.Background(), auth.VerifyOTPInput{Phone: phone, Code: "123456"})
	require.NoError(t, err)
	assert.False(t, res.Created)
	assert.Same(t, existing, res.User)
}

func TestVerifyOTP_RaceForTheFirstLoginLogsIntoTheWinner(t *testing.T) {
	m := newOTPMocks(t)
	uc := newVerifyOTP(m)
	winner := phoneUser(user.StatusActive)
	m.codes.EXPECT().Verify(gomock.Any(), gomock.Any(), gomock.Any(), now).Return(nil)
	gomock.InOrder(
		m.users.EXPECT().GetByVerifiedPhone(gomock.Any(), phone).Return(nil, user.ErrNotFound),
		m.users.EXPECT().Create(gomock.Any(), gomock.Any()).Return(user.ErrPhoneTaken),
		m.users.EXPECT().GetByVerifiedPhone(gomock.Any(), phone).Return(winner, nil),
	)
	m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil)
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(winner, nil)
	expectSessionStart(m.sessions, m.tokens, winner, userID, 0, nil)
	m.sessions.EXPECT().ListActive(gomock.Any(), userID, now).Return(nil, nil)

	res, err := uc.Handle(context.Background(), auth.VerifyOTPInput{Phone: phone, Code: "123456"})
	require.NoError(t, err)
	assert.False(t, res.Created)
}

func TestVerifyOTP_WrongCodeAndBlockedAccount(t *testing.T) {
	t.Run("wrong code", func(t *testing.T) {
		m := newOTPMocks(t) // no user lookups
		m.codes.EXPECT().Verify(gomock.Any(), gomock.Any(), gomock.Any(), now).Return(otp.ErrInvalidCode)
		_, err := newVerifyOTP(m).Handle(context.Background(), auth.VerifyOTPInput{Phone: phone, Code: "000000"})
		require.ErrorIs(t, err, otp.ErrInvalidCode)
	})
	t.Run("blocked", func(t *testing.T) {
		m := newOTPMocks(t) // no session
		m.codes.EXPECT().Verify(gomock.Any(), gomock.Any(), gomock.Any(), now).Return(nil)
		m.users.EXPECT().GetByVerifiedPhone(gomock.Any(), phone).Return(phoneUser(user.StatusBlocked), nil)
		_, err := newVerifyOTP(m).Handle(context.Background(), auth.VerifyOTPInput{Phone: phone, Code: "123456"})
		require.ErrorIs(t, err, user.ErrBlocked)
	})
	t.Run("malformed", func(t *testing.T) {
		m := newOTPMocks(t) // nothing tried
		_, err := newVerifyOTP(m).Handle(context.Background(), auth.VerifyOTPInput{Phone: "+1555", Code: "12"})
		assert.ElementsMatch(t, []string{"phone", "code"}, testsupport.FieldsOf(t, err))
	})
}

func newResetPassword(m otpMocks) *auth.ResetPassword {
	return auth.NewResetPassword(m.codes, testsupport.InlineTx{}, m.users, m.hasher, m.sessions, testsupport.FixedClock(now))
}

func TestResetPassword_SetsThePasswordAndEndsEverySession(t *testing.T) {
	m := newOTPMocks(t)
	uc := newResetPassword(m)
	var saved *user.User
	gomock.InOrder(
		m.codes.EXPECT().Verify(gomock.Any(), gomock.Any(), gomock.Any(), now).Return(nil),
		m.users.EXPECT().GetByVerifiedPhone(gomock.Any(), phone).Return(phoneUser(user.StatusActive), nil),
		m.hasher.EXPECT().Hash(gomock.Any(), "N3w-strong-pass").Return("$argon2id$new", nil),
		m.users.EXPECT().GetForUpdate(gomock.Any(), userID).Return(phoneUser(user.StatusActive), nil),
		m.users.EXPECT().Update(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, u *user.User) error {
			saved = u
			return nil
		}),
		m.sessions.EXPECT().RevokeAllForUser(gomock.Any(), userID, "", now).Return(nil),
	)
	require.NoError(t, uc.Handle(context.Background(), auth.ResetPasswordInput{Phone: phone, Code: "123456", NewPassword: "N3w-strong-pass"}))
	assert.Equal(t, "$argon2id$new", saved.PasswordHash())
}

func TestResetPassword_WeakPasswordKeepsTheCode(t *testing.T) {
	m := newOTPMocks(t) // no Verify EXPECT: the code is not tried
	err := newResetPassword(m).Handle(context.Background(), auth.ResetPasswordInput{Phone: phone, Code: "123456", NewPassword: "short"})
	assert.Equal(t, []string{"new_password"}, testsupport.FieldsOf(t, err))
}

func TestResetPassword_NoAccountAnswersLikeAWrongCode(t *testing.T) {
	m := newOTPMocks(t)
	m.codes.EXPECT().Verify(gomock.Any(), gomock.Any(), gomock.Any(), now).Return(nil)
	m.users.EXPECT().GetByVerifiedPhone(gomock.Any(), phone).Return(nil, user.ErrNotFound)
	err := newResetPassword(m).Handle(context.Background(), auth.ResetPasswordInput{Phone: phone, Code: "123456", NewPassword: "N3w-strong-pass"})
	require.ErrorIs(t, err, otp.ErrInvalidCode)
}

func TestUpdateMe(t *testing.T) {
	m := newOTPMocks(t)
	uc := auth.NewUpdateMe(testsupport.InlineTx{}, m.users, m.sessions, testsupport.FixedClock(now))
	m.users.EXPECT().GetForUpdate(gomock.Any(), userID).Return(phoneUser(user.StatusActive), nil)
	m.users.EXPECT().Update(gomock.Any(), gomock.Any()).Return(fmt.Errorf("update: %w", user.ErrEmailTaken))
	name, mail := "Ann", "taken@example.uz"
	_, err := uc.Handle(context.Background(), auth.UpdateMeInput{Claims: claimsOf(userID, sessionID), FullName: &name, Email: &mail})
	require.ErrorIs(t, err, user.ErrEmailTaken)

	m.users.EXPECT().GetForUpdate(gomock.Any(), userID).Return(phoneUser(user.StatusActive), nil)
	m.users.EXPECT().Update(gomock.Any(), gomock.Any()).Return(nil)
	// after the commit, every session of the user drops its cached profile
	m.sessions.EXPECT().ForgetProfiles(gomock.Any(), userID).Return(nil)
	mail = "ann@example.uz"
	got, err := uc.Handle(context.Background(), auth.UpdateMeInput{Claims: claimsOf(userID, sessionID), FullName: &name, Email: &mail})
	require.NoError(t, err)
	assert.Equal(t, "ann@example.uz", got.Email())
	assert.Equal(t, "Ann", got.FullName())

	// a failed forget is reported: other sessions might show the old profile
	m.users.EXPECT().GetForUpdate(gomock.Any(), userID).Return(phoneUser(user.StatusActive), nil)
	m.users.EXPECT().Update(gomock.Any(), gomock.Any()).Return(nil)
	m.sessions.EXPECT().ForgetProfiles(gomock.Any(), userID).Return(fmt.Errorf("redis: %w", domain.ErrUnavailable))
	_, err = uc.Handle(context.Background(), auth.UpdateMeInput{Claims: claimsOf(userID, sessionID), FullName: &name})
	require.ErrorIs(t, err, domain.ErrUnavailable)
}
