package ipallow_test

import (
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/adapters/ipallow"
)

func nets(t *testing.T, cidrs ...string) ipallow.List {
	t.Helper()
	var out ipallow.List
	for _, c := range cidrs {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func TestAllows(t *testing.T) {
	payme := nets(t, "185.234.113.0/28", "2001:db8::/32")
	for ip, want := range map[string]bool{
		"185.234.113.1":  true,
		"185.234.113.15": true,
		"185.234.113.16": false,
		"10.0.0.1":       false,
		"2001:db8::7":    true,
		"2001:db9::7":    false,
		"":               false,
		"not an ip":      false,
	} {
		t.Run(fmt.Sprintf("%q", ip), func(t *testing.T) {
			assert.Equal(t, want, payme.Allows(ip), ip)
		})
	}
}

func TestEmptyListAllowsAny(t *testing.T) {
	for _, ip := range []string{"203.0.113.9", "::1", ""} {
		assert.True(t, ipallow.List(nil).Allows(ip), ip)
	}
}

func TestEveryAddress(t *testing.T) {
	everywhere := nets(t, "0.0.0.0/0", "::/0")
	for _, ip := range []string{"203.0.113.9", "127.0.0.1", "2001:db8::1", "::1"} {
		assert.True(t, everywhere.Allows(ip), ip)
	}
	assert.False(t, everywhere.Allows("bogus"))
}
