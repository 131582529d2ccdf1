package netguard

import (
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Errors CheckURL refuses a URL with. None of them echoes the URL.
var (
	ErrURL      = errors.New("netguard: not a valid absolute URL")
	ErrScheme   = errors.New("netguard: URL must use https")
	ErrUserinfo = errors.New("netguard: URL must not contain a user name or password")
	ErrHost     = errors.New("netguard: URL must name a public host")
)

// CheckURL validates a destination URL when it is configured, before anything is
// sent to it. It refuses a URL that does not parse or is not absolute (ErrURL), a
// scheme other than https (http too with AllowHTTP) (ErrScheme), user info
// (ErrUserinfo), an empty host, a bad port, a local name (localhost, *.localhost,
// *.local, *.internal, *.home.arpa, a name with no dot, or an all-numeric last
// label that a C resolver would take for an address) (ErrHost), and a literal IP
// that is not public (ErrNotPublic). A host name passing here can still resolve to
// a private address: the client from NewClient checks that at dial time.
func CheckURL(raw string, opts ...Option) (*url.URL, error) {
	c := newConfig(opts)
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return nil, ErrURL
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !c.http {
			return nil, ErrScheme
		}
	default:
		return nil, ErrScheme
	}
	if u.User != nil {
		return nil, ErrUserinfo
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, ErrURL
		}
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return nil, ErrHost
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !allowed(ip, c.loopback) {
			return nil, ErrNotPublic
		}
		return u, nil
	}
	if strings.Contains(host, "%") || strings.ContainsAny(host, "[]") {
		return nil, ErrHost
	}
	if isLocalName(host) {
		if c.loopback && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
			return u, nil
		}
		return nil, ErrHost
	}
	return u, nil
}

func isLocalName(host string) bool {
	if host == "localhost" || !strings.Contains(host, ".") {
		return true
	}
	for _, suffix := range []string{".localhost", ".local", ".internal", ".home.arpa", ".localdomain"} {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	// No top-level domain is all digits; a name like 2130706433 or 127.1 is an
	// address in disguise to inet_aton.
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return true
	}
	if _, err := strconv.ParseUint(last, 0, 64); err == nil {
		return true
	}
	return strings.HasPrefix(last, "0x")
}
