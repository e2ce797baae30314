package order_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/user"
)

var allStatuses = []order.Status{
	order.StatusPendingPayment, order.StatusPaid, order.StatusShipped,
	order.StatusDelivered, order.StatusCancelled, order.StatusRefunded,
}

func inStatus(s order.Status) *order.Order {
	return order.Restore("o", "u1", s, []order.Item{item("p", 10, 1)}, money.MustTiyin(10), addr, "",
		t0, t0, time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{})
}

// stampOf returns the getter of the timestamp a move into s sets.
func stampOf(o *order.Order, s order.Status) time.Time {
	switch s {
	case order.StatusPaid:
		return o.PaidAt()
	case order.StatusShipped:
		return o.ShippedAt()
	case order.StatusDelivered:
		return o.DeliveredAt()
	case order.StatusCancelled:
		return o.CancelledAt()
	case order.StatusRefunded:
		return o.RefundedAt()
	}
	return time.Time{}
}

type op struct {
	name   string
	to     order.Status
	run    func(o *order.Order, now time.Time) error
	expect map[order.Status]error // from → error; missing means success into `to`
	noop   map[order.Status]bool  // success without change
}

var t1 = t0.Add(time.Hour)

func TestEveryOperationFromEveryStatus(t *testing.T) {
	ops := []op{
		{
			name: "MarkPaid", to: order.StatusPaid,
			run: func(o *order.Order, now time.Time) error { return o.MarkPaid(now) },
			expect: map[order.Status]error{
				order.StatusPaid: order.ErrNotPayable, order.StatusShipped: order.ErrNotPayable,
				order.StatusDelivered: order.ErrNotPayable, order.StatusCancelled: order.ErrNotPayable,
				order.StatusRefunded: order.ErrNotPayable,
			},
		},
		{
			name: "Cancel", to: order.StatusCancelled,
			run: func(o *order.Order, now time.Time) error { return o.Cancel(now) },
			expect: map[order.Status]error{
				order.StatusPaid: order.ErrIllegalTransition, order.StatusShipped: order.ErrIllegalTransition,
				order.StatusDelivered: order.ErrIllegalTransition, order.StatusCancelled: order.ErrIllegalTransition,
				order.StatusRefunded: order.ErrIllegalTransition,
			},
		},
		{
			name: "Refund", to: order.StatusRefunded,
			run: func(o *order.Order, now time.Time) error { return o.Refund(now) },
			expect: map[order.Status]error{
				order.StatusPendingPayment: order.ErrIllegalTransition, order.StatusShipped: order.ErrCannotRefund,
				order.StatusDelivered: order.ErrCannotRefund, order.StatusCancelled: order.ErrIllegalTransition,
			},
			noop: map[order.Status]bool{order.StatusRefunded: true},
		},
	}
	for _, op := range ops {
		for _, from := range allStatuses {
			t.Run(fmt.Sprintf("%s from %s", op.name, from), func(t *testing.T) {
				o := inStatus(from)
				err := op.run(o, t1)
				if want, bad := op.expect[from]; bad {
					assert.ErrorIs(t, err, want)
					assert.Equal(t, from, o.Status())
					assert.Equal(t, t0, o.UpdatedAt())
					assert.True(t, stampOf(o, op.to).IsZero())
					return
				}
				require.NoError(t, err)
				assert.Equal(t, op.to, o.Status())
				if op.noop[from] {
					assert.Equal(t, t0, o.UpdatedAt(), "idempotent replay changes nothing")
					return
				}
				assert.Equal(t, t1, o.UpdatedAt())
				assert.Equal(t, t1, stampOf(o, op.to))
			})
		}
	}
}

func TestAdvanceToEveryPair(t *testing.T) {
	allowed := map[[2]order.Status]bool{
		{order.StatusPaid, order.StatusShipped}:      true,
		{order.StatusShipped, order.StatusDelivered}: true,
	}
	targets := append(append([]order.Status{}, allStatuses...), order.Status("bogus"), order.Status(""))
	for _, from := range allStatuses {
		for _, to := range targets {
			t.Run(fmt.Sprintf("%s→%s", from, to), func(t *testing.T) {
				o := inStatus(from)
				err := o.AdvanceTo(to, t1)
				if allowed[[2]order.Status{from, to}] {
					require.NoError(t, err)
					assert.Equal(t, to, o.Status())
					assert.Equal(t, t1, o.UpdatedAt())
					assert.Equal(t, t1, stampOf(o, to))
					return
				}
				assert.ErrorIs(t, err, order.ErrIllegalTransition)
				assert.Equal(t, from, o.Status())
				assert.Equal(t, t0, o.UpdatedAt())
			})
		}
	}
}

func TestCheckPayable(t *testing.T) {
	for _, s := range allStatuses {
		err := inStatus(s).CheckPayable()
		if s == order.StatusPendingPayment {
			assert.NoError(t, err)
		} else {
			assert.ErrorIs(t, err, order.ErrNotPayable, string(s))
		}
	}
}

func TestFullLifecycle(t *testing.T) {
	o, err := order.New("o", "u", []order.Item{item("p", 10, 1)}, addr, "", t0)
	require.NoError(t, err)
	require.NoError(t, o.MarkPaid(t0.Add(1*time.Minute)))
	require.NoError(t, o.AdvanceTo(order.StatusShipped, t0.Add(2*time.Minute)))
	require.NoError(t, o.AdvanceTo(order.StatusDelivered, t0.Add(3*time.Minute)))
	assert.Equal(t, order.StatusDelivered, o.Status())
	assert.Equal(t, t0.Add(1*time.Minute), o.PaidAt())
	assert.Equal(t, t0.Add(2*time.Minute), o.ShippedAt())
	assert.Equal(t, t0.Add(3*time.Minute), o.DeliveredAt())
	assert.ErrorIs(t, o.Refund(t0.Add(4*time.Minute)), order.ErrCannotRefund)
}

func TestIsOverdue(t *testing.T) {
	ttl := 30 * time.Minute
	for _, s := range allStatuses {
		o := inStatus(s)
		want := s == order.StatusPendingPayment
		assert.Equal(t, want, o.IsOverdue(t0.Add(ttl), ttl), "at ttl, %s", s)
		assert.Equal(t, want, o.IsOverdue(t0.Add(ttl+time.Hour), ttl), "after ttl, %s", s)
		assert.False(t, o.IsOverdue(t0.Add(ttl-time.Nanosecond), ttl), "before ttl, %s", s)
	}
}

func TestOwnedBy(t *testing.T) {
	o := inStatus(order.StatusPaid)
	assert.True(t, o.OwnedBy("u1"))
	assert.False(t, o.OwnedBy("u2"))
	assert.False(t, o.OwnedBy(""))
	anon := order.Restore("o", "", order.StatusPaid, nil, money.Money{}, addr, "", t0, t0, t0, t0, t0, t0, t0)
	assert.False(t, anon.OwnedBy(""), "an empty id never owns anything")
}

// TestVisibleTo is API.md's one rule for an order and its payments: the
// owner and admins (super_admin included); nobody else, and never an actor
// that is no user, whatever role it names.
func TestVisibleTo(t *testing.T) {
	cases := []struct {
		name  string
		actor user.Actor
		want  bool
	}{
		{"owner", user.Actor{ID: "u1", Role: user.RoleCustomer}, true},
		{"owner who became a seller", user.Actor{ID: "u1", Role: user.RoleSeller}, true},
		{"admin", user.Actor{ID: "a1", Role: user.RoleAdmin}, true},
		{"super_admin", user.Actor{ID: "a2", Role: user.RoleSuperAdmin}, true},
		{"another customer", user.Actor{ID: "u2", Role: user.RoleCustomer}, false},
		{"a seller", user.Actor{ID: "s1", Role: user.RoleSeller}, false},
		{"nobody", user.Actor{}, false},
		{"an admin role without a user", user.Actor{Role: user.RoleAdmin}, false},
		{"a super_admin role without a user", user.Actor{Role: user.RoleSuperAdmin}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, inStatus(order.StatusPaid).VisibleTo(c.actor))
		})
	}
	anon := order.Restore("o", "", order.StatusPaid, nil, money.Money{}, addr, "", t0, t0, t0, t0, t0, t0, t0)
	assert.False(t, anon.VisibleTo(user.Actor{}), "an empty id never owns anything")
}
