// Package generic verifies and parses Tribe's own chat event format, which
// tenants' bots and the platforms without a dedicated adapter (Feishu,
// DingTalk, Slack, Discord, Telegram, personal WeChat…) post to Tribe:
//
//	POST /…  Content-Type: application/json
//	Tribe-Signature: t=1718000000,v1=<hex HMAC-SHA256(secret, "1718000000.<raw body>")>
//
//	{"id":"evt_1","type":"member.joined","platform":"telegram","chat_id":"-100123",
//	 "user":{"id":"42","name":"Ana"},"state":"ch_42","timestamp":"2024-06-10T08:00:00Z"}
//
// The signature follows Stripe's model: it covers the raw body bytes, the
// timestamp bounds replays to Tolerance, and several v1 values may be sent
// while a secret is rotated; any one matching is enough.
package generic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/tribesig"
)

// SignatureHeader carries the signature of a request body.
const SignatureHeader = "Tribe-Signature"

// Tolerance is how far a signature's timestamp may be from now, either way.
const Tolerance = tribesig.Tolerance

// Limits Parse enforces. Lengths are in bytes except MaxText, in characters.
const (
	MaxBodyBytes = 64 << 10
	MaxIDLen     = 128
	MaxChatIDLen = 256
	MaxUserIDLen = 256
	MaxNameLen   = 256
	MaxStateLen  = 64
	MaxText      = 8000
)

// Sentinel errors; each failure wraps one of them.
var (
	// ErrNoSignature means the Tribe-Signature header is missing.
	ErrNoSignature = errors.New("generic: missing signature")
	// ErrSignature means the header is malformed or no v1 matches the body.
	ErrSignature = errors.New("generic: signature mismatch")
	// ErrStale means the signed timestamp is more than Tolerance from now.
	ErrStale = errors.New("generic: signature timestamp outside tolerance")
	// ErrNoSecret means Verify or Sign was called without a secret.
	ErrNoSecret = errors.New("generic: empty secret")
	// ErrInvalid means the body is not a valid event (see Parse).
	ErrInvalid = errors.New("generic: invalid event")
)

// Type is what happened.
type Type string

// Event types.
const (
	MemberJoined  Type = "member.joined"
	MemberLeft    Type = "member.left"
	MessagePosted Type = "message.posted"
)

// Platform is where it happened.
type Platform string

// Platforms.
const (
	Feishu   Platform = "feishu"
	DingTalk Platform = "dingtalk"
	Slack    Platform = "slack"
	Discord  Platform = "discord"
	Telegram Platform = "telegram"
	WeChat   Platform = "wechat"
	Other    Platform = "other"
)

// User is the member the event is about.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Event is one chat event in Tribe's generic format.
type Event struct {
	ID        string    `json:"id"` // unique per sender; the dedupe key
	Type      Type      `json:"type"`
	Platform  Platform  `json:"platform"`
	ChatID    string    `json:"chat_id"`
	User      User      `json:"user"`
	Text      string    `json:"text,omitempty"`  // message.posted only
	State     string    `json:"state,omitempty"` // channel code the member came through
	Timestamp time.Time `json:"timestamp"`       // RFC 3339
}

// Sign returns the Tribe-Signature header value for body signed at t. It fails
// only with ErrNoSecret.
func Sign(secret string, t time.Time, body []byte) (string, error) {
	if secret == "" {
		return "", ErrNoSecret
	}
	return tribesig.Sign(secret, t, body), nil
}

// Verify checks the Tribe-Signature header of a request against its raw body (see
// shared/tribesig): call it before parsing, on the exact bytes received. It fails
// with ErrNoSecret, ErrNoSignature, ErrSignature (malformed header or no matching
// v1) or ErrStale (timestamp more than Tolerance from now).
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	err := tribesig.Verify(secret, h, body, now)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tribesig.ErrNoSecret):
		return ErrNoSecret
	case errors.Is(err, tribesig.ErrMissing):
		return ErrNoSignature
	case errors.Is(err, tribesig.ErrStale):
		return ErrStale
	}
	return fmt.Errorf("%w: %v", ErrSignature, err)
}

// Parse decodes and validates one event. It fails with ErrInvalid when the body
// is over MaxBodyBytes, is not a single JSON object, has an unknown field, a
// missing id/type/platform/chat_id/user.id/timestamp, an unknown type or
// platform, text on a membership event or no text on a message, or a value
// over its limit; those last are a *problem.FieldError naming the field.
func Parse(body []byte) (Event, error) {
	if len(body) > MaxBodyBytes {
		return Event{}, fmt.Errorf("%w: body over %d bytes", ErrInvalid, MaxBodyBytes)
	}
	if !utf8.Valid(body) {
		return Event{}, fmt.Errorf("%w: body is not UTF-8", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var e Event
	if err := dec.Decode(&e); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Event{}, fmt.Errorf("%w: data after the event", ErrInvalid)
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// Validate checks an event as Parse does, failing with a *problem.FieldError
// that names the field and wraps ErrInvalid.
func (e Event) Validate() error {
	invalid := func(field, format string, a ...any) error {
		return &problem.FieldError{Field: field, Reason: fmt.Sprintf(format, a...), Err: ErrInvalid}
	}
	checks := []struct {
		name     string
		v        string
		required bool
		max      int
	}{
		{"id", e.ID, true, MaxIDLen},
		{"chat_id", e.ChatID, true, MaxChatIDLen},
		{"user.id", e.User.ID, true, MaxUserIDLen},
		{"user.name", e.User.Name, false, MaxNameLen},
		{"state", e.State, false, MaxStateLen},
	}
	for _, c := range checks {
		if c.required && strings.TrimSpace(c.v) == "" {
			return invalid(c.name, "%s is required", c.name)
		}
		if len(c.v) > c.max {
			return invalid(c.name, "%s is over %d bytes", c.name, c.max)
		}
		if strings.ContainsFunc(c.v, isControl) {
			return invalid(c.name, "%s has control characters", c.name)
		}
	}
	switch e.Type {
	case MemberJoined, MemberLeft:
		if e.Text != "" {
			return invalid("text", "text is only for %s", MessagePosted)
		}
	case MessagePosted:
		if strings.TrimSpace(e.Text) == "" {
			return invalid("text", "text is required for %s", MessagePosted)
		}
	default:
		return invalid("type", "unknown type %q", e.Type)
	}
	if n := utf8.RuneCountInString(e.Text); n > MaxText {
		return invalid("text", "text is over %d characters", MaxText)
	}
	switch e.Platform {
	case Feishu, DingTalk, Slack, Discord, Telegram, WeChat, Other:
	default:
		return invalid("platform", "unknown platform %q", e.Platform)
	}
	if e.Timestamp.IsZero() {
		return invalid("timestamp", "timestamp is required")
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// DedupeKey identifies the event across redeliveries: the sender's id, scoped
// by platform so two bots' ids cannot collide.
func (e Event) DedupeKey() string { return "generic:" + string(e.Platform) + ":" + e.ID }
