package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/netguard"
)

// Defaults of a Sender.
const (
	DefaultTimeout     = 5 * time.Second // per attempt
	DefaultAttempts    = 3
	DefaultBaseDelay   = 250 * time.Millisecond
	DefaultMaxDelay    = 4 * time.Second
	DefaultMaxWait     = 10 * time.Second // longest Retry-After we wait for
	maxResponseBytes   = 64 << 10
	maxErrorDetailRune = 200
)

// Delivery describes one Send for the delivery log. It never holds the URL or
// a secret.
type Delivery struct {
	Attempts int           // requests made
	Status   int           // HTTP status of the last response; 0 if none
	Error    string        // why it failed, redacted; empty on success
	Duration time.Duration // from the first request to the result, waits included
	At       time.Time     // when Send started
}

// Sender posts messages to connectors. It is safe for concurrent use.
type Sender struct {
	client    *http.Client
	timeout   time.Duration
	attempts  int
	baseDelay time.Duration
	maxDelay  time.Duration
	maxWait   time.Duration
	now       func() time.Time
	sleep     func(context.Context, time.Duration) error
	jitter    func(time.Duration) time.Duration
	allowed   map[string]bool
	// guard checks connector URLs and, unless WithHTTPClient replaced it, builds
	// the client, so both refuse the same destinations.
	guard netguard.Guard
}

// Option configures a Sender.
type Option func(*Sender) error

// WithHTTPClient sets the HTTP client (default: netguard's, which connects only
// to public addresses, checked after resolving, so a public-looking name cannot
// lead into our own network). The Sender never follows redirects, whatever the
// client's policy: a redirect could carry the message, and its signature, to
// another host.
func WithHTTPClient(c *http.Client) Option {
	return func(s *Sender) error {
		if c == nil {
			return errors.New("connector: nil HTTP client")
		}
		cp := *c
		cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		s.client = &cp
		return nil
	}
}

// WithTimeout sets the timeout of each attempt (default 5 s).
func WithTimeout(d time.Duration) Option {
	return func(s *Sender) error {
		if d <= 0 {
			return errors.New("connector: timeout must be positive")
		}
		s.timeout = d
		return nil
	}
}

// WithRetry sets the number of attempts (1 = no retry) and the backoff: the
// wait before retry n is about base·2^(n-1), capped at max, with jitter; a
// Retry-After up to maxWait replaces it, a longer one ends the send.
func WithRetry(attempts int, base, max, maxWait time.Duration) Option {
	return func(s *Sender) error {
		if attempts < 1 || attempts > 10 || base < 0 || max < base || maxWait < 0 {
			return errors.New("connector: bad retry settings")
		}
		s.attempts, s.baseDelay, s.maxDelay, s.maxWait = attempts, base, max, maxWait
		return nil
	}
}

// WithClock sets the clock (signature timestamps, Delivery.At and Duration)
// and the sleep used between attempts; sleep must return early with the
// context's error when it ends.
func WithClock(now func() time.Time, sleep func(context.Context, time.Duration) error) Option {
	return func(s *Sender) error {
		if now == nil || sleep == nil {
			return errors.New("connector: nil clock")
		}
		s.now, s.sleep = now, sleep
		return nil
	}
}

// WithJitter replaces the random jitter, which maps a backoff delay d to a
// wait in [d/2, d].
func WithJitter(f func(d time.Duration) time.Duration) Option {
	return func(s *Sender) error {
		if f == nil {
			return errors.New("connector: nil jitter")
		}
		s.jitter = f
		return nil
	}
}

// WithGuard sets the outbound guard (default netguard.New(): public addresses
// only, the system resolver). The wiring passes the one Guard every sender shares;
// tests pass one with a resolver that makes a name resolve where they like.
func WithGuard(g netguard.Guard) Option {
	return func(s *Sender) error {
		s.guard = g
		return nil
	}
}

// AllowHosts lets connectors of every kind point at these host names (no
// port), over http too when the host is loopback. It exists for tests with
// local fake platforms; production Senders do not use it.
func AllowHosts(hosts ...string) Option {
	return func(s *Sender) error {
		for _, h := range hosts {
			s.allowed[strings.ToLower(h)] = true
		}
		return nil
	}
}

// NewSender returns a Sender with the defaults, changed by opts. It fails when
// an option is given a nil dependency or an out-of-range value.
func NewSender(opts ...Option) (*Sender, error) {
	s := &Sender{
		timeout:   DefaultTimeout,
		attempts:  DefaultAttempts,
		baseDelay: DefaultBaseDelay,
		maxDelay:  DefaultMaxDelay,
		maxWait:   DefaultMaxWait,
		now:       time.Now,
		sleep:     sleepContext,
		jitter:    func(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) },
		allowed:   map[string]bool{},
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if s.client == nil {
		guard := s.guard
		if s.allowsLoopback() {
			// AllowHosts named a loopback host: a local fake platform.
			guard = guard.With(netguard.AllowLoopback())
		}
		if err := WithHTTPClient(guard.Client(s.timeout))(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// allowsLoopback reports whether AllowHosts named localhost or a loopback address.
func (s *Sender) allowsLoopback() bool {
	for h := range s.allowed {
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return true
		}
	}
	return false
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// outcome of one attempt.
type outcome struct {
	status     int
	err        error         // nil on success
	retry      bool          // worth another attempt
	retryAfter time.Duration // from the response, when given
	hasAfter   bool
}

// Send posts m through cfg and reports the delivery. It fails with
// ErrInvalidConfig or ErrInvalidMessage before any request, ErrRejected when
// the platform refused the message, or ErrUnavailable when every attempt failed
// with a retryable error or ctx ended. The error and Delivery.Error never
// contain the URL or a secret.
func (s *Sender) Send(ctx context.Context, cfg Config, m Message) (Delivery, error) {
	d := Delivery{At: s.now()}
	if err := cfg.validate(s.allowed, s.guard); err != nil {
		d.Error = err.Error() // validation messages never quote the URL
		return d, err
	}
	if err := m.validate(); err != nil {
		d.Error = err.Error()
		return d, err
	}
	var last outcome
	for attempt := 1; ; attempt++ {
		req, err := build(cfg, m, s.now())
		if err != nil {
			d.Error = scrub(err.Error(), cfg)
			return d, &sendError{msg: d.Error, causes: []error{ErrInvalidConfig}}
		}
		d.Attempts = attempt
		last = s.attempt(ctx, cfg, req)
		d.Status = last.status
		if last.err == nil {
			d.Duration = s.now().Sub(d.At)
			return d, nil
		}
		if !last.retry || attempt >= s.attempts || ctx.Err() != nil {
			break
		}
		wait := s.backoff(attempt)
		if last.hasAfter {
			if last.retryAfter > s.maxWait {
				last.err = fmt.Errorf("%w (Retry-After %s is longer than we wait)", last.err, last.retryAfter)
				break
			}
			wait = last.retryAfter
		}
		if err := s.sleep(ctx, wait); err != nil {
			break
		}
	}
	d.Duration = s.now().Sub(d.At)
	d.Error = scrub(fmt.Sprintf("%s: %v (%d attempts)", cfg.Kind, last.err, d.Attempts), cfg)
	causes := []error{ErrRejected}
	switch {
	case errors.Is(last.err, ErrInvalidConfig):
		causes[0] = ErrInvalidConfig
	case last.retry:
		causes[0] = ErrUnavailable
	}
	if ctx.Err() != nil {
		causes = append(causes, ctx.Err())
	}
	return d, &sendError{msg: d.Error, causes: causes}
}

// sendError carries a redacted message and the sentinels it matches; the
// underlying errors are not kept because their text may hold the URL.
type sendError struct {
	msg    string
	causes []error
}

func (e *sendError) Error() string   { return e.msg }
func (e *sendError) Unwrap() []error { return e.causes }

// backoff is the wait before retry n+1: base·2^(n-1), capped, jittered.
func (s *Sender) backoff(n int) time.Duration {
	d := s.baseDelay << (n - 1)
	if d > s.maxDelay || d <= 0 {
		d = s.maxDelay
	}
	return s.jitter(d)
}

func (s *Sender) attempt(ctx context.Context, cfg Config, r request) outcome {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(r.body))
	if err != nil {
		return outcome{err: fmt.Errorf("%w: cannot build request", ErrInvalidConfig)}
	}
	req.Header = r.header.Clone()
	resp, err := s.client.Do(req)
	if errors.Is(err, netguard.ErrNotPublic) {
		// The name resolved to an address inside a network: the configuration is
		// wrong, and asking again will not make it public.
		return outcome{err: fmt.Errorf("%w: the destination is not a public address", ErrInvalidConfig)}
	}
	if err != nil {
		return outcome{err: fmt.Errorf("%w: %s", ErrUnavailable, networkError(err)), retry: true}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	// Scrub before detail cuts the body, or a cut credential would slip past.
	body = []byte(scrub(string(body), cfg, r.url))
	o := outcome{status: resp.StatusCode}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		o.retry = true
		o.retryAfter, o.hasAfter = retryAfter(resp.Header.Get("Retry-After"), s.now())
		o.err = fmt.Errorf("%w: HTTP %d%s", ErrUnavailable, resp.StatusCode, detail(body))
	case resp.StatusCode >= 300 || resp.StatusCode < 200:
		o.err = fmt.Errorf("%w: HTTP %d%s", ErrRejected, resp.StatusCode, detail(body))
	default:
		o.err, o.retry = platformError(cfg.Kind, body)
	}
	return o
}

// platformError applies the platform's error convention to a 2xx body.
// WeCom and DingTalk answer {"errcode":0,"errmsg":"ok"}; Feishu {"code":0,…}
// (older bots {"StatusCode":0,…}); Slack, Discord and generic use HTTP status
// alone. WeCom -1 (system busy) and Feishu 11232 (throttled) are retried.
func platformError(k Kind, body []byte) (error, bool) {
	switch k {
	case WeComRobot, DingTalk:
		var r struct {
			Errcode *int   `json:"errcode"`
			Errmsg  string `json:"errmsg"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.Errcode == nil {
			return fmt.Errorf("%w: unexpected response%s", ErrRejected, detail(body)), false
		}
		if *r.Errcode != 0 {
			retry := k == WeComRobot && *r.Errcode == -1
			return fmt.Errorf("%w: errcode %d: %s", sentinelFor(retry), *r.Errcode, cutRunes(r.Errmsg, maxErrorDetailRune)), retry
		}
	case Feishu:
		var r struct {
			Code       *int   `json:"code"`
			Msg        string `json:"msg"`
			StatusCode *int   `json:"StatusCode"`
			StatusMsg  string `json:"StatusMessage"`
		}
		if err := json.Unmarshal(body, &r); err != nil || (r.Code == nil && r.StatusCode == nil) {
			return fmt.Errorf("%w: unexpected response%s", ErrRejected, detail(body)), false
		}
		if r.Code != nil && *r.Code != 0 {
			retry := *r.Code == 11232
			return fmt.Errorf("%w: code %d: %s", sentinelFor(retry), *r.Code, cutRunes(r.Msg, maxErrorDetailRune)), retry
		}
		if r.Code == nil && *r.StatusCode != 0 {
			return fmt.Errorf("%w: StatusCode %d: %s", ErrRejected, *r.StatusCode, cutRunes(r.StatusMsg, maxErrorDetailRune)), false
		}
	}
	return nil, false
}

func sentinelFor(retry bool) error {
	if retry {
		return ErrUnavailable
	}
	return ErrRejected
}

// networkError describes a transport failure without the URL that
// net/http puts in its errors.
func networkError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return err.Error()
}

// detail is a short excerpt of a response body for the delivery log.
func detail(body []byte) string {
	s := strings.TrimSpace(strings.ToValidUTF8(string(body), "?"))
	if s == "" {
		return ""
	}
	return ": " + cutRunes(s, maxErrorDetailRune)
}

// retryAfter reads Retry-After as seconds (fractions allowed, as Discord
// sends) or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f < 1e6 {
		return time.Duration(f * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// secretsOf lists what must never appear in an error: the secret, the URLs
// (as configured and as sent, with DingTalk's sign), their query values and
// their longer path segments, raw and percent-encoded.
func secretsOf(cfg Config, urls ...string) []string {
	list := []string{cfg.Secret}
	for _, raw := range append([]string{cfg.URL}, urls...) {
		list = append(list, raw)
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		for _, vs := range u.Query() {
			list = append(list, vs...)
		}
		for _, seg := range strings.Split(u.EscapedPath(), "/") {
			if len(seg) >= 8 {
				list = append(list, seg)
			}
		}
	}
	out := make([]string, 0, 2*len(list))
	for _, v := range list {
		if len(v) >= 4 {
			out = append(out, v, url.QueryEscape(v))
		}
	}
	// Longest first, so a URL is replaced whole before its parts.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// scrub replaces every secret of cfg (and of the given request URLs) in s, and
// every network address: error text ends up in the delivery log tenants read.
func scrub(s string, cfg Config, urls ...string) string {
	for _, sec := range secretsOf(cfg, urls...) {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return netguard.StripAddresses(s)
}
