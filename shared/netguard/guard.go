package netguard

import (
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Guard is the one outbound policy every sender is built from: the same options
// check a destination URL when a tenant configures it (CheckURL) and refuse it
// again when it is dialled (Client). Connectors use it today; tenant webhook
// endpoints and chat platform APIs take the same Guard from the wiring rather than
// building a client of their own. The zero Guard is the production policy.
type Guard struct{ opts []Option }

// New returns a Guard with opts (AllowLoopback, AllowHTTP and WithResolver only in
// tests).
func New(opts ...Option) Guard { return Guard{opts: slices.Clone(opts)} }

// With returns a copy of g with more options.
func (g Guard) With(opts ...Option) Guard {
	return Guard{opts: append(slices.Clone(g.opts), opts...)}
}

// CheckURL is the package's CheckURL under g's options.
func (g Guard) CheckURL(raw string) (*url.URL, error) { return CheckURL(raw, g.opts...) }

// Client is NewClient under g's options, with the whole-request timeout d.
func (g Guard) Client(d time.Duration) *http.Client {
	return NewClient(append(slices.Clone(g.opts), WithTimeout(d))...)
}
