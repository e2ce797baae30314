// Package ipallow is the address check of the payment webhooks
// (PAYME_ALLOWED_IPS, CLICK_ALLOWED_IPS): a gateway calls from networks it
// publishes, so a call from anywhere else is refused before its body is
// read.
package ipallow

import "net"

// List is the networks calls may come from. An empty List allows any
// address: the lists are optional outside production, and the
// configuration refuses an empty one in production.
type List []*net.IPNet

// Allows reports whether ip, the client address as Echo's IPExtractor
// derives it (through TRUSTED_PROXIES), is in the list. An empty list allows
// any; with a list, an address that does not parse is refused.
func (l List) Allows(ip string) bool {
	if len(l) == 0 {
		return true
	}
	addr := net.ParseIP(ip)
	if addr == nil {
		return false
	}
	for _, n := range l {
		if n != nil && n.Contains(addr) {
			return true
		}
	}
	return false
}
