package payments_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

// devReturns is PAYMENT_RETURN_HOSTS=shop.example.uz,localhost in development.
var devReturns = payments.ReturnURLPolicy{Hosts: []string{"shop.example.uz", "localhost"}, HTTPOnLocalhost: true}

func newPaymentLinkFixture(t *testing.T) (*mocks.MockOrderRepository, *mocks.MockPaymentLinks, *payments.CreatePaymentLink) {
	return newPaymentLinkFixtureWith(t, devReturns)
}

func newPaymentLinkFixtureWith(t *testing.T, returns payments.ReturnURLPolicy) (*mocks.MockOrderRepository, *mocks.MockPaymentLinks, *payments.CreatePaymentLink) {
	ctrl := gomock.NewController(t)
	orders, links := mocks.NewMockOrderRepository(ctrl), mocks.NewMockPaymentLinks(ctrl)
	return orders, links, payments.NewCreatePaymentLink(orders, links, returns)
}

var clickOwner = user.Actor{ID: clickOwnerID, Role: user.RoleCustomer}

func TestCreatePaymentLink_BuildsTheProvidersLinkForTheOwner(t *testing.T) {
	for _, provider := range []payment.Provider{payment.ProviderPayme, payment.ProviderClick} {
		t.Run(string(provider), func(t *testing.T) {
			orders, links, uc := newPaymentLinkFixture(t)
			orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
			ret := "https://shop.example.uz/orders/1?paid=1"
			if provider == payment.ProviderPayme {
				links.EXPECT().PaymeURL(clickOrderID, clickTotal, ret).Return("https://checkout.paycom.uz/abc", nil)
			} else {
				links.EXPECT().ClickURL(clickOrderID, clickTotal, ret).Return("https://my.click.uz/services/pay?x=1", nil)
			}

			got, err := uc.Handle(context.Background(), payments.CreatePaymentLinkInput{
				Actor: clickOwner, OrderID: clickOrderID, Provider: string(provider), ReturnURL: ret})
			require.NoError(t, err)
			assert.Equal(t, clickOrderID, got.OrderID)
			assert.Equal(t, provider, got.Provider)
			assert.Equal(t, clickTotal, got.Amount)
			assert.NotEmpty(t, got.URL)
		})
	}
}

func TestCreatePaymentLink_ReturnURLIsOptional(t *testing.T) {
	orders, links, uc := newPaymentLinkFixture(t)
	orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
	links.EXPECT().ClickURL(clickOrderID, clickTotal, "").Return("https://my.click.uz/services/pay?x=1", nil)

	_, err := uc.Handle(context.Background(), payments.CreatePaymentLinkInput{Actor: clickOwner, OrderID: clickOrderID, Provider: "click"})
	require.NoError(t, err)
}

func TestCreatePaymentLink_OnlyTheOwnerMayAsk(t *testing.T) {
	for _, actor := range []user.Actor{
		{ID: clickBuyer2ID, Role: user.RoleCustomer},
		{ID: clickBuyer2ID, Role: user.RoleAdmin},
		{ID: clickBuyer2ID, Role: user.RoleSuperAdmin},
		{ID: "", Role: user.RoleCustomer},
	} {
		t.Run(string(actor.Role), func(t *testing.T) {
			orders, _, uc := newPaymentLinkFixture(t)
			orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
			_, err := uc.Handle(context.Background(), payments.CreatePaymentLinkInput{Actor: actor, OrderID: clickOrderID, Provider: "payme"})
			assert.ErrorIs(t, err, order.ErrNotFound)
		})
	}
}

func TestCreatePaymentLink_UnknownOrder(t *testing.T) {
	orders, _, uc := newPaymentLinkFixture(t)
	orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(nil, order.ErrNotFound)
	_, err := uc.Handle(context.Background(), payments.CreatePaymentLinkInput{Actor: clickOwner, OrderID: clickOrderID, Provider: "payme"})
	assert.ErrorIs(t, err, order.ErrNotFound)
}

func TestCreatePaymentLink_OnlyAnOrderAwaitingPayment(t *testing.T) {
	for _, st := range []order.Status{order.StatusPaid, order.StatusShipped, order.StatusDelivered, order.StatusCancelled, order.StatusRefunded} {
		t.Run(string(st), func(t *testing.T) {
			orders, _, uc := newPaymentLinkFixture(t)
			orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, st), nil)
			_, err := uc.Handle(context.Background(), payments.CreatePaymentLinkInput{Actor: clickOwner, OrderID: clickOrderID, Provider: "click"})
			assert.ErrorIs(t, err, order.ErrNotPayable)
		})
	}
}

func TestCreatePaymentLink_LinkBuilderFailurePropagates(t *testing.T) {
	orders, links, uc := newPaymentLinkFixture(t)
	orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
	boom := errors.New("not configured")
	links.EXPECT().PaymeURL(gomock.Any(), gomock.Any(), gomock.Any()).Return("", boom)
	_, err := uc.Handle(context.Background(), payments.CreatePaymentLinkInput{Actor: clickOwner, OrderID: clickOrderID, Provider: "payme"})
	assert.ErrorIs(t, err, boom)
}

func TestCreatePaymentLink_InvalidFieldsAreNamedBeforeTheOrderIsRead(t *testing.T) {
	long := "https://shop.example.uz/" + strings.Repeat("a", payments.MaxReturnURLLength)
	cases := []struct {
		name                        string
		orderID, provider, returnTo string
		fields                      []string
	}{
		{"missing order id", "", "click", "", []string{"order_id"}},
		{"order id not a uuid", "1001", "click", "", []string{"order_id"}},
		{"missing provider", clickOrderID, "", "", []string{"provider"}},
		{"unknown provider", clickOrderID, "paypal", "", []string{"provider"}},
		{"provider is case sensitive", clickOrderID, "Click", "", []string{"provider"}},
		{"relative return url", clickOrderID, "payme", "/orders/1", []string{"return_url"}},
		{"no host", clickOrderID, "payme", "https:///x", []string{"return_url"}},
		{"other scheme", clickOrderID, "payme", "javascript:alert(1)", []string{"return_url"}},
		{"ftp", clickOrderID, "payme", "ftp://shop.example.uz/", []string{"return_url"}},
		{"semicolon", clickOrderID, "payme", "https://shop.example.uz/a;b", []string{"return_url"}},
		{"space", clickOrderID, "payme", "https://shop.example.uz/a b", []string{"return_url"}},
		{"too long", clickOrderID, "payme", long, []string{"return_url"}},
		{"all at once", "x", "y", "z", []string{"order_id", "provider", "return_url"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, uc := newPaymentLinkFixture(t) // no EXPECT: the order must not be read
			_, err := uc.Handle(context.Background(), payments.CreatePaymentLinkInput{
				Actor: clickOwner, OrderID: tc.orderID, Provider: tc.provider, ReturnURL: tc.returnTo})
			assert.Equal(t, tc.fields, testsupport.FieldsOf(t, err))
		})
	}
}

func TestCreatePaymentLink_AcceptsReturnURLsAtTheLimit(t *testing.T) {
	base := "https://shop.example.uz/"
	for _, ret := range []string{
		"http://localhost:3000/paid",
		"https://localhost/paid",
		"HTTPS://Shop.Example.uz/x?y=1#z",
		"https://shop.example.uz:8443/paid", // the port is not compared
		"https://shop.example.uz./paid",     // the same host, fully qualified
		base + strings.Repeat("a", payments.MaxReturnURLLength-len(base)),
	} {
		orders, links, uc := newPaymentLinkFixture(t)
		orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
		links.EXPECT().ClickURL(clickOrderID, clickTotal, ret).Return("https://my.click.uz/services/pay", nil)
		_, err := uc.Handle(context.Background(), payments.CreatePaymentLinkInput{Actor: clickOwner, OrderID: clickOrderID, Provider: "click", ReturnURL: ret})
		assert.NoError(t, err, ret)
	}
}

// PAYMENT_RETURN_HOSTS: the payment pages redirect only to the shop's own
// hosts, over https (http on localhost in development only).
func TestCreatePaymentLink_ReturnURLMustBeOnAnAllowedHost(t *testing.T) {
	prod := payments.ReturnURLPolicy{Hosts: []string{"shop.example.uz", "localhost"}}
	cases := []struct {
		name    string
		returns payments.ReturnURLPolicy
		url     string
	}{
		{"a foreign host", devReturns, "https://evil.example/phish"},
		{"a subdomain", devReturns, "https://pay.shop.example.uz/"},
		{"the host as a prefix", devReturns, "https://shop.example.uz.evil.example/"},
		{"the host as user information", devReturns, "https://shop.example.uz@evil.example/"},
		{"user information on an allowed host", devReturns, "https://user:pass@shop.example.uz/"},
		{"a backslash browsers read as a slash", devReturns, `https://evil.example\@shop.example.uz/`},
		{"http on an allowed host", devReturns, "http://shop.example.uz/paid"},
		{"http on localhost outside development", prod, "http://localhost:3000/paid"},
		{"http on 127.0.0.1", payments.ReturnURLPolicy{Hosts: []string{"127.0.0.1"}, HTTPOnLocalhost: true}, "http://127.0.0.1:3000/"},
		{"no host is allowed", payments.ReturnURLPolicy{HTTPOnLocalhost: true}, "https://shop.example.uz/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, uc := newPaymentLinkFixtureWith(t, tc.returns) // the order is not read
			_, err := uc.Handle(context.Background(), payments.CreatePaymentLinkInput{
				Actor: clickOwner, OrderID: clickOrderID, Provider: "payme", ReturnURL: tc.url})
			assert.Equal(t, []string{"return_url"}, testsupport.FieldsOf(t, err))
		})
	}

	// Outside development https on an allowed host still works, and no
	// return_url needs no host at all.
	for _, tc := range []struct {
		returns payments.ReturnURLPolicy
		url     string
	}{{prod, "https://shop.example.uz/paid"}, {payments.ReturnURLPolicy{}, ""}} {
		t.Run("return_url="+tc.url, func(t *testing.T) {
			orders, links, uc := newPaymentLinkFixtureWith(t, tc.returns)
			orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
			links.EXPECT().PaymeURL(clickOrderID, clickTotal, tc.url).Return("https://checkout.paycom.uz/abc", nil)
			_, err := uc.Handle(context.Background(), payments.CreatePaymentLinkInput{
				Actor: clickOwner, OrderID: clickOrderID, Provider: "payme", ReturnURL: tc.url})
			assert.NoError(t, err, tc.url)
		})
	}
}
