package netguard

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Errors a guarded request can fail with. None of them carries an address.
var (
	// ErrNotPublic: the destination is, or resolves to, an address that is not on
	// the public internet.
	ErrNotPublic = errors.New("netguard: destination is not a public address")
	// ErrResolve: the host name could not be resolved.
	ErrResolve = errors.New("netguard: host name could not be resolved")
	// ErrConnect: no connection could be made to the destination.
	ErrConnect = errors.New("netguard: could not connect to destination")
)

// Resolver looks host names up. *net.Resolver satisfies it; tests pass a fake to
// make any name resolve to any address.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DefaultTimeout bounds a whole request (connect, TLS, headers and body) made with
// a client from NewClient, unless WithTimeout says otherwise.
const DefaultTimeout = 10 * time.Second

type config struct {
	loopback bool
	http     bool
	resolver Resolver
	timeout  time.Duration
}

// Option adjusts the guard. The zero set of options is the production setting.
type Option func(*config)

// AllowLoopback lets requests and URLs reach 127.0.0.0/8 and ::1 (and the name
// localhost), so tests can talk to an httptest server. Every other non-public range
// stays refused. Production code must never pass it.
func AllowLoopback() Option { return func(c *config) { c.loopback = true } }

// AllowHTTP lets CheckURL accept plain http URLs, for local development and tests.
func AllowHTTP() Option { return func(c *config) { c.http = true } }

// WithResolver replaces the system resolver.
func WithResolver(r Resolver) Option { return func(c *config) { c.resolver = r } }

// WithTimeout sets the whole-request timeout of NewClient (DefaultTimeout if d <= 0).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

func newConfig(opts []Option) config {
	c := config{resolver: net.DefaultResolver, timeout: DefaultTimeout}
	for _, o := range opts {
		o(&c)
	}
	if c.resolver == nil {
		c.resolver = net.DefaultResolver
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	return c
}

// NewClient returns an http.Client that sends only to public addresses (see
// NewTransport), never follows a redirect (the caller gets the 3xx response itself,
// whose status a sender treats as a failed delivery), and gives up after the
// timeout.
func NewClient(opts ...Option) *http.Client {
	c := newConfig(opts)
	return &http.Client{
		Transport: newTransport(c),
		Timeout:   c.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// NewTransport returns an http.Transport whose every connection goes to a public
// address: the host is resolved once, every resolved address is checked (one
// non-public answer refuses the name, so a record set mixing a public and a
// private address cannot be used to reach the private one), and the connection is
// dialled to the checked address itself, so nothing resolves the name again
// between the check and the connect. The dialer's Control hook checks the socket
// address once more just before connect. Environment proxies are ignored, since a
// proxy would do the dialling for us unchecked. Dial errors are ErrNotPublic,
// ErrResolve or ErrConnect, never the library error with its address.
func NewTransport(opts ...Option) *http.Transport {
	return newTransport(newConfig(opts))
}

func newTransport(c config) *http.Transport {
	d := &dialer{cfg: c, net: net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: control(c.loopback)}}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  c.timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        60 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// control is the last check, made on the socket address the kernel is about to
// connect to.
func control(loopback bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		switch network {
		case "tcp", "tcp4", "tcp6":
		default:
			return ErrNotPublic
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !allowed(ap.Addr(), loopback) {
			return ErrNotPublic
		}
		return nil
	}
}

type dialer struct {
	cfg config
	net net.Dialer
}

// DialContext resolves addr's host once, refuses it unless every answer is
// allowed, and connects to the checked addresses in turn.
func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, ErrConnect
	}
	ips, err := d.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	var last error = ErrConnect
	for _, ip := range ips {
		conn, err := d.net.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		last = sanitize(err)
		if errors.Is(last, ErrNotPublic) || ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

func (d *dialer) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if !allowed(ip, d.cfg.loopback) {
			return nil, ErrNotPublic
		}
		return []netip.Addr{ip.Unmap()}, nil
	}
	ips, err := d.cfg.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsTimeout {
			return nil, timeoutError{ErrResolve}
		}
		return nil, ErrResolve
	}
	if len(ips) == 0 {
		return nil, ErrResolve
	}
	out := make([]netip.Addr, 0, len(ips))
	for _, ip := range ips {
		if !allowed(ip, d.cfg.loopback) {
			return nil, ErrNotPublic
		}
		out = append(out, ip.Unmap())
	}
	return out, nil
}

// sanitize turns a net.Dialer error, which names the address, into one of ours,
// keeping only whether it was a timeout.
func sanitize(err error) error {
	if errors.Is(err, ErrNotPublic) {
		return ErrNotPublic
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return timeoutError{ErrConnect}
	}
	return ErrConnect
}

// timeoutError keeps net.Error's Timeout() true for callers that retry on
// timeouts, without the address.
type timeoutError struct{ err error }

func (e timeoutError) Error() string   { return e.err.Error() + " (timeout)" }
func (e timeoutError) Unwrap() error   { return e.err }
func (e timeoutError) Timeout() bool   { return true }
func (e timeoutError) Temporary() bool { return true }
