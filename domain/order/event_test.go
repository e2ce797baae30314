package order_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
)

func TestStatusEventNamesTheChange(t *testing.T) {
	placedAt := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	o, err := order.New("o-1", "u-1", []order.Item{{ProductID: "p-1", Name: "Tea", UnitPrice: money.MustTiyin(150000), Quantity: 2}},
		order.Address{Region: "Toshkent", City: "Toshkent", Street: "Amir Temur 1", Phone: "+998901234567"}, "", placedAt)
	require.NoError(t, err)

	placed := o.StatusEvent("e-1")
	assert.Equal(t, order.Event{ID: "e-1", Name: "placed", OrderID: "o-1", UserID: "u-1",
		Status: order.StatusPendingPayment, Total: money.MustTiyin(300000), OccurredAt: placedAt}, placed)
	assert.Equal(t, "order.placed", placed.Type())

	steps := []struct {
		change func(time.Time) error
		name   string
		status order.Status
	}{
		{o.MarkPaid, "paid", order.StatusPaid},
		{func(at time.Time) error { return o.AdvanceTo(order.StatusShipped, at) }, "shipped", order.StatusShipped},
		{func(at time.Time) error { return o.AdvanceTo(order.StatusDelivered, at) }, "delivered", order.StatusDelivered},
	}
	for i, s := range steps {
		at := placedAt.Add(time.Duration(i+1) * time.Hour)
		require.NoError(t, s.change(at))
		e := o.StatusEvent("e")
		assert.Equal(t, s.name, e.Name)
		assert.Equal(t, "order."+s.name, e.Type())
		assert.Equal(t, s.status, e.Status)
		assert.Equal(t, at, e.OccurredAt, "the moment of the change")
	}

	cancelled, err := order.New("o-2", "u-1", []order.Item{{ProductID: "p-1", UnitPrice: money.MustTiyin(1), Quantity: 1}},
		order.Address{Region: "R", City: "C", Street: "S", Phone: "+998901234567"}, "", placedAt)
	require.NoError(t, err)
	require.NoError(t, cancelled.Cancel(placedAt.Add(time.Minute)))
	assert.Equal(t, "cancelled", cancelled.StatusEvent("e").Name)

	refunded := order.Restore("o-3", "u-1", order.StatusPaid, nil, money.MustTiyin(5), order.Address{}, "",
		placedAt, placedAt, placedAt, time.Time{}, time.Time{}, time.Time{}, time.Time{})
	require.NoError(t, refunded.Refund(placedAt.Add(time.Hour)))
	e := refunded.StatusEvent("e")
	assert.Equal(t, "refunded", e.Name)
	assert.Equal(t, order.StatusRefunded, e.Status)
}
