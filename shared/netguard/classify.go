// Package netguard is the one guard for every outbound request Tribe makes on a
// tenant's behalf (connectors, tenant webhook endpoints, chat platform APIs): it
// refuses destinations that are not on the public internet, checked on the address
// actually dialled, so a name that resolves to 127.0.0.1 or 169.254.169.254 is
// refused as surely as the literal address.
//
// Errors from this package never contain the refused or dialled address: they end
// up in delivery logs that tenants read, and an internal address is a map of our
// network.
package netguard

import "net/netip"

// notPublic4 are the IPv4 ranges that are not globally reachable unicast
// (IANA special-purpose registry, RFC 6890 and successors).
var notPublic4 = prefixes(
	"0.0.0.0/8",       // "this network"
	"10.0.0.0/8",      // RFC 1918
	"100.64.0.0/10",   // CGNAT, incl. 100.100.100.200 (Alibaba Cloud metadata)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, incl. 169.254.169.254 (cloud metadata)
	"172.16.0.0/12",   // RFC 1918
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // TEST-NET-1
	"192.88.99.0/24",  // 6to4 relay anycast (deprecated)
	"192.168.0.0/16",  // RFC 1918
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // TEST-NET-2
	"203.0.113.0/24",  // TEST-NET-3
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, incl. 255.255.255.255 broadcast
)

// notPublic6 are IPv6 ranges inside 2000::/3 (the only global unicast space) that
// are still not public destinations, or that embed an IPv4 address we cannot
// trust a relay to treat as we would.
var notPublic6 = prefixes(
	"2001::/23",     // IETF protocol assignments: Teredo (embeds IPv4), benchmarking, ORCHID
	"2001:db8::/32", // documentation
	"2002::/16",     // 6to4: embeds an arbitrary IPv4 address
	"3fff::/20",     // documentation (RFC 9637)
	"5f00::/16",     // SRv6 SIDs (RFC 9602)
)

var (
	global6 = netip.MustParsePrefix("2000::/3")
	nat64   = netip.MustParsePrefix("64:ff9b::/96") // well-known NAT64 prefix (RFC 6052)
)

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

// IsPublic reports whether addr is a globally reachable unicast address that an
// outbound request may be sent to. It is false for the invalid zero Addr, for any
// address with an IPv6 zone, for every IPv4 special-purpose range (loopback,
// RFC 1918, link-local, CGNAT, documentation, benchmarking, multicast, reserved,
// broadcast, 0/8), and for IPv6 outside 2000::/3 (::, ::1, fc00::/7, fe80::/10,
// ff00::/8 …) or in its special ranges. An IPv4-mapped address (::ffff:a.b.c.d) and
// a NAT64 address (64:ff9b::a.b.c.d) are judged by the IPv4 address they carry.
func IsPublic(addr netip.Addr) bool {
	if !addr.IsValid() || addr.Zone() != "" {
		return false
	}
	if addr.Is4In6() {
		addr = addr.Unmap()
	}
	if addr.Is4() {
		for _, p := range notPublic4 {
			if p.Contains(addr) {
				return false
			}
		}
		return true
	}
	if nat64.Contains(addr) {
		b := addr.As16()
		return IsPublic(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	if !global6.Contains(addr) {
		return false
	}
	for _, p := range notPublic6 {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// allowed is IsPublic, widened to loopback when the caller opted in (tests that
// talk to an httptest server). Nothing else private is ever widened.
func allowed(addr netip.Addr, loopback bool) bool {
	if IsPublic(addr) {
		return true
	}
	return loopback && addr.Zone() == "" && addr.Unmap().IsLoopback()
}
