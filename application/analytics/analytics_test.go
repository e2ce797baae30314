package analytics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/analytics"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

// now is 15:30 in Tashkent (UTC+5) on Sunday 2025-06-15.
var now = time.Date(2025, 6, 15, 10, 30, 0, 0, time.UTC)

var (
	admin    = user.Actor{ID: "a1", Role: user.RoleAdmin}
	super    = user.Actor{ID: "a2", Role: user.RoleSuperAdmin}
	customer = user.Actor{ID: "c1", Role: user.RoleCustomer}
	seller   = user.Actor{ID: "s1", Role: user.RoleSeller}
)

func tashkent(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Tashkent")
	require.NoError(t, err)
	return loc
}

func intp(n int) *int { return &n }

func newMock(t *testing.T) *mocks.MockAnalytics {
	return mocks.NewMockAnalytics(gomock.NewController(t))
}

// locNamed matches a *time.Location by name.
type locNamed string

func (m locNamed) Matches(x any) bool {
	l, ok := x.(*time.Location)
	return ok && l.String() == string(m)
}
func (m locNamed) String() string { return "location " + string(m) }

// --- Sales ---

func TestSales_DefaultsToTheLast30DaysByDayInTashkent(t *testing.T) {
	a := newMock(t)
	loc := tashkent(t)
	wantFrom := time.Date(2025, 5, 17, 0, 0, 0, 0, loc) // 30 days with today
	pts := []ports.SalesPoint{{PeriodStart: wantFrom, Orders: 2, Revenue: money.MustTiyin(500)}}
	a.EXPECT().Sales(gomock.Any(), gomock.Any(), now, ports.IntervalDay, locNamed("Asia/Tashkent")).
		DoAndReturn(func(_ context.Context, from, _ time.Time, _ ports.Interval, _ *time.Location) ([]ports.SalesPoint, error) {
			assert.True(t, from.Equal(wantFrom), "from %s", from)
			return pts, nil
		})

	got, err := analytics.NewSales(a, testsupport.FixedClock(now)).Handle(context.Background(), analytics.SalesInput{Actor: admin})
	require.NoError(t, err)
	assert.Equal(t, pts, got.Points)
	assert.Equal(t, ports.IntervalDay, got.Interval)
	assert.Equal(t, "Asia/Tashkent", got.Location.String())
	assert.True(t, got.From.Equal(wantFrom))
	assert.True(t, got.To.Equal(now))
}

func TestSales_DatesAreDaysInTheZoneAndToIncludesItsDay(t *testing.T) {
	a := newMock(t)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	a.EXPECT().Sales(gomock.Any(),
		time.Date(2025, 1, 6, 0, 0, 0, 0, ny),
		time.Date(2025, 2, 1, 0, 0, 0, 0, ny), // the whole of Jan 31
		ports.IntervalWeek, locNamed("America/New_York")).Return(nil, nil)

	got, err := analytics.NewSales(a, testsupport.FixedClock(now)).Handle(context.Background(), analytics.SalesInput{
		Actor: super, From: "2025-01-06", To: "2025-01-31", Interval: "week", TZ: "America/New_York",
	})
	require.NoError(t, err)
	assert.Equal(t, []ports.SalesPoint{}, got.Points)
}

func TestSales_TimestampsAreTakenAsTheyAre(t *testing.T) {
	a := newMock(t)
	from := time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("", 5*3600))
	to := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	a.EXPECT().Sales(gomock.Any(), from, to, ports.IntervalMonth, locNamed("UTC")).Return(nil, nil)
	_, err := analytics.NewSales(a, testsupport.FixedClock(now)).Handle(context.Background(), analytics.SalesInput{
		Actor: admin, From: "2025-03-01T10:00:00+05:00", To: "2025-06-01T00:00:00Z", Interval: "month", TZ: "UTC",
	})
	require.NoError(t, err)
}

func TestSales_DefaultFromBeforeAGivenTo(t *testing.T) {
	a := newMock(t)
	loc := tashkent(t)
	a.EXPECT().Sales(gomock.Any(), time.Date(2025, 1, 2, 0, 0, 0, 0, loc), time.Date(2025, 2, 1, 0, 0, 0, 0, loc),
		ports.IntervalDay, gomock.Any()).Return(nil, nil)
	_, err := analytics.NewSales(a, testsupport.FixedClock(now)).Handle(context.Background(), analytics.SalesInput{Actor: admin, To: "2025-01-31"})
	require.NoError(t, err)
}

func TestSales_BadParametersAreNamed(t *testing.T) {
	tests := []struct {
		name string
		in   analytics.SalesInput
		want []string
	}{
		{"every parameter", analytics.SalesInput{From: "yesterday", To: "2025-13-01", Interval: "hour", TZ: "Mars/Olympus"},
			[]string{"tz", "interval", "to", "from"}},
		{"a timestamp without zone", analytics.SalesInput{From: "2025-01-01T00:00:00"}, []string{"from"}},
		{"the host's zone", analytics.SalesInput{TZ: "Local"}, []string{"tz"}},
		{"from after to", analytics.SalesInput{From: "2025-02-02", To: "2025-02-01"}, []string{"from"}},
		{"a from timestamp after the to date", analytics.SalesInput{From: "2025-02-01T19:00:00Z", To: "2025-02-01"}, []string{"from"}},
		{"from after a timestamp to", analytics.SalesInput{From: "2025-02-01T00:00:01Z", To: "2025-02-01T00:00:00Z"}, []string{"from"}},
		{"too many periods", analytics.SalesInput{From: "0001-01-01", To: "9999-12-31"}, []string{"from"}},
		{"too many days", analytics.SalesInput{From: "2000-01-01", To: "2025-01-01"}, []string{"from"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newMock(t) // no Sales
			tt.in.Actor = admin
			_, err := analytics.NewSales(a, testsupport.FixedClock(now)).Handle(context.Background(), tt.in)
			assert.Equal(t, tt.want, testsupport.FieldsOf(t, err))
		})
	}
}

func TestSales_LongRangesByMonthAreFine(t *testing.T) {
	a := newMock(t)
	a.EXPECT().Sales(gomock.Any(), gomock.Any(), gomock.Any(), ports.IntervalMonth, gomock.Any()).Return(nil, nil)
	_, err := analytics.NewSales(a, testsupport.FixedClock(now)).Handle(context.Background(), analytics.SalesInput{
		Actor: admin, From: "2000-01-01", To: "2025-01-01", Interval: "month",
	})
	require.NoError(t, err)
}

func TestSales_OneDay(t *testing.T) {
	a := newMock(t)
	loc := tashkent(t)
	a.EXPECT().Sales(gomock.Any(), time.Date(2025, 2, 1, 0, 0, 0, 0, loc), time.Date(2025, 2, 2, 0, 0, 0, 0, loc),
		ports.IntervalDay, gomock.Any()).Return(nil, nil)
	_, err := analytics.NewSales(a, testsupport.FixedClock(now)).Handle(context.Background(), analytics.SalesInput{
		Actor: admin, From: "2025-02-01", To: "2025-02-01",
	})
	require.NoError(t, err)
}

func TestSales_FromEqualToIsAnEmptyRange(t *testing.T) {
	a := newMock(t)
	at := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	a.EXPECT().Sales(gomock.Any(), at, at, ports.IntervalDay, gomock.Any()).Return(nil, nil)
	_, err := analytics.NewSales(a, testsupport.FixedClock(now)).Handle(context.Background(), analytics.SalesInput{
		Actor: admin, From: "2025-02-01T00:00:00Z", To: "2025-02-01T00:00:00Z",
	})
	require.NoError(t, err)
}

// --- every report: admins only ---

func TestReports_AdminsOnly(t *testing.T) {
	for _, c := range []user.Actor{customer, seller, {}} {
		a := newMock(t) // nothing is asked
		ctx := context.Background()
		_, err := analytics.NewSales(a, testsupport.FixedClock(now)).Handle(ctx, analytics.SalesInput{Actor: c})
		assert.ErrorIs(t, err, analytics.ErrNotAllowed)
		assert.ErrorIs(t, err, domain.ErrForbidden)
		_, err = analytics.NewOrders(a).Handle(ctx, analytics.OrdersInput{Actor: c})
		assert.ErrorIs(t, err, domain.ErrForbidden)
		_, err = analytics.NewPayments(a).Handle(ctx, analytics.PaymentsInput{Actor: c})
		assert.ErrorIs(t, err, domain.ErrForbidden)
		_, err = analytics.NewTopProducts(a).Handle(ctx, analytics.TopProductsInput{Actor: c, Limit: intp(0)})
		assert.ErrorIs(t, err, domain.ErrForbidden, "403 before 422")
	}
}

func TestReports_PropagateStorageErrors(t *testing.T) {
	a := newMock(t)
	boom := errors.New("boom")
	a.EXPECT().Sales(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, boom)
	a.EXPECT().OrdersByStatus(gomock.Any()).Return(nil, boom)
	a.EXPECT().PaymentsByProvider(gomock.Any()).Return(nil, boom)
	a.EXPECT().TopProducts(gomock.Any(), 10).Return(nil, boom)
	ctx := context.Background()
	_, err := analytics.NewSales(a, testsupport.FixedClock(now)).Handle(ctx, analytics.SalesInput{Actor: admin})
	assert.ErrorIs(t, err, boom)
	_, err = analytics.NewOrders(a).Handle(ctx, analytics.OrdersInput{Actor: admin})
	assert.ErrorIs(t, err, boom)
	_, err = analytics.NewPayments(a).Handle(ctx, analytics.PaymentsInput{Actor: admin})
	assert.ErrorIs(t, err, boom)
	_, err = analytics.NewTopProducts(a).Handle(ctx, analytics.TopProductsInput{Actor: admin})
	assert.ErrorIs(t, err, boom)
}

// --- Orders, Payments, TopProducts ---

func TestOrders_EveryStatusIsReported(t *testing.T) {
	a := newMock(t)
	a.EXPECT().OrdersByStatus(gomock.Any()).Return(map[order.Status]int64{order.StatusPaid: 3, order.StatusCancelled: 1}, nil)
	got, err := analytics.NewOrders(a).Handle(context.Background(), analytics.OrdersInput{Actor: admin})
	require.NoError(t, err)
	assert.Equal(t, map[order.Status]int64{
		order.StatusPendingPayment: 0, order.StatusPaid: 3, order.StatusShipped: 0,
		order.StatusDelivered: 0, order.StatusCancelled: 1, order.StatusRefunded: 0,
	}, got)
}

func TestPayments_BothProvidersAreReported(t *testing.T) {
	a := newMock(t)
	a.EXPECT().PaymentsByProvider(gomock.Any()).Return(map[payment.Provider]ports.ProviderTotal{
		payment.ProviderClick: {Count: 2, Amount: money.MustTiyin(700)},
	}, nil)
	got, err := analytics.NewPayments(a).Handle(context.Background(), analytics.PaymentsInput{Actor: super})
	require.NoError(t, err)
	assert.Equal(t, map[payment.Provider]ports.ProviderTotal{
		payment.ProviderPayme: {},
		payment.ProviderClick: {Count: 2, Amount: money.MustTiyin(700)},
	}, got)
}

func TestTopProducts_Limit(t *testing.T) {
	a := newMock(t)
	top := []ports.TopProduct{{ProductID: "p1", Name: "Lagan", Quantity: 3, Revenue: money.MustTiyin(900)}}
	a.EXPECT().TopProducts(gomock.Any(), 10).Return(top, nil)
	a.EXPECT().TopProducts(gomock.Any(), 1).Return(nil, nil)
	a.EXPECT().TopProducts(gomock.Any(), 100).Return(nil, nil)

	uc := analytics.NewTopProducts(a)
	got, err := uc.Handle(context.Background(), analytics.TopProductsInput{Actor: admin})
	require.NoError(t, err)
	assert.Equal(t, top, got)
	got, err = uc.Handle(context.Background(), analytics.TopProductsInput{Actor: admin, Limit: intp(1)})
	require.NoError(t, err)
	assert.Equal(t, []ports.TopProduct{}, got)
	_, err = uc.Handle(context.Background(), analytics.TopProductsInput{Actor: admin, Limit: intp(100)})
	require.NoError(t, err)

	for _, bad := range []int{0, -1, 101} {
		_, err = uc.Handle(context.Background(), analytics.TopProductsInput{Actor: admin, Limit: intp(bad)})
		assert.Equal(t, []string{"limit"}, testsupport.FieldsOf(t, err), bad)
	}
}
