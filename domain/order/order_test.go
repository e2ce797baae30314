package order_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/test/testsupport"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

var addr = order.Address{Region: "Toshkent", City: "Toshkent", Street: "Amir Temur 1", Phone: "+998901234567"}

func item(id string, price, qty int64) order.Item {
	return order.Item{ProductID: id, Name: "name-" + id, UnitPrice: money.MustTiyin(price), Quantity: qty}
}

func TestParseStatus(t *testing.T) {
	for _, s := range []string{"pending_payment", "paid", "shipped", "delivered", "cancelled", "refunded"} {
		st, err := order.ParseStatus(s)
		require.NoError(t, err)
		assert.Equal(t, order.Status(s), st)
	}
	for _, s := range []string{"", "PAID", "pending", "canceled"} {
		_, err := order.ParseStatus(s)
		assert.ErrorIs(t, err, order.ErrInvalidStatus)
		assert.ErrorIs(t, err, domain.ErrValidation)
		assert.Equal(t, []string{"status"}, testsupport.FieldsOf(t, err))
	}
}

func TestErrorCategories(t *testing.T) {
	assert.ErrorIs(t, order.ErrNotFound, domain.ErrNotFound)
	assert.ErrorIs(t, order.ErrInvalidStatus, domain.ErrValidation)
	assert.ErrorIs(t, order.ErrIllegalTransition, domain.ErrConflict)
	assert.ErrorIs(t, order.ErrNotPayable, domain.ErrConflict)
	assert.ErrorIs(t, order.ErrEmpty, domain.ErrValidation)
	assert.Equal(t, []string{"items"}, testsupport.FieldsOf(t, order.ErrEmpty))
	assert.ErrorIs(t, order.ErrCannotRefund, domain.ErrConflict)
	assert.ErrorIs(t, order.ErrTooManyUnpaid, domain.ErrConflict)
}

func TestCheckRoomForUnpaid(t *testing.T) {
	for _, tc := range []struct {
		unpaid, limit int
		ok            bool
	}{{0, 5, true}, {4, 5, true}, {5, 5, false}, {6, 5, false}, {0, 1, true}, {1, 1, false}} {
		t.Run(fmt.Sprintf("%d of %d", tc.unpaid, tc.limit), func(t *testing.T) {
			err := order.CheckRoomForUnpaid(tc.unpaid, tc.limit)
			if tc.ok {
				assert.NoError(t, err, "%d of %d", tc.unpaid, tc.limit)
				return
			}
			assert.ErrorIs(t, err, order.ErrTooManyUnpaid, "%d of %d", tc.unpaid, tc.limit)
			assert.ErrorIs(t, err, domain.ErrConflict)
		})
	}
}

func TestNew(t *testing.T) {
	a := order.Address{Region: " Toshkent ", City: " Chilonzor", Street: "Bunyodkor 5 ", Phone: " +998901234567 "}
	o, err := order.New("o1", "u1", []order.Item{item("p1", 1000, 2), item("p2", 250, 3)}, a, "  leave at door ", t0)
	require.NoError(t, err)
	assert.Equal(t, "o1", o.ID())
	assert.Equal(t, "u1", o.UserID())
	assert.Equal(t, order.StatusPendingPayment, o.Status())
	assert.Equal(t, int64(2750), o.Total().Tiyin())
	assert.Equal(t, order.Address{Region: "Toshkent", City: "Chilonzor", Street: "Bunyodkor 5", Phone: "+998901234567"}, o.Address())
	assert.Equal(t, "leave at door", o.Note())
	assert.Equal(t, t0, o.CreatedAt())
	assert.Equal(t, t0, o.UpdatedAt())
	for _, ts := range []time.Time{o.PaidAt(), o.ShippedAt(), o.DeliveredAt(), o.CancelledAt(), o.RefundedAt()} {
		assert.True(t, ts.IsZero())
	}
	items := o.Items()
	require.Len(t, items, 2)
	assert.Equal(t, int64(2000), items[0].LineTotal().Tiyin())
	assert.Equal(t, int64(750), items[1].LineTotal().Tiyin())
	items[0].Quantity = 99
	assert.Equal(t, int64(2), o.Items()[0].Quantity, "Items returns a copy")
}

func TestNewMergesDuplicates(t *testing.T) {
	in := []order.Item{item("p1", 1000, 2), item("p2", 500, 1), item("p1", 1000, 3), item("p2", 500, 4), item("p3", 1, 1)}
	o, err := order.New("o", "u", in, addr, "", t0)
	require.NoError(t, err)
	items := o.Items()
	require.Len(t, items, 3)
	assert.Equal(t, "p1", items[0].ProductID, "first occurrence order kept")
	assert.Equal(t, int64(5), items[0].Quantity)
	assert.Equal(t, "p2", items[1].ProductID)
	assert.Equal(t, int64(5), items[1].Quantity)
	assert.Equal(t, "p3", items[2].ProductID)
	assert.Equal(t, int64(5000+2500+1), o.Total().Tiyin())
	assert.Equal(t, int64(3), in[2].Quantity, "input not mutated")
}

func TestNewQuantityBoundaries(t *testing.T) {
	cases := []struct {
		name  string
		items []order.Item
		field string
	}{
		{"qty 0", []order.Item{item("p", 1, 0)}, "items[0].quantity"},
		{"qty -1", []order.Item{item("p", 1, -1)}, "items[0].quantity"},
		{"qty 1", []order.Item{item("p", 1, 1)}, ""},
		{"qty 100", []order.Item{item("p", 1, 100)}, ""},
		{"qty 101", []order.Item{item("p", 1, 101)}, "items[0].quantity"},
		{"second item qty 0", []order.Item{item("a", 1, 1), item("b", 1, 0)}, "items[1].quantity"},
		{"merged 100", []order.Item{item("p", 1, 60), item("p", 1, 40)}, ""},
		{"merged 101", []order.Item{item("x", 1, 1), item("p", 1, 60), item("p", 1, 41)}, "items[1].quantity"},
		{"merged over three", []order.Item{item("p", 1, 50), item("p", 1, 50), item("p", 1, 50)}, "items[0].quantity"},
		{"huge qty", []order.Item{item("p", 1, math.MaxInt64)}, "items[0].quantity"},
		{"unit price 0", []order.Item{{ProductID: "p", UnitPrice: money.Money{}, Quantity: 1}}, "items[0].unit_price"},
		{"empty product id", []order.Item{{ProductID: "", UnitPrice: money.MustTiyin(1), Quantity: 1}}, "items[0].product_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := order.New("o", "u", c.items, addr, "", t0)
			if c.field == "" {
				require.NoError(t, err)
				assert.NotNil(t, o)
				return
			}
			assert.Nil(t, o)
			assert.Equal(t, []string{c.field}, testsupport.FieldsOf(t, err))
		})
	}
}

func TestNewItemCountLimits(t *testing.T) {
	_, err := order.New("o", "u", nil, addr, "", t0)
	assert.ErrorIs(t, err, order.ErrEmpty)
	_, err = order.New("o", "u", []order.Item{}, addr, "", t0)
	assert.ErrorIs(t, err, order.ErrEmpty)

	many := func(n int) []order.Item {
		out := make([]order.Item, n)
		for i := range out {
			out[i] = item(fmt.Sprintf("p%d", i), 1, 1)
		}
		return out
	}
	o, err := order.New("o", "u", many(100), addr, "", t0)
	require.NoError(t, err)
	assert.Len(t, o.Items(), 100)
	_, err = order.New("o", "u", many(101), addr, "", t0)
	assert.Equal(t, []string{"items"}, testsupport.FieldsOf(t, err))
	// 150 lines over 100 distinct products is fine: the limit is on distinct products.
	lines := append(many(100), many(50)...)
	o, err = order.New("o", "u", lines, addr, "", t0)
	require.NoError(t, err)
	assert.Len(t, o.Items(), 100)
	assert.Equal(t, int64(150), o.Total().Tiyin())
}

func TestNewTotalOverflow(t *testing.T) {
	cases := []struct {
		name  string
		items []order.Item
		ok    bool
	}{
		{"line overflows", []order.Item{item("p", math.MaxInt64/2+1, 2)}, false},
		{"sum overflows", []order.Item{item("a", math.MaxInt64/2+1, 1), item("b", math.MaxInt64/2+1, 1)}, false},
		{"exactly max", []order.Item{item("a", math.MaxInt64-1, 1), item("b", 1, 1)}, true},
		{"merged line overflows", []order.Item{item("p", math.MaxInt64/2+1, 1), item("p", math.MaxInt64/2+1, 1)}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := order.New("o", "u", c.items, addr, "", t0)
			if c.ok {
				require.NoError(t, err)
				assert.Equal(t, int64(math.MaxInt64), o.Total().Tiyin())
				return
			}
			assert.ErrorIs(t, err, domain.ErrValidation)
			assert.Equal(t, []string{"items"}, testsupport.FieldsOf(t, err))
		})
	}
}

func TestNewNote(t *testing.T) {
	_, err := order.New("o", "u", []order.Item{item("p", 1, 1)}, addr, strings.Repeat("н", 1000), t0)
	assert.NoError(t, err)
	_, err = order.New("o", "u", []order.Item{item("p", 1, 1)}, addr, strings.Repeat("n", 1001), t0)
	assert.Equal(t, []string{"note"}, testsupport.FieldsOf(t, err))
}

func TestAddressValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*order.Address)
		field string
	}{
		{"valid", func(*order.Address) {}, ""},
		{"region empty", func(a *order.Address) { a.Region = "" }, "shipping_address.region"},
		{"region blank", func(a *order.Address) { a.Region = "  " }, "shipping_address.region"},
		{"region 100", func(a *order.Address) { a.Region = strings.Repeat("р", 100) }, ""},
		{"region 101", func(a *order.Address) { a.Region = strings.Repeat("r", 101) }, "shipping_address.region"},
		{"city empty", func(a *order.Address) { a.City = "" }, "shipping_address.city"},
		{"city 100", func(a *order.Address) { a.City = strings.Repeat("c", 100) }, ""},
		{"city 101", func(a *order.Address) { a.City = strings.Repeat("c", 101) }, "shipping_address.city"},
		{"street empty", func(a *order.Address) { a.Street = "" }, "shipping_address.street"},
		{"street 200", func(a *order.Address) { a.Street = strings.Repeat("ш", 200) }, ""},
		{"street 201", func(a *order.Address) { a.Street = strings.Repeat("s", 201) }, "shipping_address.street"},
		{"phone empty", func(a *order.Address) { a.Phone = "" }, "shipping_address.phone"},
		{"phone trimmed", func(a *order.Address) { a.Phone = " +998901234567 " }, ""},
		{"phone short", func(a *order.Address) { a.Phone = "+99890123456" }, "shipping_address.phone"},
		{"phone long", func(a *order.Address) { a.Phone = "+9989012345678" }, "shipping_address.phone"},
		{"phone no plus", func(a *order.Address) { a.Phone = "998901234567" }, "shipping_address.phone"},
		{"phone other country", func(a *order.Address) { a.Phone = "+799012345678" }, "shipping_address.phone"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := addr
			c.edit(&a)
			err := a.Validate()
			_, newErr := order.New("o", "u", []order.Item{item("p", 1, 1)}, a, "", t0)
			if c.field == "" {
				assert.NoError(t, err)
				assert.NoError(t, newErr)
				return
			}
			assert.Equal(t, []string{c.field}, testsupport.FieldsOf(t, err))
			assert.Equal(t, []string{c.field}, testsupport.FieldsOf(t, newErr))
		})
	}
	err := order.Address{}.Validate()
	assert.ElementsMatch(t, []string{"shipping_address.region", "shipping_address.city", "shipping_address.street", "shipping_address.phone"}, testsupport.FieldsOf(t, err))
}

func TestNewReportsEveryField(t *testing.T) {
	_, err := order.New("o", "u", []order.Item{item("p", 1, 0)}, order.Address{Region: "r", City: "c", Street: "s"}, strings.Repeat("x", 1001), t0)
	assert.ElementsMatch(t, []string{"items[0].quantity", "note", "shipping_address.phone"}, testsupport.FieldsOf(t, err))
}

func TestLineTotal(t *testing.T) {
	assert.Equal(t, int64(0), order.Item{UnitPrice: money.MustTiyin(5)}.LineTotal().Tiyin())
	assert.Equal(t, int64(1500), item("p", 500, 3).LineTotal().Tiyin())
}

func TestRestoreAndGetters(t *testing.T) {
	ts := make([]time.Time, 7)
	for i := range ts {
		ts[i] = t0.Add(time.Duration(i) * time.Hour)
	}
	items := []order.Item{item("p", 10, 2)}
	o := order.Restore("o", "u", order.StatusRefunded, items, money.MustTiyin(20), addr, "n", ts[0], ts[1], ts[2], ts[3], ts[4], ts[5], ts[6])
	items[0].Quantity = 50
	assert.Equal(t, int64(2), o.Items()[0].Quantity, "Restore copies the items")
	assert.Equal(t, order.StatusRefunded, o.Status())
	assert.Equal(t, int64(20), o.Total().Tiyin())
	assert.Equal(t, addr, o.Address())
	assert.Equal(t, "n", o.Note())
	assert.Equal(t, []time.Time{ts[0], ts[1], ts[2], ts[3], ts[4], ts[5], ts[6]},
		[]time.Time{o.CreatedAt(), o.UpdatedAt(), o.PaidAt(), o.ShippedAt(), o.DeliveredAt(), o.CancelledAt(), o.RefundedAt()})
}
