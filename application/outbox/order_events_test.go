package outbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/outbox"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

const (
	eventID      = "0e0e0e0e-0000-4000-8000-000000000001"
	eventOrderID = "99999999-0000-4000-8000-000000000009"
	eventUserID  = "44444444-0000-4000-8000-000000000004"
)

func paidOrder(paidAt time.Time) *order.Order {
	return order.Restore(eventOrderID, eventUserID, order.StatusPaid, nil, money.MustTiyin(15000050), order.Address{}, "",
		paidAt.Add(-time.Hour), paidAt, paidAt, time.Time{}, time.Time{}, time.Time{}, time.Time{})
}

// The outbox row is the event of API.md, byte for byte: its id is the event
// id, its subject ultramarket.order.<name>, its body the JSON a consumer reads.
func TestOrderEventsRecordsTheBodyOfAPIMD(t *testing.T) {
	store := mocks.NewMockOutbox(gomock.NewController(t))
	paidAt := time.Date(2026, 3, 1, 9, 30, 0, 123000000, time.FixedZone("UZT", 5*3600))
	recordedAt := paidAt.Add(time.Millisecond)
	events := outbox.NewOrderEvents(store, testsupport.FixedID(eventID), testsupport.FixedClock(recordedAt))

	var got ports.OutboxMessage
	store.EXPECT().Append(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, m ports.OutboxMessage) error {
		got = m
		return nil
	})
	require.NoError(t, events.Record(context.Background(), paidOrder(paidAt)))

	assert.Equal(t, eventID, got.ID)
	assert.Equal(t, ports.OutboxEvent, got.Kind)
	assert.Equal(t, eventOrderID, got.AggregateID, "per-order order is kept by aggregate")
	assert.Equal(t, "ultramarket.order.paid", got.Subject)
	assert.Equal(t, recordedAt, got.CreatedAt)
	assert.JSONEq(t, `{"id":"`+eventID+`","type":"order.paid","order_id":"`+eventOrderID+`","user_id":"`+eventUserID+`",
		"status":"paid","total":15000050,"currency":"UZS","occurred_at":"2026-03-01T04:30:00.123Z"}`, string(got.Payload))
}

func TestOrderEventsPlacedCarriesPendingPayment(t *testing.T) {
	store := mocks.NewMockOutbox(gomock.NewController(t))
	events := outbox.NewOrderEvents(store, testsupport.FixedID(eventID), testsupport.FixedClock(now)).WithSubjectPrefix("ut_1")
	o, err := order.New(eventOrderID, eventUserID, []order.Item{{ProductID: "p", UnitPrice: money.MustTiyin(100), Quantity: 3}},
		order.Address{Region: "R", City: "C", Street: "S", Phone: "+998901234567"}, "", now)
	require.NoError(t, err)

	store.EXPECT().Append(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, m ports.OutboxMessage) error {
		assert.Equal(t, "ut_1.order.placed", m.Subject)
		assert.JSONEq(t, `{"id":"`+eventID+`","type":"order.placed","order_id":"`+eventOrderID+`","user_id":"`+eventUserID+`",
			"status":"pending_payment","total":300,"currency":"UZS","occurred_at":"2025-06-01T12:00:00Z"}`, string(m.Payload))
		return nil
	})
	require.NoError(t, events.Record(context.Background(), o))
}

func TestOrderEventsReturnsTheStoreError(t *testing.T) {
	store := mocks.NewMockOutbox(gomock.NewController(t))
	events := outbox.NewOrderEvents(store, testsupport.FixedID(eventID), testsupport.FixedClock(now))
	boom := errors.New("no transaction")
	store.EXPECT().Append(gomock.Any(), gomock.Any()).Return(boom)
	err := events.Record(context.Background(), paidOrder(now))
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), eventOrderID)
}
