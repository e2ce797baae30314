package console_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/sms/console"
	"github.com/ultramarket/gateway/test/contract"
	"github.com/ultramarket/gateway/test/testsupport"
)

func TestSenderContract(t *testing.T) {
	contract.RunSMSSenderSuite(t, func(t *testing.T) contract.SMSFixture {
		out := &testsupport.SyncBuffer{}
		s := console.New(slog.New(slog.NewJSONHandler(out, nil)))
		return contract.SMSFixture{Sender: s, Received: func() []contract.SMSReceived {
			var got []contract.SMSReceived
			sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
			for sc.Scan() {
				var line struct{ To, Text string }
				require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
				got = append(got, contract.SMSReceived{To: line.To, Text: line.Text})
			}
			return got
		}}
	})
}
