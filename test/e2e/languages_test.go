package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

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

// The login-code SMS is written in the language of the request that asked
// for it; English keeps the wording of the approved Eskiz template.
func TestLanguages_PhoneCodeTextInTheShoppersLanguage(t *testing.T) {
	g := newPhoneGateway(t)
	cases := []struct{ acceptLanguage, phone, text string }{
		{"ru-RU,ru;q=0.9", "+998901110101", "Код входа UltraMarket: %s. Действует 3 минуты. Никому не сообщайте."},
		{"uz", "+998901110102", "UltraMarket kirish kodi: %s. 3 daqiqa amal qiladi. Kodni hech kimga bermang."},
		{"", "+998901110103", "UltraMarket: your code is %s. It expires in 3 minutes. Do not share it with anyone."},
	}
	for _, tc := range cases {
		t.Run(tc.acceptLanguage, func(t *testing.T) {
			before := len(g.texts(t))
			r := g.do(t, req{Method: http.MethodPost, Path: "/api/auth/otp", Body: map[string]any{"phone": tc.phone},
				Header: map[string]string{"Accept-Language": tc.acceptLanguage}})
			expectJSON(t, r, http.StatusAccepted)
			lines := g.texts(t)
			require.Len(t, lines, before+1, "one text per code")
			text := lines[len(lines)-1].Text
			m := codeInText.FindStringSubmatch(text)
			require.NotNil(t, m, "a 6-digit code in %q", text)
			assert.Equal(t, fmt.Sprintf(tc.text, m[1]), text)
		})
	}
}

// A phone login's own problems (a wrong code, a resend too early) follow
// Accept-Language too, naming it in Content-Language.
func TestLanguages_PhoneLoginProblemsInEachLanguage(t *testing.T) {
	g := newPhoneGateway(t)
	const phone = "+998901110104"
	code := g.code(t, phone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	cases := []struct{ acceptLanguage, lang, title, detail string }{
		{"ru", "ru", "Неверные учётные данные", "Код неверен, истёк или уже использован; запросите новый."},
		{"uz-Latn-UZ", "uz", "Kirish ma'lumotlari noto'g'ri",
			"Kod noto'g'ri, muddati o'tgan yoki allaqachon ishlatilgan; yangisini so'rang."},
		{"", "en", "Invalid credentials", "The code is wrong, expired or already used; ask for a new one."},
	}
	for _, tc := range cases {
		r := g.do(t, req{Method: http.MethodPost, Path: "/api/auth/otp/verify", Body: map[string]any{"phone": phone, "code": wrong},
			Header: map[string]string{"Accept-Language": tc.acceptLanguage}})
		p := expectProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
		assert.Equal(t, tc.lang, r.Header.Get("Content-Language"))
		assert.Equal(t, tc.title, p.Title)
		assert.Equal(t, tc.detail, p.Detail)
	}

	cases = []struct{ acceptLanguage, lang, title, detail string }{
		{"ru", "ru", "Слишком много запросов", "Запрошено слишком много кодов; повторите позже."},
		{"uz", "uz", "So'rovlar juda ko'p", "Juda ko'p kod so'raldi; keyinroq qayta urinib ko'ring."},
		{"en", "en", "Too many requests", "Too many codes asked for; retry later."},
	}
	for _, tc := range cases {
		r := g.do(t, req{Method: http.MethodPost, Path: "/api/auth/otp", Body: map[string]any{"phone": phone},
			Header: map[string]string{"Accept-Language": tc.acceptLanguage}})
		p := expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
		retryAfter(t, r.Header, time.Minute)
		assert.Equal(t, tc.lang, r.Header.Get("Content-Language"))
		assert.Equal(t, tc.title, p.Title)
		assert.Equal(t, tc.detail, p.Detail)
	}
}
