package eskiz_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/sms/eskiz"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/test/contract"
	fakeeskiz "github.com/ultramarket/gateway/test/fakes/eskiz"
)

func TestClientContract(t *testing.T) {
	contract.RunSMSSenderSuite(t, func(t *testing.T) contract.SMSFixture {
		fake := fakeeskiz.New()
		t.Cleanup(fake.Close)
		c, err := eskiz.New(eskiz.Config{URL: fake.URL(), Email: fakeeskiz.Email, Password: fakeeskiz.Password})
		require.NoError(t, err)
		return contract.SMSFixture{Sender: c, Received: func() []contract.SMSReceived {
			var got []contract.SMSReceived
			for _, m := range fake.Sent() {
				p, err := user.ParsePhone("+" + m.Phone)
				require.NoError(t, err, "Eskiz got a number that is not 998XXXXXXXXX")
				got = append(got, contract.SMSReceived{To: p.Masked(), Text: m.Text})
			}
			return got
		}}
	})
}
