package netguard

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		opts []Option
		want error
	}{
		{"https public name", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", nil, nil},
		{"https public ip", "https://8.8.8.8/hook", nil, nil},
		{"https with port", "https://hooks.example.com:8443/x", nil, nil},
		{"trailing dot", "https://hooks.example.com./x", nil, nil},
		{"http refused", "http://hooks.example.com/x", nil, ErrScheme},
		{"http allowed", "http://hooks.example.com/x", []Option{AllowHTTP()}, nil},
		{"ftp", "ftp://hooks.example.com/x", []Option{AllowHTTP()}, ErrScheme},
		{"javascript", "javascript:alert(1)", nil, ErrURL},
		{"relative", "/v1/hook", nil, ErrURL},
		{"garbage", "https://%zz", nil, ErrURL},
		{"no host", "https:///path", nil, ErrHost},
		{"userinfo", "https://user:pass@hooks.example.com/", nil, ErrUserinfo},
		{"user only", "https://user@hooks.example.com/", nil, ErrUserinfo},
		{"bad port", "https://hooks.example.com:0/", nil, ErrURL},
		{"huge port", "https://hooks.example.com:70000/", nil, ErrURL},
		{"loopback literal", "https://127.0.0.1/", nil, ErrNotPublic},
		{"metadata literal", "https://169.254.169.254/latest/meta-data", nil, ErrNotPublic},
		{"alibaba metadata", "https://100.100.100.200/latest", nil, ErrNotPublic},
		{"rfc1918 literal", "https://10.1.2.3/", nil, ErrNotPublic},
		{"v6 loopback", "https://[::1]/", nil, ErrNotPublic},
		{"v6 mapped", "https://[::ffff:127.0.0.1]/", nil, ErrNotPublic},
		{"v6 zoned", "https://[fe80::1%25eth0]/", nil, ErrNotPublic},
		{"localhost", "https://localhost/", nil, ErrHost},
		{"sub.localhost", "https://a.localhost/", nil, ErrHost},
		{"dot internal", "https://metadata.google.internal/", nil, ErrHost},
		{"dot local", "https://printer.local/", nil, ErrHost},
		{"single label", "https://intranet/", nil, ErrHost},
		{"decimal address", "https://2130706433/", nil, ErrHost},
		{"short dotted address", "https://127.1/", nil, ErrHost},
		{"hex address", "https://0x7f.0x1/", nil, ErrHost},
		{"loopback allowed for tests", "http://127.0.0.1:8080/", []Option{AllowHTTP(), AllowLoopback()}, nil},
		{"localhost allowed for tests", "http://localhost:8080/", []Option{AllowHTTP(), AllowLoopback()}, nil},
		{"private still refused in tests", "http://10.0.0.1/", []Option{AllowHTTP(), AllowLoopback()}, ErrNotPublic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := CheckURL(tt.url, tt.opts...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("CheckURL(%q) = %v, want %v", tt.url, err, tt.want)
			}
			if err == nil && u == nil {
				t.Fatal("nil URL without error")
			}
			if err != nil {
				assertNoAddress(t, err)
			}
		})
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://example.com/", "http://127.0.0.1/", "https://[::1]/", "https://u@h.example/", "https://2130706433/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := CheckURL(raw)
		if err != nil {
			return
		}
		if !strings.EqualFold(u.Scheme, "https") {
			t.Fatalf("accepted scheme %q in %q", u.Scheme, raw)
		}
		if u.User != nil || u.Hostname() == "" {
			t.Fatalf("accepted %q", raw)
		}
	})
}
