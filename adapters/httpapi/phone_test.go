package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/otp"
	"github.com/ultramarket/gateway/domain/user"
)

const annPhone = "+998901234567"

func phoneAccount(id string) *user.User {
	return user.Restore(id, "", "", "", annPhone, user.RoleCustomer, user.StatusActive, now.Add(-time.Hour), now.Add(-time.Hour)).
		WithPhoneVerified(true)
}

func TestOTP_SendsACodeAndTellsWhenToAskAgain(t *testing.T) {
	f := newIdentity(t)
	var text string
	f.codes.EXPECT().Issue(gomock.Any(), gomock.Any(), "192.0.2.1", gomock.Any(), now).
		Return(otp.Issued{ExpiresIn: 3 * time.Minute, ResendIn: 59500 * time.Millisecond}, nil)
	f.sms.EXPECT().Send(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, _ user.Phone, s string) error {
		text = s
		return nil
	})

	rec := f.call(http.MethodPost, "/api/auth/otp", "", `{"phone":"`+annPhone+`"}`)

	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	body := object(t, rec)
	assert.Equal(t, map[string]any{"expires_in": 180.0, "resend_in": 60.0}, body, "whole seconds, rounded up")
	assert.Contains(t, text, "3 minutes")
	assert.NotContains(t, rec.Body.String(), text[len("UltraMarket: your code is "):][:6], "the code never comes back")
}

func TestOTP_RefusesOtherCountriesAndUnknownFields(t *testing.T) {
	f := newIdentity(t) // no Issue or Send EXPECT
	rec := f.call(http.MethodPost, "/api/auth/otp", "", `{"phone":"+79161234567"}`)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	assert.Equal(t, []string{"phone"}, fieldNames(decodeProblem(t, rec)))

	rec = f.call(http.MethodPost, "/api/auth/otp", "", `{"phone":"`+annPhone+`","purpose":"x"}`)
	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code)
}

func TestOTP_TooEarlyIs429WithRetryAfter(t *testing.T) {
	f := newIdentity(t)
	f.codes.EXPECT().Issue(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any(), now).
		Return(otp.Issued{}, &otp.RateLimitedError{Limit: otp.LimitPhone, RetryAfter: 41500 * time.Millisecond})

	rec := f.call(http.MethodPost, "/api/auth/otp", "", `{"phone":"`+annPhone+`"}`)

	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "rate_limited", decodeProblem(t, rec).Code)
	assert.Equal(t, "42", rec.Header().Get("Retry-After"))
}

func TestOTPVerify_SignsUpAndAnswersCreated(t *testing.T) {
	f := newIdentity(t)
	var made *user.User
	f.codes.EXPECT().Verify(gomock.Any(), gomock.Any(), gomock.Any(), now).Return(nil)
	f.users.EXPECT().GetByVerifiedPhone(gomock.Any(), annPhone).Return(nil, user.ErrNotFound)
	f.users.EXPECT().Create(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, u *user.User) error {
		made = u
		return nil
	})
	f.users.EXPECT().GetByID(gomock.Any(), gomock.Any()).DoAndReturn(func(context.Context, string) (*user.User, error) { return made, nil })
	f.sessions.EXPECT().Create(gomock.Any(), gomock.Any(), int64(0)).Return(nil)
	f.sessions.EXPECT().ListActive(gomock.Any(), gomock.Any(), now).Return(nil, nil)
	f.expectIssue("00000000-0000-4000-8000-000000000002")

	rec := f.call(http.MethodPost, "/api/auth/otp/verify", "", `{"phone":"`+annPhone+`","code":"123456"}`)

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := object(t, rec)
	assert.Equal(t, []string{"created", "tokens", "user"}, keysOf(body))
	assert.Equal(t, true, body["created"])
	u := body["user"].(map[string]any)
	assert.Equal(t, userKeys, keysOf(u))
	assert.Nil(t, u["email"], "no email yet")
	assert.Equal(t, annPhone, u["phone"])
	assert.Equal(t, true, u["phone_verified"])
	assert.Equal(t, "", u["full_name"])
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
}

func TestOTPVerify_WrongCodeIsInvalidCredentials(t *testing.T) {
	f := newIdentity(t)
	f.codes.EXPECT().Verify(gomock.Any(), gomock.Any(), gomock.Any(), now).Return(otp.ErrInvalidCode)
	rec := f.call(http.MethodPost, "/api/auth/otp/verify", "", `{"phone":"`+annPhone+`","code":"000000"}`)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "invalid_credentials", decodeProblem(t, rec).Code)
}

func TestPasswordReset_Is204(t *testing.T) {
	f := newIdentity(t)
	f.codes.EXPECT().Verify(gomock.Any(), gomock.Any(), gomock.Any(), now).Return(nil)
	f.users.EXPECT().GetByVerifiedPhone(gomock.Any(), annPhone).Return(phoneAccount(annID), nil)
	f.hasher.EXPECT().Hash(gomock.Any(), "N3w-strong-pass").Return("$argon2id$new", nil)
	f.users.EXPECT().GetForUpdate(gomock.Any(), annID).Return(phoneAccount(annID), nil)
	f.users.EXPECT().Update(gomock.Any(), gomock.Any()).Return(nil)
	f.sessions.EXPECT().RevokeAllForUser(gomock.Any(), annID, "", now).Return(nil)

	rec := f.call(http.MethodPost, "/api/auth/password/reset", "",
		`{"phone":"`+annPhone+`","code":"123456","new_password":"N3w-strong-pass"}`)
	assert.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
}

func TestPatchMe(t *testing.T) {
	f := newIdentity(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.users.EXPECT().GetForUpdate(gomock.Any(), annID).Return(phoneAccount(annID), nil)
	f.users.EXPECT().Update(gomock.Any(), gomock.Any()).Return(nil)

	rec := f.call(http.MethodPatch, "/api/auth/me", token, `{"full_name":"Ann Lee","email":" Ann@Example.UZ "}`)

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	u := object(t, rec)["user"].(map[string]any)
	assert.Equal(t, "ann@example.uz", u["email"])
	assert.Equal(t, "Ann Lee", u["full_name"])

	f.users.EXPECT().GetForUpdate(gomock.Any(), annID).Return(phoneAccount(annID), nil)
	f.users.EXPECT().Update(gomock.Any(), gomock.Any()).Return(user.ErrEmailTaken)
	rec = f.call(http.MethodPatch, "/api/auth/me", token, `{"email":"taken@example.uz"}`)
	assert.Equal(t, http.StatusConflict, rec.Code)
	assert.Equal(t, "email_taken", decodeProblem(t, rec).Code)

	rec = f.call(http.MethodPatch, "/api/auth/me", "", `{"full_name":"X"}`)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestRegister_PhoneVerifiedElsewhereIsConflict(t *testing.T) {
	f := newIdentity(t)
	f.users.EXPECT().GetByVerifiedPhone(gomock.Any(), annPhone).Return(phoneAccount(bobID), nil)
	rec := f.call(http.MethodPost, "/api/auth/register", "",
		`{"email":"ann@example.uz","password":"`+password+`","full_name":"Ann","phone":"`+annPhone+`"}`)
	assert.Equal(t, http.StatusConflict, rec.Code)
	assert.Equal(t, "conflict", decodeProblem(t, rec).Code)
}
