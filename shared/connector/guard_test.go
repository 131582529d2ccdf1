package connector

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/netguard"
	"github.com/tribehq/tribe/shared/problem"
)

// nameResolver makes every name resolve to one address.
type nameResolver struct{ addr netip.Addr }

func (r nameResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{r.addr}, nil
}

var addressLike = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+|[0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F:.]+`)

// TestValidateRefusesEveryNonPublicLiteral: the check at create and update is
// netguard's, so every non-public range is refused with a problem naming url, not
// only the ranges Go's net.IP calls private.
func TestValidateRefusesEveryNonPublicLiteral(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"https://100.100.100.200/latest/meta-data", // Alibaba Cloud metadata (100.64/10)
		"https://100.64.0.1/x",
		"https://192.0.2.10/x",
		"https://198.18.0.1/x",
		"https://240.0.0.1/x",
		"https://0.0.0.0/x",
		"https://[::ffff:127.0.0.1]/x",
		"https://[fd00::1]/x",
		"https://2130706433/x", // 127.0.0.1 to inet_aton
		"https://metadata.google.internal/x",
		"https://printer.local/x",
		"https://router.home.arpa/x",
	} {
		err := Config{Kind: Generic, URL: u, Secret: "s"}.Validate()
		var fe *problem.FieldError
		if !errors.As(err, &fe) || fe.Field != "url" || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Validate(%s) = %v, want a url field error", u, err)
			continue
		}
		if m := addressLike.FindString(err.Error()); m != "" {
			t.Errorf("Validate(%s) reason quotes an address: %v", u, err)
		}
	}
}

// TestSendRefusesNamesResolvingToPrivateAddresses: a public-looking name whose
// answer is private is refused at dial time, never dialled, not retried, and the
// delivery's error says so without the address.
func TestSendRefusesNamesResolvingToPrivateAddresses(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	for _, addr := range []string{"127.0.0.1", "10.0.0.1", "169.254.169.254", "100.100.100.200", "192.0.2.1", "198.18.0.1", "240.0.0.1", "::1", "fd00::1"} {
		t.Run(addr, func(t *testing.T) {
			t.Parallel()
			s, err := NewSender(WithGuard(netguard.New(netguard.WithResolver(nameResolver{netip.MustParseAddr(addr)}))),
				WithRetry(3, time.Millisecond, time.Millisecond, time.Second))
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Kind: Generic, URL: "https://hooks.example.com:" + strconv.Itoa(port) + "/tribe", Secret: genericSecret}
			d, err := s.Send(context.Background(), cfg, Message{Text: "hi"})
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Send = %v, want ErrInvalidConfig (a destination that is not public)", err)
			}
			if d.Attempts != 1 {
				t.Errorf("Attempts = %d, want 1: a refused destination is not retried", d.Attempts)
			}
			if !strings.Contains(d.Error, "not a public address") {
				t.Errorf("Delivery.Error = %q, want it to say the destination is not public", d.Error)
			}
			for _, text := range []string{d.Error, err.Error()} {
				if m := addressLike.FindString(text); m != "" {
					t.Errorf("error %q reveals an address (%q)", text, m)
				}
			}
		})
	}
	t.Cleanup(func() {
		if n := accepted.Load(); n != 0 {
			t.Errorf("the listener on 127.0.0.1 accepted %d connections", n)
		}
	})
}

// TestDeliveryErrorHasNoAddresses: a platform (or a proxy in front of it) whose
// error body names internal addresses does not get them into the delivery log.
func TestDeliveryErrorHasNoAddresses(t *testing.T) {
	t.Parallel()
	body := "upstream 10.1.2.3:8080 refused (via 172.16.0.9, [fd00::1]:443, fe80::1%eth0 and 169.254.169.254)"
	f := newFake(t, response{status: 502, body: body})
	s := newTestSender(t, f, &clock{now: testNow}, WithRetry(1, time.Millisecond, time.Millisecond, time.Second))
	d, err := s.Send(context.Background(), Config{Kind: Generic, URL: f.URL + "/tribe", Secret: genericSecret}, Message{Text: "hi"})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Send = %v, want ErrUnavailable", err)
	}
	for _, text := range []string{d.Error, err.Error()} {
		if m := addressLike.FindString(text); m != "" {
			t.Errorf("error %q reveals an address (%q)", text, m)
		}
		if !strings.Contains(text, "upstream") || !strings.Contains(text, "refused") {
			t.Errorf("error %q lost the platform's words", text)
		}
	}
}
