package netguard

import (
	"net/netip"
	"regexp"
	"strings"
)

// Stripped replaces an address in text given to StripAddresses.
const Stripped = "[address]"

var (
	ipv4Like = regexp.MustCompile(`\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?`)
	// ipv6Like is a run that may be an IPv6 address, bracketed or not, with a zone
	// and a port; StripAddresses parses each before replacing it.
	ipv6Like = regexp.MustCompile(`\[?[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f.]{0,15}){2,}(?:%[0-9A-Za-z_.-]+)?\]?(?::\d{1,5})?`)
)

// StripAddresses returns text with every IPv4 and IPv6 address in it (with its
// port, zone or brackets) replaced by "[address]". Error text that reaches a
// tenant (a delivery log, a problem) goes through it: an error from a dialler, a
// TLS library or a platform's proxy names addresses, and an internal address is a
// map of our network. Public addresses go too; telling them apart is not worth a
// mistake.
func StripAddresses(text string) string {
	text = ipv6Like.ReplaceAllStringFunc(text, func(m string) string {
		if isIPv6Text(m) {
			return Stripped
		}
		return m
	})
	return ipv4Like.ReplaceAllString(text, Stripped)
}

func isIPv6Text(m string) bool {
	if ap, err := netip.ParseAddrPort(m); err == nil && ap.Addr().Is6() {
		return true
	}
	m = strings.TrimSuffix(strings.TrimPrefix(m, "["), "]")
	if i := strings.LastIndex(m, "]:"); i >= 0 {
		m = m[:i]
	}
	// A run ending in ':' (a label before a colon in prose) is cut back first.
	for _, cand := range []string{m, strings.TrimRight(m, ":")} {
		if a, err := netip.ParseAddr(cand); err == nil && a.Is6() {
			return true
		}
	}
	return false
}
