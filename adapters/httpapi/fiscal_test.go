package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
)

func TestProducts_CreateCarriesTheFiscalIdentity(t *testing.T) {
	f := newCommerce(t)
	seller := f.bearer(bobID, sessionID, user.RoleSeller)
	f.catalog.EXPECT().Create(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(
		func(_ any, d product.Draft, _ user.Actor) (*product.Product, error) {
			id, err := fiscal.NewIdentity(d.Fiscal)
			require.NoError(t, err)
			return storedProduct(phoneID, d.SellerID, d.Price, d.Stock, d.Active).WithFiscal(id), nil
		})

	rec := f.call(http.MethodPost, "/api/products", seller, `{"name":"Phone","description":"","category":"phones",
		"price":1500000,"stock":3,"ikpu_code":"08517001001000000","package_code":"1500539","unit_code":796,"vat_percent":0}`)

	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	body := object(t, rec)
	assert.Equal(t, "08517001001000000", body["ikpu_code"])
	assert.Equal(t, "1500539", body["package_code"])
	assert.Equal(t, float64(796), body["unit_code"])
	assert.Equal(t, float64(0), body["vat_percent"])
}

func TestProducts_WithoutFiscalDataShowsNullCodesAnd12(t *testing.T) {
	f := newCommerce(t)
	f.catalog.EXPECT().Get(gomock.Any(), phoneID, gomock.Any()).Return(storedProduct(phoneID, bobID, 100, 1, true), nil)
	rec := f.call(http.MethodGet, "/api/products/"+phoneID, "", "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := object(t, rec)
	for _, k := range []string{"ikpu_code", "package_code", "unit_code"} {
		assert.Nil(t, body[k], k)
	}
	assert.Equal(t, float64(12), body["vat_percent"])
}

func TestProducts_BadFiscalFieldsAreNamed(t *testing.T) {
	f := newCommerce(t) // the catalog is never reached
	seller := f.bearer(bobID, sessionID, user.RoleSeller)
	rec := f.call(http.MethodPost, "/api/products", seller, `{"name":"Phone","description":"","category":"phones",
		"price":100,"stock":1,"ikpu_code":"123","package_code":"","unit_code":0,"vat_percent":15}`)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	p := decodeProblem(t, rec)
	assert.Equal(t, "validation_failed", p.Code)
	assert.ElementsMatch(t, []string{"ikpu_code", "package_code", "unit_code", "vat_percent"}, fieldNames(p))
}

func TestOrders_ShowReceiptsAndOnlyOFDLinks(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	issued := time.Date(2026, 1, 1, 7, 0, 0, 0, time.UTC)
	sale, err := fiscal.NewReceipt(payment.ProviderPayme, fiscal.KindSale, fiscal.StatusIssued, fiscal.ReceiptData{
		QRCodeURL: "https://ofd.soliq.uz/epi?t=EP1&r=1", FiscalSign: "800031554082", TerminalID: "EP1", IssuedAt: issued})
	require.NoError(t, err)
	refund, err := fiscal.NewReceipt(payment.ProviderPayme, fiscal.KindRefund, fiscal.StatusFailed,
		fiscal.ReceiptData{QRCodeURL: "javascript:alert(1)"})
	require.NoError(t, err)
	o := storedOrder(orderOne, annID, "paid", "").WithReceipts([]fiscal.Receipt{sale, refund})
	f.orders.EXPECT().Get(gomock.Any(), orderOne).Return(o, nil)

	rec := f.call(http.MethodGet, "/api/orders/"+orderOne, token, "")

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := object(t, rec)
	assert.JSONEq(t, `[
		{"provider":"payme","kind":"sale","status":"issued","qr_code_url":"https://ofd.soliq.uz/epi?t=EP1&r=1",
		 "fiscal_sign":"800031554082","terminal_id":"EP1","issued_at":"2026-01-01T07:00:00Z"},
		{"provider":"payme","kind":"refund","status":"failed","qr_code_url":null,"fiscal_sign":null,
		 "terminal_id":null,"issued_at":null}]`, mustJSON(t, body["receipts"]))
}

func TestErrorMapping_FiscalDataMissingNamesTheLines(t *testing.T) {
	f := newFixture(t, nil)
	verr := domain.Invalid("items[1].product_id", "the product has no ikpu_code or package_code")
	rec := returning(t, f, fmt.Errorf("%w: %w", fiscal.ErrFiscalDataMissing, verr))
	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	p := decodeProblem(t, rec)
	assert.Equal(t, "fiscal_data_missing", p.Code)
	assert.Equal(t, []string{"items[1].product_id"}, fieldNames(p))
}

func TestSellerProfile_AdminSetsItAndTheUserShowsIt(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleAdmin)
	target := restoreUser(bobID, user.RoleSeller, user.StatusActive, "")
	f.users.EXPECT().GetForUpdate(gomock.Any(), annID).Return(restoreUser(annID, user.RoleAdmin, user.StatusActive, ""), nil)
	f.users.EXPECT().GetForUpdate(gomock.Any(), bobID).Return(target, nil)
	f.users.EXPECT().Update(gomock.Any(), target).Return(nil)

	rec := f.call(http.MethodPut, "/api/admin/users/"+bobID+"/seller-profile", token, `{"pinfl":"12345678901234","vat_payer":false}`)

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := object(t, rec)
	assert.Equal(t, userKeys, keysOf(body))
	assert.JSONEq(t, `{"tin":null,"pinfl":"12345678901234","vat_payer":false}`, mustJSON(t, body["seller_profile"]))
}

func TestSellerProfile_Refusals(t *testing.T) {
	t.Run("not a seller", func(t *testing.T) {
		f := newCommerce(t)
		token := f.bearer(annID, sessionID, user.RoleAdmin)
		f.users.EXPECT().GetForUpdate(gomock.Any(), annID).Return(restoreUser(annID, user.RoleAdmin, user.StatusActive, ""), nil)
		f.users.EXPECT().GetForUpdate(gomock.Any(), bobID).Return(restoreUser(bobID, user.RoleCustomer, user.StatusActive, ""), nil)
		rec := f.call(http.MethodPut, "/api/admin/users/"+bobID+"/seller-profile", token, `{"tin":"123456789","vat_payer":true}`)
		assert.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
		assert.Equal(t, "conflict", decodeProblem(t, rec).Code)
	})
	for name, body := range map[string]string{
		"both numbers": `{"tin":"123456789","pinfl":"12345678901234","vat_payer":true}`,
		"neither":      `{"vat_payer":true}`,
		"short tin":    `{"tin":"12345","vat_payer":true}`,
		"no vat_payer": `{"tin":"123456789"}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newCommerce(t) // nothing read
			token := f.bearer(annID, sessionID, user.RoleAdmin)
			rec := f.call(http.MethodPut, "/api/admin/users/"+bobID+"/seller-profile", token, body)
			assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
		})
	}
	t.Run("a seller may not", func(t *testing.T) {
		f := newCommerce(t)
		token := f.bearer(bobID, sessionID, user.RoleSeller)
		rec := f.call(http.MethodPut, "/api/admin/users/"+bobID+"/seller-profile", token, `{"tin":"123456789","vat_payer":true}`)
		assert.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())
	})
}

// mustJSON re-encodes a decoded value, for JSONEq on a part of a body.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
