package i18n_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/adapters/i18n"
	"github.com/ultramarket/gateway/domain"
)

func TestTextPluralForms(t *testing.T) {
	b := i18n.Catalogues()
	const id = "problem.detail.fields_invalid"
	cases := []struct {
		lang  string
		count any
		want  string
	}{
		{"en", 1, "1 field is invalid"},
		{"en", 2, "2 fields are invalid"},
		{"en", 21, "21 fields are invalid"},
		{"ru", 1, "1 поле заполнено неверно"},
		{"ru", 2, "2 поля заполнены неверно"},
		{"ru", 5, "5 полей заполнено неверно"},
		{"ru", 11, "11 полей заполнено неверно"},
		{"ru", 21, "21 поле заполнено неверно"},
		{"ru", 22, "22 поля заполнены неверно"},
		{"ru", int64(25), "25 полей заполнено неверно"},
		{"uz", 1, "1 ta maydon noto'g'ri to'ldirilgan"},
		{"uz", 2, "2 ta maydon noto'g'ri to'ldirilgan"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, b.Text(tc.lang, id, map[string]any{"Count": tc.count}), "%s %v", tc.lang, tc.count)
	}
}

func TestTextOfAFieldMessage(t *testing.T) {
	b := i18n.Catalogues()
	args := domain.Args{"Count": 200}
	assert.Equal(t, "must be 1..200 characters", b.Text("en", domain.MsgCharsRange, args))
	assert.Equal(t, "должно содержать от 1 до 200 символов", b.Text("ru", domain.MsgCharsRange, args))
	assert.Equal(t, "должно содержать от 1 до 21 символа", b.Text("ru", domain.MsgCharsRange, domain.Args{"Count": 21}))
	assert.Equal(t, "1 dan 200 tagacha belgi bo'lishi kerak", b.Text("uz", domain.MsgCharsRange, args))
	assert.Equal(t, "must be day, week or month",
		b.Text("en", domain.MsgEither, domain.Args{"Values": "day, week", "Last": "month"}))
	assert.Equal(t, "majburiy", b.Text("uz", domain.MsgRequired, nil))
}

func TestTextFallbacks(t *testing.T) {
	b := i18n.Catalogues()
	assert.Equal(t, "is required", b.Text("de", domain.MsgRequired, nil), "a language we do not speak gets English")
	assert.Equal(t, "too long", b.Text("ru", "too long", nil), "a text that is no id is shown as it is")
	assert.Equal(t, "validation.no_such_id", b.Text("uz", "validation.no_such_id", nil))
	assert.Equal(t, "must be at least <no value>", b.Text("en", domain.MsgAtLeast, nil),
		"a missing argument is visible, not a crash")
}

func TestSMSTexts(t *testing.T) {
	b := i18n.Catalogues()
	args := func(minutes int) map[string]any { return map[string]any{"Code": "123456", "Count": minutes} }
	assert.Equal(t, "UltraMarket: your code is 123456. It expires in 5 minutes. Do not share it with anyone.",
		b.Text("en", i18n.SMSLoginCode, args(5)))
	assert.Equal(t, "UltraMarket: your code is 123456. It expires in 1 minute. Do not share it with anyone.",
		b.Text("en", i18n.SMSLoginCode, args(1)))
	assert.Equal(t, "Код входа UltraMarket: 123456. Действует 1 минуту. Никому не сообщайте.",
		b.Text("ru", i18n.SMSLoginCode, args(1)))
	assert.Equal(t, "Код входа UltraMarket: 123456. Действует 3 минуты. Никому не сообщайте.",
		b.Text("ru", i18n.SMSLoginCode, args(3)))
	assert.Equal(t, "Код сброса пароля UltraMarket: 123456. Действует 5 минут. Никому не сообщайте.",
		b.Text("ru", i18n.SMSResetCode, args(5)))
	assert.Equal(t, "UltraMarket parolni tiklash kodi: 123456. 10 daqiqa amal qiladi. Kodni hech kimga bermang.",
		b.Text("uz", i18n.SMSResetCode, args(10)))
	for _, lang := range []string{"en", "uz"} {
		for _, id := range []string{i18n.SMSLoginCode, i18n.SMSResetCode} {
			text := b.Text(lang, id, args(5))
			assert.Regexp(t, `^[ -~]+$`, text, "%s %s: printable ASCII keeps the SMS in GSM-7", lang, id)
			assert.LessOrEqual(t, len(text), 160, "%s %s: one SMS part", lang, id)
		}
	}
}
