package netguard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeResolver answers every name from a table and counts lookups.
type fakeResolver struct {
	hosts map[string][]string
	calls atomic.Int32
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.calls.Add(1)
	ss, ok := r.hosts[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, Server: "10.0.0.2:53", IsNotFound: true}
	}
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out, nil
}

var ipLike = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+|[0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F:.]*`)

func assertNoAddress(t *testing.T, err error) {
	t.Helper()
	// url.Error's text starts with the method and the URL we passed; only the
	// reason after it can come from the dialler.
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Err.Error()
	}
	if m := ipLike.FindString(msg); m != "" {
		t.Errorf("error %q reveals an address (%q)", err, m)
	}
}

func counterServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestClientRefusesNamesResolvingToPrivateRanges(t *testing.T) {
	t.Parallel()
	addrs := []string{
		"127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.0.1", "169.254.169.254", "100.64.0.1",
		"100.100.100.200", "0.0.0.0", "192.0.0.1", "192.0.2.1", "198.18.0.1", "198.51.100.1",
		"203.0.113.1", "224.0.0.1", "240.0.0.1", "255.255.255.255",
		"::1", "::", "fc00::1", "fe80::1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2001:db8::1",
	}
	for _, a := range addrs {
		t.Run(a, func(t *testing.T) {
			t.Parallel()
			r := &fakeResolver{hosts: map[string][]string{"hook.example.com": {a}}}
			_, err := NewClient(WithResolver(r)).Get("https://hook.example.com/send")
			if !errors.Is(err, ErrNotPublic) {
				t.Fatalf("Get = %v, want ErrNotPublic", err)
			}
			assertNoAddress(t, err)
		})
	}
}

func TestClientRefusesMixedAnswers(t *testing.T) {
	t.Parallel()
	r := &fakeResolver{hosts: map[string][]string{"rebind.example.com": {"93.184.216.34", "127.0.0.1"}}}
	_, err := NewClient(WithResolver(r)).Get("https://rebind.example.com/")
	if !errors.Is(err, ErrNotPublic) {
		t.Fatalf("Get = %v, want ErrNotPublic", err)
	}
}

func TestClientRefusesLocalhostThroughSystemResolver(t *testing.T) {
	t.Parallel()
	srv, hits := counterServer(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	_, err := NewClient().Get("http://localhost:" + port + "/")
	if !errors.Is(err, ErrNotPublic) {
		t.Fatalf("Get(localhost) = %v, want ErrNotPublic", err)
	}
	assertNoAddress(t, err)
	if got := hits.Load(); got != 0 {
		t.Errorf("server hit %d times, want 0", got)
	}
}

func TestClientRefusesLiteralLoopback(t *testing.T) {
	t.Parallel()
	srv, hits := counterServer(t)
	_, err := NewClient().Get(srv.URL)
	if !errors.Is(err, ErrNotPublic) {
		t.Fatalf("Get(%s) = %v, want ErrNotPublic", srv.URL, err)
	}
	if hits.Load() != 0 {
		t.Error("server was reached")
	}
}

func TestAllowLoopbackReachesTestServer(t *testing.T) {
	t.Parallel()
	srv, hits := counterServer(t)
	resp, err := NewClient(AllowLoopback()).Get(srv.URL)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Errorf("hits = %d, want 1", hits.Load())
	}
}

// The dial goes to the address that was checked: the name is resolved once, by
// our resolver, and a name the system resolver has never heard of still connects.
func TestClientDialsTheCheckedAddress(t *testing.T) {
	t.Parallel()
	srv, hits := counterServer(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	r := &fakeResolver{hosts: map[string][]string{"pinned.invalid": {"127.0.0.1"}}}
	resp, err := NewClient(AllowLoopback(), WithResolver(r)).Get("http://pinned.invalid:" + port + "/")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	resp.Body.Close()
	if got := r.calls.Load(); got != 1 {
		t.Errorf("resolver called %d times, want 1", got)
	}
	if hits.Load() != 1 {
		t.Errorf("hits = %d, want 1", hits.Load())
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	target, hits := counterServer(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/stolen", http.StatusFound)
	}))
	t.Cleanup(redirector.Close)

	resp, err := NewClient(AllowLoopback()).Get(redirector.URL)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status = %d, want %d", resp.StatusCode, http.StatusFound)
	}
	if hits.Load() != 0 {
		t.Error("redirect target was requested")
	}
}

func TestClientErrorsDoNotRevealAddresses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		hosts   map[string][]string
		url     string
		wantErr error
	}{
		{"unknown name (resolver error names its server)", nil, "https://nowhere.example.com/", ErrResolve},
		{"connection refused", map[string][]string{"closed.example.com": {"127.0.0.1"}}, "http://closed.example.com:1/", ErrConnect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &fakeResolver{hosts: tt.hosts}
			_, err := NewClient(AllowLoopback(), WithResolver(r)).Get(tt.url)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Get = %v, want %v", err, tt.wantErr)
			}
			assertNoAddress(t, err)
		})
	}
}

func TestControlRefusesPrivateSocketAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		network, address string
		loopback         bool
		want             error
	}{
		{"tcp4", "10.0.0.1:443", false, ErrNotPublic},
		{"tcp6", "[fe80::1]:443", false, ErrNotPublic},
		{"tcp4", "127.0.0.1:80", false, ErrNotPublic},
		{"tcp4", "127.0.0.1:80", true, nil},
		{"tcp4", "169.254.169.254:80", true, ErrNotPublic},
		{"udp4", "8.8.8.8:53", false, ErrNotPublic},
		{"tcp4", "8.8.8.8:443", false, nil},
		{"tcp4", "not-an-address", false, ErrNotPublic},
	}
	for _, tt := range tests {
		if got := control(tt.loopback)(tt.network, tt.address, nil); !errors.Is(got, tt.want) && got != tt.want {
			t.Errorf("control(%v)(%s, %s) = %v, want %v", tt.loopback, tt.network, tt.address, got, tt.want)
		}
	}
}

func TestTransportIgnoresProxyEnvironment(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:3128")
	if tr := NewTransport(); tr.Proxy != nil {
		t.Fatal("transport has a proxy function")
	}
}

func TestReadBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		max     int64
		want    string
		wantErr error
	}{
		{"under", "hello", 10, "hello", nil},
		{"exact", "hello", 5, "hello", nil},
		{"over by one", "hello!", 5, "", ErrBodyTooLarge},
		{"far over", strings.Repeat("x", 1<<20), 1024, "", ErrBodyTooLarge},
		{"empty", "", 0, "", nil},
		{"negative max", "x", -1, "", ErrBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadBody(strings.NewReader(tt.body), tt.max)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadBodyStopsReading(t *testing.T) {
	t.Parallel()
	r := &countingReader{}
	if _, err := ReadBody(r, 100); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if r.n > 101 {
		t.Errorf("read %d bytes from an endless body, want at most 101", r.n)
	}
}

type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	r.n += len(p)
	return len(p), nil
}
