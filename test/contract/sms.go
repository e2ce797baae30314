package contract

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/sms"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// SMSFixture is one fresh sender for one subtest, with a way to see what
// reached its far side (the log, the gateway).
type SMSFixture struct {
	Sender ports.SMSSender
	// Received lists the messages that got through so far, oldest first.
	Received func() []SMSReceived
}

// SMSReceived is one message as its far side saw it.
type SMSReceived struct {
	To   string // the number, masked (user.Phone.Masked): all a log may show
	Text string
}

// RunSMSSenderSuite runs the ports.SMSSender contract against the senders
// newSender makes: one fresh sender per subtest.
func RunSMSSenderSuite(t *testing.T, newSender func(t *testing.T) SMSFixture) {
	phone := func(t *testing.T) user.Phone {
		t.Helper()
		p, err := user.ParsePhone("+998971234567")
		require.NoError(t, err)
		return p
	}
	t.Run("SendDelivers", func(t *testing.T) {
		f := newSender(t)
		// Latin Uzbek with its apostrophes, as the OTP texts are written.
		const text = "UltraMarket: kirish kodi 480213. Kodni hech kimga bermang. Oʻzbekiston, g‘alaba"
		require.NoError(t, f.Sender.Send(context.Background(), phone(t), text))
		assert.Equal(t, []SMSReceived{{To: "99897***4567", Text: text}}, f.Received())
	})
	t.Run("SendsEachMessage", func(t *testing.T) {
		f := newSender(t)
		for _, text := range []string{"one", "two", "one"} {
			require.NoError(t, f.Sender.Send(context.Background(), phone(t), text))
		}
		got := f.Received()
		require.Len(t, got, 3)
		assert.Equal(t, "two", got[1].Text)
	})
	t.Run("RefusesNothingToSend", func(t *testing.T) {
		f := newSender(t)
		for name, err := range map[string]error{
			"zero phone": f.Sender.Send(context.Background(), user.Phone{}, "text"),
			"empty text": f.Sender.Send(context.Background(), phone(t), ""),
		} {
			t.Run(name, func(t *testing.T) {
				require.Error(t, err, name)
				assert.NotErrorIs(t, err, sms.ErrNotSent, "%s: our bug, not the gateway's failure", name)
			})
		}
		assert.Empty(t, f.Received())
	})
}
