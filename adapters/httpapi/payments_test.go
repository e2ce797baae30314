package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports/mocks"
)

const payOrderID = "3c59dc04-8d73-4e5b-9b1a-6d2e7f8a9b01"

// paymentsAPI is the identity fixture with /api/payments mounted on the real
// use cases, their repositories mocked.
type paymentsAPI struct {
	identity
	orders *mocks.MockOrderRepository
	links  *mocks.MockPaymentLinks
	payme  *mocks.MockPaymeRepository
	clicks *mocks.MockClickRepository
}

func newPaymentsAPI(t *testing.T) paymentsAPI {
	t.Helper()
	ctrl := gomock.NewController(t)
	f := paymentsAPI{identity: newIdentity(t), orders: mocks.NewMockOrderRepository(ctrl), links: mocks.NewMockPaymentLinks(ctrl),
		payme: mocks.NewMockPaymeRepository(ctrl), clicks: mocks.NewMockClickRepository(ctrl)}
	httpapi.RegisterPayments(f.e, httpapi.PaymentUseCases{
		Authenticate:     f.authenticate,
		CreateLink:       payments.NewCreatePaymentLink(f.orders, f.links, payments.ReturnURLPolicy{Hosts: []string{"shop.example.uz"}}),
		ListTransactions: payments.NewListTransactions(f.orders, f.payme, f.clicks),
	})
	return f
}

// annOrder is an order of annID totalling 50 000.00 so'm.
func annOrder(status order.Status) *order.Order { return orderOf(annID, status) }

func orderOf(owner string, status order.Status) *order.Order {
	var paidAt time.Time
	if status != order.StatusPendingPayment && status != order.StatusCancelled {
		paidAt = now
	}
	return order.Restore(payOrderID, owner, status, []order.Item{{ProductID: "a87ff679-a2f3-471d-8181-a67b7542122c",
		Name: "Lagan", UnitPrice: money.MustTiyin(5_000_000), Quantity: 1}}, money.MustTiyin(5_000_000),
		order.Address{Region: "Toshkent", City: "Toshkent", Street: "Amir Temur 1", Phone: "+998901234567"}, "",
		now, now, paidAt, time.Time{}, time.Time{}, time.Time{}, time.Time{})
}

func TestCreatePayment_201WithTheLink(t *testing.T) {
	f := newPaymentsAPI(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.orders.EXPECT().Get(gomock.Any(), payOrderID).Return(annOrder(order.StatusPendingPayment), nil)
	f.links.EXPECT().ClickURL(payOrderID, money.MustTiyin(5_000_000), "https://shop.example.uz/done").
		Return("https://my.click.uz/services/pay?amount=50000.00", nil)

	rec := f.call(http.MethodPost, "/api/payments", token,
		`{"order_id":"`+payOrderID+`","provider":"click","return_url":"https://shop.example.uz/done"}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"order_id":"`+payOrderID+`","provider":"click","amount":5000000,"currency":"UZS",
		"payment_url":"https://my.click.uz/services/pay?amount=50000.00"}`, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
}

func TestCreatePayment_ReturnURLMayBeNullOrAbsent(t *testing.T) {
	for _, body := range []string{
		`{"order_id":"` + payOrderID + `","provider":"payme"}`,
		`{"order_id":"` + payOrderID + `","provider":"payme","return_url":null}`,
	} {
		f := newPaymentsAPI(t)
		token := f.bearer(annID, sessionID, user.RoleCustomer)
		f.orders.EXPECT().Get(gomock.Any(), payOrderID).Return(annOrder(order.StatusPendingPayment), nil)
		f.links.EXPECT().PaymeURL(payOrderID, money.MustTiyin(5_000_000), "").Return("https://checkout.paycom.uz/x", nil)
		rec := f.call(http.MethodPost, "/api/payments", token, body)
		assert.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	}
}

func TestCreatePayment_Errors(t *testing.T) {
	cases := []struct {
		name   string
		role   user.Role
		body   string
		order  *order.Order // nil: not read
		status int
		code   string
		fields []string
	}{
		{"another user's order", user.RoleCustomer, `{"order_id":"` + payOrderID + `","provider":"click"}`,
			orderOf(bobID, order.StatusPendingPayment), 404, "not_found", nil},
		{"paid order", user.RoleCustomer, `{"order_id":"` + payOrderID + `","provider":"click"}`, annOrder(order.StatusPaid), 409, "order_not_payable", nil},
		{"unknown provider", user.RoleCustomer, `{"order_id":"` + payOrderID + `","provider":"paypal"}`, nil, 422, "validation_failed", []string{"provider"}},
		{"bad return url", user.RoleCustomer, `{"order_id":"` + payOrderID + `","provider":"click","return_url":"ftp://x"}`, nil, 422, "validation_failed", []string{"return_url"}},
		{"return url on a foreign host", user.RoleCustomer, `{"order_id":"` + payOrderID + `","provider":"click","return_url":"https://evil.example/"}`, nil, 422, "validation_failed", []string{"return_url"}},
		{"missing order id", user.RoleCustomer, `{"provider":"click"}`, nil, 422, "validation_failed", []string{"order_id"}},
		{"order id of the wrong type", user.RoleCustomer, `{"order_id":42,"provider":"click"}`, nil, 422, "validation_failed", []string{"order_id"}},
		{"unknown field", user.RoleCustomer, `{"order_id":"` + payOrderID + `","provider":"click","amount":1}`, nil, 422, "validation_failed", []string{"amount"}},
		{"malformed json", user.RoleCustomer, `{"order_id":`, nil, 400, "bad_request", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newPaymentsAPI(t)
			token := f.bearer(annID, sessionID, tc.role)
			if tc.order != nil {
				f.orders.EXPECT().Get(gomock.Any(), payOrderID).Return(tc.order, nil)
			}
			rec := f.call(http.MethodPost, "/api/payments", token, tc.body)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			var p problemBody
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
			assert.Equal(t, tc.code, p.Code)
			if tc.fields != nil {
				assert.Equal(t, tc.fields, fieldNames(p))
			}
		})
	}
}

func TestCreatePayment_AnAdminWhoIsNotTheOwnerGets404(t *testing.T) {
	f := newPaymentsAPI(t)
	token := f.bearer(bobID, otherSID, user.RoleSuperAdmin)
	f.orders.EXPECT().Get(gomock.Any(), payOrderID).Return(annOrder(order.StatusPendingPayment), nil)
	rec := f.call(http.MethodPost, "/api/payments", token, `{"order_id":"`+payOrderID+`","provider":"payme"}`)
	assert.Equal(t, http.StatusNotFound, rec.Code, rec.Body.String())
}

func TestPaymentRoutesNeedABearerToken(t *testing.T) {
	f := newPaymentsAPI(t)
	for _, rec := range []interface{ Result() *http.Response }{
		f.call(http.MethodPost, "/api/payments", "", `{"order_id":"`+payOrderID+`","provider":"payme"}`),
		f.call(http.MethodGet, "/api/payments?order_id="+payOrderID, "", ""),
	} {
		res := rec.Result()
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		_ = res.Body.Close()
	}
}

func TestListPayments_BothProvidersInAPIShape(t *testing.T) {
	f := newPaymentsAPI(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.orders.EXPECT().Get(gomock.Any(), payOrderID).Return(annOrder(order.StatusPaid), nil)
	created := now.Add(-time.Hour)
	reason := payment.ReasonTimeout
	f.payme.EXPECT().ListByOrder(gomock.Any(), payOrderID).Return([]*payment.PaymeTransaction{
		payment.RestorePaymeTransaction("5a105e8b-9d40-4132-9780-d62ea2265d8a", "6650f0e1a2b3c4d5e6f70809", payOrderID,
			created.UnixMilli(), money.MustTiyin(5_000_000), nil, payment.PaymeCancelled, &reason, created.UnixMilli(), 0, now.UnixMilli()),
	}, nil)
	f.clicks.EXPECT().ListByOrder(gomock.Any(), payOrderID).Return([]*payment.ClickTransaction{
		payment.RestoreClickTransaction("e4da3b7f-bbce-4345-8777-2b0674a318d5", 42, 2100000001, 3100000001, 12345, payOrderID, money.MustTiyin(5_000_000), "50000.00",
			payment.ClickConfirmed, nil, now.Add(-30*time.Minute), now, time.Time{}),
	}, nil)

	rec := f.call(http.MethodGet, "/api/payments?order_id="+payOrderID, token, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	utc := func(t time.Time) string { return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano) }
	ms := func(t time.Time) string { return time.UnixMilli(t.UnixMilli()).UTC().Format(time.RFC3339Nano) }
	assert.JSONEq(t, `{"items":[
		{"id":"5a105e8b-9d40-4132-9780-d62ea2265d8a","provider":"payme","provider_transaction_id":"6650f0e1a2b3c4d5e6f70809",
		 "order_id":"`+payOrderID+`","amount":5000000,"state":"cancelled","created_at":"`+ms(created)+`",
		 "performed_at":null,"cancelled_at":"`+ms(now)+`","cancel_reason":4},
		{"id":"e4da3b7f-bbce-4345-8777-2b0674a318d5","provider":"click","provider_transaction_id":"2100000001","order_id":"`+payOrderID+`","amount":5000000,
		 "state":"completed","created_at":"`+utc(now.Add(-30*time.Minute))+`","performed_at":"`+utc(now)+`",
		 "cancelled_at":null,"cancel_reason":null}]}`, rec.Body.String())
}

func TestListPayments_AdminsSeeAnyOrderOthersGet404(t *testing.T) {
	for _, tc := range []struct {
		role user.Role
		want int
	}{{user.RoleAdmin, 200}, {user.RoleSuperAdmin, 200}, {user.RoleSeller, 404}, {user.RoleCustomer, 404}} {
		t.Run(string(tc.role), func(t *testing.T) {
			f := newPaymentsAPI(t)
			token := f.bearer(bobID, otherSID, tc.role)
			f.orders.EXPECT().Get(gomock.Any(), payOrderID).Return(annOrder(order.StatusPendingPayment), nil)
			if tc.want == 200 {
				f.payme.EXPECT().ListByOrder(gomock.Any(), payOrderID).Return(nil, nil)
				f.clicks.EXPECT().ListByOrder(gomock.Any(), payOrderID).Return(nil, nil)
			}
			rec := f.call(http.MethodGet, "/api/payments?order_id="+payOrderID, token, "")
			require.Equal(t, tc.want, rec.Code, rec.Body.String())
			if tc.want == 200 {
				assert.JSONEq(t, `{"items":[]}`, rec.Body.String())
			}
		})
	}
}

func TestListPayments_OrderIDIsRequiredAndAUUID(t *testing.T) {
	for _, q := range []string{"", "?order_id=", "?order_id=42", "?order_id=" + payOrderID + "&order_id=" + payOrderID} {
		t.Run(q, func(t *testing.T) {
			f := newPaymentsAPI(t)
			token := f.bearer(annID, sessionID, user.RoleCustomer)
			rec := f.call(http.MethodGet, "/api/payments"+q, token, "")
			require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
			var p problemBody
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
			assert.Equal(t, []string{"order_id"}, fieldNames(p))
		})
	}
}
