// Package analytics holds the admin dashboards: sales over time, orders by
// status, payments by provider and the best-selling products. The numbers
// are computed in SQL (ports.Analytics); this package checks who may see
// them and turns query parameters into a well-defined question.
package analytics

import (
	"fmt"
	_ "time/tzdata" // the default zone must load even where the host has no zoneinfo (static images)

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
)

// ErrNotAllowed: analytics are for admins only (403 forbidden).
var ErrNotAllowed = fmt.Errorf("analytics: not allowed: %w", domain.ErrForbidden)

func checkAdmin(c user.Actor) error {
	if !c.IsAdmin() {
		return fmt.Errorf("analytics asked for as %q: %w", c.Role, ErrNotAllowed)
	}
	return nil
}
