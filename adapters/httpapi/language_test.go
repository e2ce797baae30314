package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	upstream "github.com/ultramarket/gateway/adapters/catalogclient"
	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
)

// inLanguage serves err from a handler to a request with Accept-Language.
func inLanguage(t *testing.T, f fixture, err error, method, acceptLanguage string) *httptest.ResponseRecorder {
	t.Helper()
	path := fmt.Sprintf("/lang/%p", &err)
	route := method
	if method == http.MethodHead {
		route = http.MethodGet // HEAD is answered by the GET route
	}
	f.e.Add(route, path, func(echo.Context) error { return err })
	req := httptest.NewRequestWithContext(context.Background(), method, path, nil)
	if acceptLanguage != "" {
		req.Header.Set(httpapi.HeaderAcceptLanguage, acceptLanguage)
	}
	return serve(f.e, req)
}

// invalidFields is a validation error of n fields, the first with a number
// in its message.
func invalidFields(n int) error {
	verr := domain.Invalid("name", domain.MsgCharsRange, domain.Args{"Count": 200})
	for i := 1; i < n; i++ {
		verr.Add(fmt.Sprintf("items[%d].product_id", i), domain.MsgUUID)
	}
	return fmt.Errorf("create product: %w", verr)
}

func TestProblemLanguage_Validation(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		header, lang, title string
		fields              int
		detail, message     string
	}{
		{"", "en", "Validation failed", 1, "1 field is invalid", "must be 1..200 characters"},
		{"en-US", "en", "Validation failed", 2, "2 fields are invalid", "must be 1..200 characters"},
		{"ru-RU,ru;q=0.9", "ru", "Ошибка в данных", 1, "1 поле заполнено неверно", "должно содержать от 1 до 200 символов"},
		{"ru", "ru", "Ошибка в данных", 2, "2 поля заполнены неверно", "должно содержать от 1 до 200 символов"},
		{"ru", "ru", "Ошибка в данных", 5, "5 полей заполнено неверно", "должно содержать от 1 до 200 символов"},
		{"ru", "ru", "Ошибка в данных", 21, "21 поле заполнено неверно", "должно содержать от 1 до 200 символов"},
		{"uz-Latn-UZ", "uz", "Ma'lumotlarda xato", 2, "2 ta maydon noto'g'ri to'ldirilgan", "1 dan 200 tagacha belgi bo'lishi kerak"},
		{"de, uz;q=0.5", "uz", "Ma'lumotlarda xato", 1, "1 ta maydon noto'g'ri to'ldirilgan", "1 dan 200 tagacha belgi bo'lishi kerak"},
		{"fr", "en", "Validation failed", 5, "5 fields are invalid", "must be 1..200 characters"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%d", tc.header, tc.fields), func(t *testing.T) {
			rec := inLanguage(t, f, invalidFields(tc.fields), http.MethodPost, tc.header)
			require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
			assert.Equal(t, tc.lang, rec.Header().Get(httpapi.HeaderContentLanguage))
			p := decodeProblem(t, rec)
			assert.Equal(t, "validation_failed", p.Code, "the code never changes")
			assert.Equal(t, "https://ultramarket.uz/problems/validation-failed", p.Type, "the type never changes")
			assert.Equal(t, tc.title, p.Title)
			assert.Equal(t, tc.detail, p.Detail)
			require.Len(t, p.Errors, tc.fields)
			assert.Equal(t, "name", p.Errors[0].Field, "the field never changes")
			assert.Equal(t, tc.message, p.Errors[0].Message)
		})
	}
}

func TestProblemLanguage_TitleAndDetailOfACode(t *testing.T) {
	f := newFixture(t, nil)
	err := fmt.Errorf("register: %w", user.ErrEmailTaken)
	cases := []struct{ header, lang, title, detail string }{
		{"", "en", "Email taken", "An account with this email already exists."},
		{"ru", "ru", "Email уже занят", "Аккаунт с таким email уже существует."},
		{"uz", "uz", "Email band", "Bu email bilan hisob allaqachon mavjud."},
	}
	for _, tc := range cases {
		rec := inLanguage(t, f, err, http.MethodGet, tc.header)
		assert.Equal(t, http.StatusConflict, rec.Code)
		assert.Equal(t, tc.lang, rec.Header().Get(httpapi.HeaderContentLanguage))
		p := decodeProblem(t, rec)
		assert.Equal(t, "email_taken", p.Code)
		assert.Equal(t, tc.title, p.Title, tc.lang)
		assert.Equal(t, tc.detail, p.Detail, tc.lang)
	}
}

// Every problem names its language, whoever wrote it: the router's 404, a
// 500, an answer to HEAD, a body the binder refused.
func TestProblemLanguage_ContentLanguageOnEveryProblem(t *testing.T) {
	f := newFixture(t, nil)
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/no/such/route", nil)
	req.Header.Set(httpapi.HeaderAcceptLanguage, "ru")
	rec := serve(f.e, req)
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, "ru", rec.Header().Get(httpapi.HeaderContentLanguage))
	assert.Contains(t, rec.Header().Values("Vary"), httpapi.HeaderAcceptLanguage, "caches keep languages apart")
	assert.Equal(t, "Не найдено", decodeProblem(t, rec).Title)

	rec = inLanguage(t, f, fmt.Errorf("boom"), http.MethodGet, "uz")
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, "uz", rec.Header().Get(httpapi.HeaderContentLanguage))
	assert.Equal(t, "Kutilmagan xatolik yuz berdi.", decodeProblem(t, rec).Detail)

	rec = inLanguage(t, f, domain.ErrNotFound, http.MethodHead, "uz")
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, "uz", rec.Header().Get(httpapi.HeaderContentLanguage))

	rec = inLanguage(t, f, &httpapi.BadRequestError{Detail: "problem.detail.body_not_json"}, http.MethodPost, "ru")
	assert.Equal(t, "Тело запроса не является корректным JSON.", decodeProblem(t, rec).Detail)

	rec = inLanguage(t, f, domain.ErrNotFound, http.MethodGet, "")
	assert.Equal(t, "en", rec.Header().Get(httpapi.HeaderContentLanguage))
}

// An upstream catalog's problem is in its own words: passed through as it
// said it, in any language asked for.
func TestProblemLanguage_UpstreamWordsPassThrough(t *testing.T) {
	f := newFixture(t, nil)
	err := fmt.Errorf("catalog: %w", &upstream.UpstreamProblem{Status: 422, Code: "validation_failed",
		Title: "Invalid product", Errors: []upstream.FieldError{{Field: "category", Message: "unknown category"}}})
	rec := inLanguage(t, f, err, http.MethodGet, "ru")
	assert.Equal(t, "ru", rec.Header().Get(httpapi.HeaderContentLanguage))
	p := decodeProblem(t, rec)
	assert.Equal(t, "Invalid product", p.Title)
	assert.Equal(t, "1 поле заполнено неверно", p.Detail, "our own detail is ours to translate")
	require.Len(t, p.Errors, 1)
	assert.Equal(t, "unknown category", p.Errors[0].Message)
}

// A text written before its id existed (a ready English text given to
// domain.Invalid) still reaches the client, unchanged in every language.
func TestProblemLanguage_TextWithoutAnIDIsShownAsItIs(t *testing.T) {
	f := newFixture(t, nil)
	rec := inLanguage(t, f, domain.Invalid("ikpu_code", "must be a known product code"), http.MethodGet, "uz")
	p := decodeProblem(t, rec)
	require.Len(t, p.Errors, 1)
	assert.Equal(t, "must be a known product code", p.Errors[0].Message)
}
