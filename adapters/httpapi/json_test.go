package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
)

// Payment URLs carry query strings: "&" must reach clients as "&".
func TestJSONIsNotHTMLEscaped(t *testing.T) {
	f := newFixture(t, nil)
	f.e.GET("/api/echo", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"payment_url": "https://my.click.uz/services/pay?a=1&b=<2>"})
	})
	rec := get(f.e, "/api/echo")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"payment_url":"https://my.click.uz/services/pay?a=1&b=<2>"}`, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `?a=1&b=<2>`)
}
