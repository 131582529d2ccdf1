package netguard

import "testing"

func TestStripAddresses(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"dial tcp 10.1.2.3:8080: connect: connection refused", "dial tcp [address]: connect: connection refused"},
		{"x509: certificate is valid for 172.16.0.9, not hooks.example.com", "x509: certificate is valid for [address], not hooks.example.com"},
		{"upstream [fd00::1]:443 reset", "upstream [address] reset"},
		{"via fe80::1%eth0 and ::1", "via [address] and [address]"},
		{"mapped ::ffff:169.254.169.254 here", "mapped [address] here"},
		{"metadata 169.254.169.254", "metadata [address]"},
		{"at 10:04:05 errcode: -1: busy", "at 10:04:05 errcode: -1: busy"},
		{"HTTP 502: bad gateway", "HTTP 502: bad gateway"},
		{"version 1.2.3 of the bot", "version 1.2.3 of the bot"},
	}
	for _, tt := range tests {
		if got := StripAddresses(tt.in); got != tt.want {
			t.Errorf("StripAddresses(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzStripAddresses(f *testing.F) {
	f.Add("dial 10.0.0.1:53 and [::1]:80")
	f.Fuzz(func(t *testing.T, s string) {
		out := StripAddresses(s)
		if m := ipv4Like.FindString(out); m != "" {
			t.Errorf("%q still holds %q", out, m)
		}
	})
}
