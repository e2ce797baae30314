package smstexts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/adapters/sms/smstexts"
)

func TestLoginCode(t *testing.T) {
	en := smstexts.English{}
	assert.Equal(t, "UltraMarket: your code is 048213. It expires in 3 minutes. Do not share it with anyone.",
		en.LoginCode("en", "048213", 3*time.Minute))
	assert.Contains(t, en.LoginCode("uz", "1", time.Minute), "1 minute.", "English until uz and ru arrive")
	assert.Contains(t, en.LoginCode("en", "1", 30*time.Second), "30 seconds")
	// One GSM-7 part: at most 160 characters, ASCII.
	text := en.LoginCode("en", "999999", 10*time.Minute)
	assert.LessOrEqual(t, len(text), 160)
	for _, r := range text {
		assert.Less(t, r, rune(128), text)
	}
}
