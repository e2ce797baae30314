package redis

import (
	"context"
	"time"

	"github.com/ultramarket/gateway/domain/user"
)

// ReserveOTPCheck runs only the first step of Verify, as a Verify still
// comparing would have: the comparison is taken and never settled.
func ReserveOTPCheck(ctx context.Context, s *OTPStore, phone user.Phone, now time.Time) error {
	return reserveScript.Run(ctx, s.client, s.phoneKeys(phone)[:1], now.UnixMilli(), s.policy.MaxWrong).Err()
}
