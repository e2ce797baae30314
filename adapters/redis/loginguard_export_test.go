package redis

import "time"

// SetLoginAttemptTTL shortens how long an unsettled login attempt stays
// reserved, so a test can watch one expire.
func SetLoginAttemptTTL(g *LoginGuard, d time.Duration) { g.attemptTTL = d }
