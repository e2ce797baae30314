package smstexts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/adapters/i18n"
	"github.com/ultramarket/gateway/adapters/sms/smstexts"
)

func TestCatalogueLoginCodeSpeaksTheLanguageAskedFor(t *testing.T) {
	texts := smstexts.NewCatalogue(i18n.Catalogues())
	assert.Equal(t, smstexts.English{}.LoginCode("en", "048213", 3*time.Minute), texts.LoginCode("en", "048213", 3*time.Minute),
		"English stays the wording of the approved template")
	assert.Equal(t, "Код входа UltraMarket: 048213. Действует 3 минуты. Никому не сообщайте.",
		texts.LoginCode("ru", "048213", 3*time.Minute))
	assert.Equal(t, "Код входа UltraMarket: 048213. Действует 5 минут. Никому не сообщайте.",
		texts.LoginCode("ru", "048213", 5*time.Minute))
	assert.Equal(t, "UltraMarket kirish kodi: 048213. 3 daqiqa amal qiladi. Kodni hech kimga bermang.",
		texts.LoginCode("uz", "048213", 3*time.Minute))
	assert.Equal(t, smstexts.English{}.LoginCode("de", "048213", 90*time.Second), texts.LoginCode("de", "048213", 90*time.Second),
		"a language we do not speak gets English")
	assert.Contains(t, texts.LoginCode("ru", "048213", 30*time.Second), "30 seconds", "under a minute: English, in seconds")
}
