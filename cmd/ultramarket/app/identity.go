package app

import (
	"fmt"

	"github.com/ultramarket/gateway/adapters/crypto"
	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/adapters/i18n"
	"github.com/ultramarket/gateway/adapters/jwt"
	"github.com/ultramarket/gateway/adapters/redis"
	"github.com/ultramarket/gateway/adapters/sms/console"
	"github.com/ultramarket/gateway/adapters/sms/eskiz"
	"github.com/ultramarket/gateway/adapters/sms/smstexts"
	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/domain/otp"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/ports"
)

// The access token's iss and aud. Fixed: a token of another service signed
// with a shared secret must not be taken for one of ours.
const (
	tokenIssuer   = "ultramarket"
	tokenAudience = "ultramarket-api"
)

// identityDeps are what Build has already made that the identity routes share
// with the rest of the app.
type identityDeps struct {
	users       ports.UserRepository
	tx          ports.TxManager
	hasher      ports.PasswordHasher
	clock       ports.Clock
	ids         ports.IDGenerator
	redisPrefix string
}

// wireIdentity builds the token issuer, the Redis session store and login
// guard, and the auth and admin use cases, and mounts /api/auth and
// /api/admin on the public server.
func (a *App) wireIdentity(d identityDeps) error {
	tokens, err := jwt.NewTokenIssuer(jwt.Config{
		Secret:   []byte(a.cfg.JWTSecret),
		Issuer:   tokenIssuer,
		Audience: tokenAudience,
		TTL:      a.cfg.AccessTokenTTL,
		Now:      d.clock.Now,
	})
	if err != nil {
		return fmt.Errorf("token issuer: %w", err)
	}
	sessions := redis.NewSessionStore(a.redis, d.redisPrefix)
	guard := redis.NewLoginGuard(a.redis, d.redisPrefix, redis.LoginPolicy{
		ClientFailures: auth.LockoutFailures, ClientWindow: auth.LockoutWindow,
		EmailFailures: auth.EmailLockoutFailures, EmailWindow: auth.EmailLockoutWindow,
	})
	policy := auth.SessionPolicy{
		Lifetime:   session.Lifetime{TTL: a.cfg.RefreshTokenTTL, MaxAge: a.cfg.SessionMaxAge},
		MaxPerUser: a.cfg.SessionMaxPerUser,
	}

	phone, err := a.wirePhoneLogin(d, sessions, tokens, policy)
	if err != nil {
		return err
	}

	login, err := auth.NewLogin(d.users, d.hasher, guard, sessions, tokens, d.ids, d.clock, policy)
	if err != nil {
		return err
	}
	authenticate := auth.NewAuthenticate(tokens, sessions, d.clock)
	a.authenticate = authenticate // every other authenticated route shares it
	httpapi.RegisterAuth(a.public, httpapi.AuthUseCases{
		Authenticate:   authenticate,
		Register:       auth.NewRegister(d.users, d.hasher, sessions, tokens, d.ids, d.clock, policy.Lifetime),
		Login:          login,
		Refresh:        auth.NewRefresh(d.users, sessions, tokens, d.clock, policy.Lifetime),
		Logout:         auth.NewLogout(sessions, d.clock),
		LogoutAll:      auth.NewLogoutAll(sessions, d.clock),
		Me:             auth.NewMe(d.users, sessions),
		ListSessions:   auth.NewListSessions(sessions, d.clock),
		DeleteSession:  auth.NewDeleteSession(sessions, d.clock),
		ChangePassword: auth.NewChangePassword(d.tx, d.users, d.hasher, guard, sessions, d.clock),
		UpdateMe:       auth.NewUpdateMe(d.tx, d.users, sessions, d.clock),
		RequestOTP:     phone.request,
		VerifyOTP:      phone.verify,
		ResetPassword:  phone.reset,
	})
	httpapi.RegisterAdmin(a.public, httpapi.AdminUseCases{
		Authenticate:     authenticate,
		ListUsers:        admin.NewListUsers(d.users),
		ChangeRole:       admin.NewChangeRole(d.tx, d.users, sessions, d.clock),
		ChangeStatus:     admin.NewChangeStatus(d.tx, d.users, sessions, d.clock),
		SetSellerProfile: admin.NewSetSellerProfile(d.tx, d.users, sessions, d.clock),
	})
	return nil
}

// otpPepperPurpose names the key the one-time-code store hashes with,
// derived from JWT_SECRET: rotating JWT_SECRET ends every live code too.
const otpPepperPurpose = "ultramarket/otp-pepper/v1"

// phoneLogin is the use cases of phone login.
type phoneLogin struct {
	request *auth.RequestOTP
	verify  *auth.VerifyOTP
	reset   *auth.ResetPassword
}

// wirePhoneLogin builds the code store (Redis), the SMS sender of
// SMS_PROVIDER and the phone-login use cases.
func (a *App) wirePhoneLogin(d identityDeps, sessions ports.SessionStore, tokens ports.TokenIssuer, policy auth.SessionPolicy) (phoneLogin, error) {
	pepper, err := crypto.DerivePepper([]byte(a.cfg.JWTSecret), otpPepperPurpose)
	if err != nil {
		return phoneLogin{}, err
	}
	codePolicy := otp.DefaultPolicy()
	codePolicy.TTL = a.cfg.OTPTTL
	codes, err := redis.NewOTPStore(a.redis, d.redisPrefix, pepper, codePolicy)
	if err != nil {
		return phoneLogin{}, fmt.Errorf("otp store: %w", err)
	}
	var sender ports.SMSSender
	switch a.cfg.SMSProvider {
	case config.SMSEskiz:
		sender, err = eskiz.New(eskiz.Config{
			URL: a.cfg.EskizURL, Email: a.cfg.EskizEmail, Password: a.cfg.EskizPassword, From: a.cfg.EskizFrom,
		})
		if err != nil {
			return phoneLogin{}, fmt.Errorf("eskiz: %w", err)
		}
	default: // config refuses the console in production
		sender = console.New(a.log)
	}
	return phoneLogin{
		request: auth.NewRequestOTP(codes, sender, smstexts.NewCatalogue(i18n.Catalogues()), d.clock, a.metrics, a.cfg.OTPTTL),
		verify:  auth.NewVerifyOTP(codes, d.users, sessions, tokens, d.ids, d.clock, policy),
		reset:   auth.NewResetPassword(codes, d.tx, d.users, d.hasher, sessions, d.clock),
	}, nil
}
