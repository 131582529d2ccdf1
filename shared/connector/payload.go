package connector

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tribehq/tribe/shared/tribesig"
)

// Message is what to post. Text is required unless Markdown is set. Platforms
// that render markdown (WeCom robot, DingTalk, Slack mrkdwn, Discord) get
// Markdown when it is set; Feishu's text message gets Text (or Markdown when
// there is no Text). Title heads DingTalk markdown messages (the first line of
// the markdown when empty) and is passed on by generic webhooks.
type Message struct {
	Text     string
	Markdown string // optional
	Title    string // optional
}

// Platform limits. Longer content is cut at a character boundary and ends
// with "…": cutting keeps one message one delivery (splitting would multiply
// rate-limit pressure and make partial failure possible).
const (
	wecomTextMax     = 2048 // bytes
	wecomMarkdownMax = 4096 // bytes
	discordMax       = 2000 // characters
	dingTalkTitleMax = 64   // characters, ours: the title is a notification preview
	maxMessageBytes  = 20 << 10
)

func (m Message) validate() error {
	if strings.TrimSpace(m.Text) == "" && strings.TrimSpace(m.Markdown) == "" {
		return fmt.Errorf("%w: text or markdown is required", ErrInvalidMessage)
	}
	if len(m.Text)+len(m.Markdown)+len(m.Title) > maxMessageBytes {
		return fmt.Errorf("%w: over %d bytes", ErrInvalidMessage, maxMessageBytes)
	}
	return nil
}

// request is one attempt's request, rebuilt per attempt so signatures carry a
// fresh timestamp.
type request struct {
	url    string
	body   []byte
	header http.Header
}

// build returns the platform's documented request for m at now.
func build(cfg Config, m Message, now time.Time) (request, error) {
	var payload any
	rawURL := cfg.URL
	header := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	switch cfg.Kind {
	case WeComRobot:
		if m.Markdown != "" {
			payload = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": cutBytes(m.Markdown, wecomMarkdownMax)}}
		} else {
			payload = map[string]any{"msgtype": "text", "text": map[string]string{"content": cutBytes(m.Text, wecomTextMax)}}
		}
	case Feishu:
		p := map[string]any{"msg_type": "text", "content": map[string]string{"text": first(m.Text, m.Markdown)}}
		if cfg.Secret != "" {
			ts := strconv.FormatInt(now.Unix(), 10)
			p["timestamp"], p["sign"] = ts, FeishuSign(ts, cfg.Secret)
		}
		payload = p
	case DingTalk:
		if m.Markdown != "" {
			payload = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": dingTalkTitle(m), "text": m.Markdown}}
		} else {
			payload = map[string]any{"msgtype": "text", "text": map[string]string{"content": m.Text}}
		}
		if cfg.Secret != "" {
			u, err := url.Parse(rawURL)
			if err != nil {
				return request{}, fmt.Errorf("%w: URL does not parse", ErrInvalidConfig)
			}
			ts := strconv.FormatInt(now.UnixMilli(), 10)
			q := u.Query()
			q.Set("timestamp", ts)
			q.Set("sign", DingTalkSign(ts, cfg.Secret)) // Encode URL-encodes it, as DingTalk requires
			u.RawQuery = q.Encode()
			rawURL = u.String()
		}
	case Slack:
		payload = map[string]string{"text": first(m.Markdown, m.Text)}
	case Discord:
		payload = map[string]any{
			"content": cutRunes(first(m.Markdown, m.Text), discordMax),
			// Tenant text must not ping @everyone, roles or users.
			"allowed_mentions": map[string][]string{"parse": {}},
		}
	case Generic:
		payload = map[string]string{
			"type": "message", "text": m.Text, "markdown": m.Markdown, "title": m.Title,
			"sent_at": now.UTC().Format(time.RFC3339),
		}
	default:
		return request{}, fmt.Errorf("%w: unknown kind %q", ErrInvalidConfig, cfg.Kind)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return request{}, fmt.Errorf("connector: encode %s message: %w", cfg.Kind, err)
	}
	if cfg.Kind == Generic {
		if cfg.Secret == "" {
			return request{}, fmt.Errorf("%w: generic: empty secret", ErrInvalidConfig)
		}
		header.Set(tribesig.Header, tribesig.Sign(cfg.Secret, now, body))
	}
	return request{url: rawURL, body: body, header: header}, nil
}

// FeishuSign is a Feishu/Lark custom bot's sign: Base64 of HMAC-SHA256 keyed by
// timestamp+"\n"+secret over an empty message (not keyed by the secret, which
// is DingTalk's scheme). timestamp is in seconds.
func FeishuSign(timestamp, secret string) string {
	m := hmac.New(sha256.New, []byte(timestamp+"\n"+secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// DingTalkSign is a DingTalk custom robot's sign before URL encoding: Base64 of
// HMAC-SHA256 keyed by secret over timestamp+"\n"+secret. timestamp is in
// milliseconds.
func DingTalkSign(timestamp, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func dingTalkTitle(m Message) string {
	t := strings.TrimSpace(m.Title)
	if t == "" {
		t, _, _ = strings.Cut(strings.TrimSpace(m.Markdown), "\n")
		t = strings.TrimSpace(strings.TrimLeft(t, "#> "))
	}
	return cutRunes(t, dingTalkTitleMax)
}

const ellipsis = "…"

// cutBytes cuts s to at most max bytes on a character boundary, ending with "…".
func cutBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// cutRunes cuts s to at most max characters, ending with "…".
func cutRunes(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + ellipsis
}
