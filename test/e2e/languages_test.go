package e2e

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A refused registration answered in each language (API.md, "Languages"):
// the title, the detail with the count's plural form and each field's
// message follow Accept-Language; type, code and field do not.
func TestLanguages_ValidationProblemInEachLanguage(t *testing.T) {
	g := newGateway(t, nil)
	body := map[string]any{"email": "not-an-email", "password": "short", "full_name": "", "phone": "123"}
	cases := []struct {
		acceptLanguage, lang, title, detail, password string
	}{
		{"", "en", "Validation failed", "4 fields are invalid", "must be at least 8 bytes"},
		{"ru-RU,ru;q=0.9,en;q=0.8", "ru", "Ошибка в данных", "4 поля заполнены неверно", "должно занимать не менее 8 байтов"},
		{"uz-Latn-UZ", "uz", "Ma'lumotlarda xato", "4 ta maydon noto'g'ri to'ldirilgan", "kamida 8 bayt bo'lishi kerak"},
		{"de-DE", "en", "Validation failed", "4 fields are invalid", "must be at least 8 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.lang+"/"+tc.acceptLanguage, func(t *testing.T) {
			r := g.do(t, req{Method: http.MethodPost, Path: "/api/auth/register", Body: body,
				Header: map[string]string{"Accept-Language": tc.acceptLanguage}})
			p := expectValidation(t, r, "email", "password", "full_name", "phone")
			assert.Equal(t, tc.lang, r.Header.Get("Content-Language"))
			assert.Equal(t, "https://ultramarket.uz/problems/validation-failed", p.Type)
			assert.Equal(t, tc.title, p.Title)
			assert.Equal(t, tc.detail, p.Detail)
			require.Len(t, p.Errors, 4)
			for _, e := range p.Errors {
				if e.Field == "password" {
					assert.Equal(t, tc.password, e.Message)
				}
			}
		})
	}
}

func TestLanguages_EveryProblemNamesItsLanguage(t *testing.T) {
	g := newGateway(t, nil)
	r := g.do(t, req{Method: http.MethodGet, Path: "/api/auth/me", Header: map[string]string{"Accept-Language": "ru"}})
	p := expectProblem(t, r, http.StatusUnauthorized, "unauthorized")
	assert.Equal(t, "ru", r.Header.Get("Content-Language"))
	assert.Equal(t, "Требуется вход", p.Title)

	r = g.do(t, req{Method: http.MethodGet, Path: "/api/no-such-route", Header: map[string]string{"Accept-Language": "uz"}})
	p = expectProblem(t, r, http.StatusNotFound, "not_found")
	assert.Equal(t, "uz", r.Header.Get("Content-Language"))
	assert.Equal(t, "So'ralgan resurs mavjud emas.", p.Detail)

	r = g.post(t, "/api/auth/login", "", rawJSON(`{"email":`))
	p = expectProblem(t, r, http.StatusBadRequest, "bad_request")
	assert.Equal(t, "en", r.Header.Get("Content-Language"))
	assert.Equal(t, "Bad request", p.Title)
}
