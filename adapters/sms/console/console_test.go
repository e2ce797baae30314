package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/sms/console"
	"github.com/ultramarket/gateway/domain/sms"
	"github.com/ultramarket/gateway/domain/user"
)

func TestSendWritesTheTextToTheLog(t *testing.T) {
	var buf bytes.Buffer
	s := console.New(slog.New(slog.NewJSONHandler(&buf, nil)))
	p, err := user.ParsePhone("+998901234567")
	require.NoError(t, err)

	const text = "UltraMarket: kirish kodi 480213. Kodni hech kimga bermang."
	require.NoError(t, s.Send(context.Background(), p, text))

	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
	assert.Equal(t, "INFO", line["level"])
	assert.Equal(t, text, line["text"], "the developer reads the code here")
	assert.Equal(t, "99890***4567", line["to"])
	assert.NotContains(t, buf.String(), "901234567", "the number is masked")
}

func TestSendRefusesNothingToSend(t *testing.T) {
	var buf bytes.Buffer
	s := console.New(slog.New(slog.NewJSONHandler(&buf, nil)))
	p, err := user.ParsePhone("+998901234567")
	require.NoError(t, err)
	for name, err := range map[string]error{
		"no phone": s.Send(context.Background(), user.Phone{}, "text"),
		"no text":  s.Send(context.Background(), p, ""),
	} {
		t.Run(name, func(t *testing.T) {
			require.Error(t, err, name)
			assert.NotErrorIs(t, err, sms.ErrNotSent, name)
		})
	}
	assert.Empty(t, buf.String(), "nothing logged")
}
