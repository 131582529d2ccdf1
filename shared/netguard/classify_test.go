package netguard

import (
	"net/netip"
	"testing"
)

func TestIsPublic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		addr string
		want bool
	}{
		{"public v4", "93.184.216.34", true},
		{"public v4 dns", "8.8.8.8", true},
		{"just below 10/8", "9.255.255.255", true},
		{"just above 10/8", "11.0.0.0", true},
		{"just below CGNAT", "100.63.255.255", true},
		{"just above CGNAT", "100.128.0.0", true},
		{"just below 172.16/12", "172.15.255.255", true},
		{"just above 172.16/12", "172.32.0.0", true},
		{"just above 198.18/15", "198.20.0.0", true},
		{"last public before multicast", "223.255.255.255", true},
		{"this network", "0.0.0.0", false},
		{"this network high", "0.255.255.255", false},
		{"rfc1918 10", "10.0.0.1", false},
		{"rfc1918 10 top", "10.255.255.255", false},
		{"cgnat", "100.64.0.1", false},
		{"cgnat alibaba metadata", "100.100.100.200", false},
		{"cgnat top", "100.127.255.255", false},
		{"loopback", "127.0.0.1", false},
		{"loopback other", "127.1.2.3", false},
		{"link-local", "169.254.1.1", false},
		{"cloud metadata", "169.254.169.254", false},
		{"rfc1918 172.16", "172.16.0.1", false},
		{"rfc1918 172.31", "172.31.255.255", false},
		{"ietf protocol", "192.0.0.8", false},
		{"test-net-1", "192.0.2.1", false},
		{"6to4 relay", "192.88.99.1", false},
		{"rfc1918 192.168", "192.168.1.1", false},
		{"benchmark", "198.18.0.1", false},
		{"benchmark high", "198.19.255.255", false},
		{"test-net-2", "198.51.100.7", false},
		{"test-net-3", "203.0.113.9", false},
		{"multicast", "224.0.0.1", false},
		{"multicast high", "239.255.255.255", false},
		{"reserved", "240.0.0.1", false},
		{"broadcast", "255.255.255.255", false},
		{"public v6", "2606:4700:4700::1111", true},
		{"public v6 google", "2001:4860:4860::8888", true},
		{"v6 unspecified", "::", false},
		{"v6 loopback", "::1", false},
		{"v6 ula fc", "fc00::1", false},
		{"v6 ula fd", "fd12:3456::1", false},
		{"v6 link-local", "fe80::1", false},
		{"v6 link-local zoned", "fe80::1%eth0", false},
		{"v6 site-local", "fec0::1", false},
		{"v6 multicast", "ff02::1", false},
		{"v6 mapped loopback", "::ffff:127.0.0.1", false},
		{"v6 mapped private", "::ffff:10.0.0.1", false},
		{"v6 mapped metadata", "::ffff:169.254.169.254", false},
		{"v6 mapped public", "::ffff:8.8.8.8", true},
		{"v6 compatible v4", "::127.0.0.1", false},
		{"v6 translated v4", "::ffff:0:10.0.0.1", false},
		{"nat64 private", "64:ff9b::10.0.0.1", false},
		{"nat64 loopback", "64:ff9b::127.0.0.1", false},
		{"nat64 metadata", "64:ff9b::a9fe:a9fe", false},
		{"nat64 public", "64:ff9b::8.8.8.8", true},
		{"nat64 local-use", "64:ff9b:1::8.8.8.8", false},
		{"v6 discard", "100::1", false},
		{"v6 documentation", "2001:db8::1", false},
		{"v6 documentation 3fff", "3fff::1", false},
		{"v6 teredo", "2001::1", false},
		{"v6 6to4", "2002:a00:1::1", false},
		{"v6 srv6", "5f00::1", false},
		{"v6 reserved outside 2000::/3", "4000::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := IsPublic(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("IsPublic(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	if IsPublic(netip.Addr{}) {
		t.Error("IsPublic(zero Addr) = true")
	}
}

func TestAllowedLoopbackOnlyWidensLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"10.0.0.1", false},
		{"169.254.169.254", false},
		{"0.0.0.0", false},
		{"::", false},
	}
	for _, tt := range tests {
		if got := allowed(netip.MustParseAddr(tt.addr), true); got != tt.want {
			t.Errorf("allowed(%s, loopback) = %v, want %v", tt.addr, got, tt.want)
		}
		if allowed(netip.MustParseAddr(tt.addr), false) {
			t.Errorf("allowed(%s) without loopback = true", tt.addr)
		}
	}
}

// FuzzIsPublic checks IsPublic against the standard library's own predicates and
// against itself through the IPv4-in-IPv6 encodings.
func FuzzIsPublic(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "10.1.2.3", "8.8.8.8", "::1", "fe80::1", "2001:db8::1", "64:ff9b::a00:1", "::ffff:a9fe:a9fe", "2606:4700::1"} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		addr, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		pub := IsPublic(addr)
		if pub && (addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
			addr.IsMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsUnspecified() || !addr.Unmap().IsGlobalUnicast()) {
			t.Fatalf("IsPublic(%s) = true for a non-global address", addr)
		}
		if addr.Is4In6() && pub != IsPublic(addr.Unmap()) {
			t.Fatalf("IsPublic(%s) = %v, but its IPv4 form says %v", addr, pub, !pub)
		}
		if addr.Is4() {
			v4 := addr.As4()
			mapped := netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: v4[0], 13: v4[1], 14: v4[2], 15: v4[3]})
			nat := netip.AddrFrom16([16]byte{0: 0x00, 1: 0x64, 2: 0xff, 3: 0x9b, 12: v4[0], 13: v4[1], 14: v4[2], 15: v4[3]})
			if IsPublic(mapped) != pub || IsPublic(nat) != pub {
				t.Fatalf("IsPublic disagrees between %s, %s and %s", addr, mapped, nat)
			}
		}
	})
}
