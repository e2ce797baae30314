package console_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/sms/console"
	"github.com/ultramarket/gateway/test/contract"
)

// syncBuffer is a log destination tests can read while it is written.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf.Bytes()...)
}

func TestSenderContract(t *testing.T) {
	contract.RunSMSSenderSuite(t, func(t *testing.T) contract.SMSFixture {
		out := &syncBuffer{}
		s := console.New(slog.New(slog.NewJSONHandler(out, nil)))
		return contract.SMSFixture{Sender: s, Received: func() []contract.SMSReceived {
			var got []contract.SMSReceived
			sc := bufio.NewScanner(bytes.NewReader(out.lines()))
			for sc.Scan() {
				var line struct{ To, Text string }
				require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
				got = append(got, contract.SMSReceived{To: line.To, Text: line.Text})
			}
			return got
		}}
	})
}
