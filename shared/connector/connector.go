// Package connector sends messages to a tenant's group chats through the
// connector the tenant configured: a WeCom group robot, a Feishu/Lark or
// DingTalk custom bot, a Slack or Discord incoming webhook, or a generic signed
// webhook of the tenant's own.
//
// Every send has a per-attempt timeout, bounded retries with exponential
// backoff and jitter on 429, 5xx and network errors (Retry-After honoured),
// and no retry on other 4xx or on a platform error code. The result is a
// Delivery for the delivery log. Connector URLs carry credentials (WeCom
// key=, DingTalk access_token=, Slack and Discord webhook paths), so neither
// errors nor Delivery ever contain a URL or secret; use Redact to log one.
package connector

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/tribehq/tribe/shared/netguard"
	"github.com/tribehq/tribe/shared/problem"
)

// Kind is the connector's platform.
type Kind string

// Kinds.
const (
	WeComRobot Kind = "wecom_robot"
	Feishu     Kind = "feishu"
	DingTalk   Kind = "dingtalk"
	Slack      Kind = "slack"
	Discord    Kind = "discord"
	Generic    Kind = "generic"
)

// Config is one tenant connector.
type Config struct {
	Kind Kind
	URL  string // the webhook URL as the platform gave it, credentials included
	// Secret is the signing secret where the platform has one: Feishu and
	// DingTalk (optional, when signing is enabled on the bot) and generic
	// (required). WeCom robots, Slack and Discord have none; it is ignored.
	Secret string
}

// Sentinel errors; every error of this package wraps one.
var (
	// ErrInvalidConfig means the connector cannot be used as configured.
	ErrInvalidConfig = errors.New("connector: invalid config")
	// ErrInvalidMessage means the message has neither text nor markdown.
	ErrInvalidMessage = errors.New("connector: invalid message")
	// ErrRejected means the platform refused the message (a 3xx or 4xx other
	// than 429, or a 2xx carrying an error code); retrying will not help.
	ErrRejected = errors.New("connector: rejected by platform")
	// ErrUnavailable means every attempt failed with 429, 5xx, a network error
	// or a timeout, or the context ended; a later retry may succeed.
	ErrUnavailable = errors.New("connector: platform unavailable")
)

type rule struct {
	hosts      []string
	pathPrefix string
	query      string // required query parameter
}

// rules are the documented webhook hosts and paths per platform.
var rules = map[Kind]rule{
	WeComRobot: {hosts: []string{"qyapi.weixin.qq.com"}, pathPrefix: "/cgi-bin/webhook/send", query: "key"},
	Feishu:     {hosts: []string{"open.feishu.cn", "open.larksuite.com"}, pathPrefix: "/open-apis/bot/v2/hook/"},
	DingTalk:   {hosts: []string{"oapi.dingtalk.com"}, pathPrefix: "/robot/send", query: "access_token"},
	Slack:      {hosts: []string{"hooks.slack.com"}, pathPrefix: "/services/"},
	Discord:    {hosts: []string{"discord.com", "discordapp.com"}, pathPrefix: "/api/webhooks/"},
	Generic:    {},
}

// Validate checks the connector as the default Sender would: a known kind; an
// https URL without user info; for platform kinds the platform's documented
// host, path and credential parameter; for generic, any public https host and a
// secret. Loopback and private IP addresses are refused (a Sender built with
// AllowHosts may permit test hosts). It fails with a *problem.FieldError naming
// "kind", "url" or "secret" and wrapping ErrInvalidConfig; its reason never
// quotes the URL, which may hold a token.
func (c Config) Validate() error { return c.validate(nil, netguard.New()) }

// validate checks c; guard is the sender's (its resolver is not asked: names are
// checked at dial time).
func (c Config) validate(allowed map[string]bool, guard netguard.Guard) error {
	invalid := func(format string, a ...any) error {
		return &problem.FieldError{Field: "url", Err: ErrInvalidConfig,
			Reason: fmt.Sprintf("not a %s webhook URL: %s", c.Kind, fmt.Sprintf(format, a...))}
	}
	r, ok := rules[c.Kind]
	if !ok {
		return &problem.FieldError{Field: "kind", Err: ErrInvalidConfig,
			Reason: fmt.Sprintf("unknown kind %q; kind is one of %s", c.Kind, strings.Join(kindNames(), ", "))}
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return invalid("URL is not absolute") // the URL itself may hold a token: never echo it
	}
	if u.User != nil {
		return invalid("URL has user info")
	}
	host := strings.ToLower(u.Hostname())
	testHost := allowed[host]
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && testHost && isLoopback(host):
	default:
		return invalid("URL must be https")
	}
	if len(r.hosts) > 0 && !testHost && !slices.Contains(r.hosts, host) {
		return invalid("host must be one of %s", strings.Join(r.hosts, ", "))
	}
	if testHost && isLoopback(host) {
		guard = guard.With(netguard.AllowLoopback(), netguard.AllowHTTP())
	}
	if _, err := guard.CheckURL(c.URL); err != nil {
		// Literal addresses of every non-public range and local names
		// (localhost, *.internal, *.local, single labels…); a name that resolves
		// inside is refused when dialled.
		return invalid("host must be a public name or address")
	}
	if !pathMatches(u.EscapedPath(), r.pathPrefix) {
		return invalid("path must be %s…", r.pathPrefix)
	}
	if r.query != "" && u.Query().Get(r.query) == "" {
		return invalid("URL needs the %s parameter", r.query)
	}
	if c.Kind == Generic && c.Secret == "" {
		return &problem.FieldError{Field: "secret", Err: ErrInvalidConfig, Reason: "a generic connector needs a signing secret"}
	}
	return nil
}

// kindNames are the kinds rules knows, sorted.
func kindNames() []string {
	out := make([]string, 0, len(rules))
	for k := range rules {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}

// pathMatches: a prefix ending in "/" needs something after it (the hook id);
// any other prefix is the whole path.
func pathMatches(path, prefix string) bool {
	if prefix == "" {
		return true
	}
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path, prefix) && len(path) > len(prefix)
	}
	return path == prefix
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// publicSegments are path prefixes that identify a platform and carry no
// credential; every other path segment and every query value is redacted.
var publicSegments = [][]string{
	{"cgi-bin", "webhook", "send"},
	{"open-apis", "bot", "v2", "hook"},
	{"robot", "send"},
	{"services"},
	{"api", "webhooks"},
}

const redacted = "REDACTED"

// Redact returns rawURL fit for a log line: scheme, host and the platform's
// public path prefix kept; user info and fragment dropped; every other path
// segment and every query value replaced by REDACTED. A URL that does not
// parse becomes "REDACTED".
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return redacted
	}
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	keep := 0
	for _, p := range publicSegments {
		if len(segs) >= len(p) && equalFold(segs[:len(p)], p) && len(p) > keep {
			keep = len(p)
		}
	}
	for i := keep; i < len(segs); i++ {
		if segs[i] != "" {
			segs[i] = redacted
		}
	}
	var b strings.Builder
	b.WriteString(u.Scheme + "://" + u.Host)
	if u.EscapedPath() != "" {
		b.WriteString("/" + strings.Join(segs, "/"))
	}
	if u.RawQuery != "" {
		q := u.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, url.QueryEscape(k)+"="+redacted)
		}
		slices.Sort(keys)
		b.WriteString("?" + strings.Join(keys, "&"))
	}
	return b.String()
}

func equalFold(a, b []string) bool {
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}
