package otp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/otp"
)

func TestDefaultPolicyIsAPIs(t *testing.T) {
	p := otp.DefaultPolicy()
	assert.NoError(t, p.Validate())
	assert.Equal(t, otp.Policy{
		TTL: 3 * time.Minute, MaxWrong: 5, Cooldown: time.Minute,
		PhoneSends: 5, PhoneWindow: time.Hour, ClientSends: 20, ClientWindow: time.Hour,
	}, p)
}

func TestPolicyValidate(t *testing.T) {
	for name, edit := range map[string]func(*otp.Policy){
		"no lifetime":        func(p *otp.Policy) { p.TTL = 0 },
		"longer than 10 min": func(p *otp.Policy) { p.TTL = 11 * time.Minute },
		"no tries":           func(p *otp.Policy) { p.MaxWrong = 0 },
		"negative cooldown":  func(p *otp.Policy) { p.Cooldown = -time.Second },
		"no phone sends":     func(p *otp.Policy) { p.PhoneSends = 0 },
		"no phone window":    func(p *otp.Policy) { p.PhoneWindow = 0 },
		"no client sends":    func(p *otp.Policy) { p.ClientSends = 0 },
		"no client window":   func(p *otp.Policy) { p.ClientWindow = time.Microsecond },
	} {
		t.Run(name, func(t *testing.T) {
			p := otp.DefaultPolicy()
			edit(&p)
			assert.Error(t, p.Validate(), name)
		})
	}
	p := otp.DefaultPolicy()
	p.TTL = otp.MaxTTL
	assert.NoError(t, p.Validate())
}

func TestErrorCategories(t *testing.T) {
	assert.ErrorIs(t, otp.ErrInvalidCode, domain.ErrUnauthorized)
	var err error = &otp.RateLimitedError{Limit: otp.LimitPhone, RetryAfter: 42 * time.Second}
	assert.ErrorIs(t, err, otp.ErrRateLimited)
	var rl *otp.RateLimitedError
	assert.True(t, errors.As(err, &rl))
	assert.Contains(t, err.Error(), "phone")
	assert.Contains(t, err.Error(), "42s")
	assert.Equal(t, 42*time.Second, rl.RetryAfterHint(), "the edge's Retry-After")
}
