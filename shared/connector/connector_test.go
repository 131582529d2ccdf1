package connector

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/chat/generic"
	"github.com/tribehq/tribe/shared/problem"
)

var testNow = time.Unix(1718006400, 0).UTC()

// Signatures computed independently with Python's hmac for these inputs.
const (
	feishuSecret   = "SECfeishu-test"
	feishuSign     = "/eRlc6KuOOB51YBcjaGXMPrsLQEHW9YLaDtZWqx5QzI=" // ts 1718006400
	dingTalkSecret = "SECdingtalk-test"
	dingTalkSign   = "Y297qEs0zOJu4t7bZdWiBCGf/b01aeOcIBhVYvLRF0s=" // ts 1718006400000
	wecomKey       = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
	dingTalkToken  = "3f1c0a9e8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e"
	slackPath      = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
	discordPath    = "/api/webhooks/123456789012345678/discord-token-abcdefghijklmnop"
	feishuPath     = "/open-apis/bot/v2/hook/6b9d2b7e-0000-4f4f-9c3a-feishuhookid"
	genericSecret  = "tribe-generic-secret"
)

// fakePlatform is a TLS server answering from a script of responses, one per
// request; the last one repeats.
type fakePlatform struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	script   []response
}

type recorded struct {
	path, rawQuery string
	header         http.Header
	body           []byte
}

type response struct {
	status int
	header map[string]string
	body   string
	block  bool // wait for the client to give up
}

func newFake(tb testing.TB, script ...response) *fakePlatform {
	tb.Helper()
	f := &fakePlatform{script: script}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		n := len(f.requests)
		f.requests = append(f.requests, recorded{r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		resp := f.script[min(n, len(f.script)-1)]
		f.mu.Unlock()
		if resp.block {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			return
		}
		for k, v := range resp.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(resp.status)
		io.WriteString(w, resp.body)
	}))
	tb.Cleanup(f.Close)
	return f
}

func (f *fakePlatform) got() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

// clock is a fake clock whose sleeps advance it and are recorded.
type clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func newTestSender(tb testing.TB, f *fakePlatform, c *clock, opts ...Option) *Sender {
	tb.Helper()
	base := []Option{
		WithHTTPClient(f.Client()),
		AllowHosts("127.0.0.1"),
		WithClock(c.Now, c.Sleep),
		WithJitter(func(d time.Duration) time.Duration { return d }),
		WithRetry(3, 100*time.Millisecond, time.Second, 5*time.Second),
	}
	s, err := NewSender(append(base, opts...)...)
	if err != nil {
		tb.Fatalf("NewSender: %v", err)
	}
	return s
}

func decodeJSON(tb testing.TB, b []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("request body is not JSON: %v\n%s", err, b)
	}
	return m
}

func TestSendRequestFormats(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 2100) // 4200 bytes, 2100 characters
	tests := []struct {
		name      string
		kind      Kind
		path      string // path and query, appended to the fake's URL
		secret    string
		msg       Message
		okBody    string
		wantPath  string
		wantQuery url.Values
		wantBody  map[string]any
		check     func(t *testing.T, r recorded)
	}{
		{
			name: "wecom text", kind: WeComRobot, path: "/cgi-bin/webhook/send?key=" + wecomKey,
			msg: Message{Text: "Welcome!"}, okBody: `{"errcode":0,"errmsg":"ok"}`,
			wantPath: "/cgi-bin/webhook/send", wantQuery: url.Values{"key": {wecomKey}},
			wantBody: map[string]any{"msgtype": "text", "text": map[string]any{"content": "Welcome!"}},
		},
		{
			name: "wecom markdown", kind: WeComRobot, path: "/cgi-bin/webhook/send?key=" + wecomKey,
			msg: Message{Text: "plain", Markdown: "**bold**"}, okBody: `{"errcode":0,"errmsg":"ok"}`,
			wantPath: "/cgi-bin/webhook/send", wantQuery: url.Values{"key": {wecomKey}},
			wantBody: map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": "**bold**"}},
		},
		{
			name: "wecom text cut to 2048 bytes", kind: WeComRobot, path: "/cgi-bin/webhook/send?key=" + wecomKey,
			msg: Message{Text: long}, okBody: `{"errcode":0,"errmsg":"ok"}`,
			wantPath: "/cgi-bin/webhook/send", wantQuery: url.Values{"key": {wecomKey}},
			wantBody: map[string]any{"msgtype": "text", "text": map[string]any{"content": strings.Repeat("é", 1022) + "…"}},
		},
		{
			name: "feishu unsigned", kind: Feishu, path: feishuPath,
			msg: Message{Text: "hi"}, okBody: `{"code":0,"msg":"success","data":{}}`,
			wantPath: feishuPath, wantQuery: url.Values{},
			wantBody: map[string]any{"msg_type": "text", "content": map[string]any{"text": "hi"}},
		},
		{
			name: "feishu signed", kind: Feishu, path: feishuPath, secret: feishuSecret,
			msg: Message{Text: "hi"}, okBody: `{"code":0,"msg":"success","data":{}}`,
			wantPath: feishuPath, wantQuery: url.Values{},
			wantBody: map[string]any{"msg_type": "text", "content": map[string]any{"text": "hi"},
				"timestamp": "1718006400", "sign": feishuSign},
		},
		{
			name: "dingtalk text signed", kind: DingTalk, path: "/robot/send?access_token=" + dingTalkToken, secret: dingTalkSecret,
			msg: Message{Text: "hi"}, okBody: `{"errcode":0,"errmsg":"ok"}`,
			wantPath:  "/robot/send",
			wantQuery: url.Values{"access_token": {dingTalkToken}, "timestamp": {"1718006400000"}, "sign": {dingTalkSign}},
			wantBody:  map[string]any{"msgtype": "text", "text": map[string]any{"content": "hi"}},
			check: func(t *testing.T, r recorded) {
				if want := "sign=" + url.QueryEscape(dingTalkSign); !strings.Contains(r.rawQuery, want) {
					t.Errorf("query %q lacks URL-encoded %q", r.rawQuery, want)
				}
			},
		},
		{
			name: "dingtalk markdown unsigned, title from first line", kind: DingTalk, path: "/robot/send?access_token=" + dingTalkToken,
			msg: Message{Markdown: "## Weekly winners\n- Ana"}, okBody: `{"errcode":0,"errmsg":"ok"}`,
			wantPath: "/robot/send", wantQuery: url.Values{"access_token": {dingTalkToken}},
			wantBody: map[string]any{"msgtype": "markdown", "markdown": map[string]any{"title": "Weekly winners", "text": "## Weekly winners\n- Ana"}},
		},
		{
			name: "slack mrkdwn", kind: Slack, path: slackPath,
			msg: Message{Text: "plain", Markdown: "*bold*"}, okBody: "ok",
			wantPath: slackPath, wantQuery: url.Values{},
			wantBody: map[string]any{"text": "*bold*"},
		},
		{
			name: "discord truncated to 2000 characters", kind: Discord, path: discordPath,
			msg: Message{Text: long}, okBody: "",
			wantPath: discordPath, wantQuery: url.Values{},
			wantBody: map[string]any{"content": strings.Repeat("é", 1999) + "…", "allowed_mentions": map[string]any{"parse": []any{}}},
		},
		{
			name: "generic signed", kind: Generic, path: "/hooks/chat", secret: genericSecret,
			msg: Message{Text: "hi", Markdown: "**hi**", Title: "Hello"}, okBody: "",
			wantPath: "/hooks/chat", wantQuery: url.Values{},
			wantBody: map[string]any{"type": "message", "text": "hi", "markdown": "**hi**", "title": "Hello", "sent_at": "2024-06-10T08:00:00Z"},
			check: func(t *testing.T, r recorded) {
				if err := generic.Verify(genericSecret, r.header, r.body, testNow); err != nil {
					t.Errorf("Tribe-Signature does not verify: %v", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status := http.StatusOK
			if tt.kind == Discord {
				status = http.StatusNoContent
			}
			f := newFake(t, response{status: status, body: tt.okBody})
			s := newTestSender(t, f, &clock{now: testNow})
			d, err := s.Send(context.Background(), Config{Kind: tt.kind, URL: f.URL + tt.path, Secret: tt.secret}, tt.msg)
			if err != nil {
				t.Fatalf("Send: %v (%+v)", err, d)
			}
			if d.Attempts != 1 || d.Status != status || d.Error != "" || !d.At.Equal(testNow) {
				t.Errorf("Delivery = %+v", d)
			}
			reqs := f.got()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.path != tt.wantPath {
				t.Errorf("path = %q, want %q", r.path, tt.wantPath)
			}
			q, _ := url.ParseQuery(r.rawQuery)
			if !reflect.DeepEqual(q, tt.wantQuery) {
				t.Errorf("query = %v, want %v", q, tt.wantQuery)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if got := decodeJSON(t, r.body); !reflect.DeepEqual(got, tt.wantBody) {
				t.Errorf("body =\n%v\nwant\n%v", got, tt.wantBody)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestSendRetries(t *testing.T) {
	t.Parallel()
	wecomOK := response{status: 200, body: `{"errcode":0,"errmsg":"ok"}`}
	tests := []struct {
		name       string
		kind       Kind
		script     []response
		wantErr    error
		attempts   int
		status     int
		sleeps     []time.Duration
		errContain string
	}{
		{"429 then 200: Retry-After honoured", WeComRobot, []response{{status: 429, header: map[string]string{"Retry-After": "2"}}, wecomOK},
			nil, 2, 200, []time.Duration{2 * time.Second}, ""},
		{"429 with fractional Retry-After", Discord, []response{{status: 429, header: map[string]string{"Retry-After": "0.25"}, body: `{"retry_after":0.25}`}, {status: 204}},
			nil, 2, 204, []time.Duration{250 * time.Millisecond}, ""},
		{"500 three times", WeComRobot, []response{{status: 500, body: "boom"}},
			ErrUnavailable, 3, 500, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, "HTTP 500: boom"},
		{"503 then 200", Slack, []response{{status: 503}, {status: 200, body: "ok"}},
			nil, 2, 200, []time.Duration{100 * time.Millisecond}, ""},
		{"400 not retried", Slack, []response{{status: 400, body: "invalid_payload"}},
			ErrRejected, 1, 400, nil, "invalid_payload"},
		{"404 not retried", Discord, []response{{status: 404, body: `{"message":"Unknown Webhook","code":10015}`}},
			ErrRejected, 1, 404, nil, "Unknown Webhook"},
		{"redirect not followed", Slack, []response{{status: 302, header: map[string]string{"Location": "https://example.com/"}}},
			ErrRejected, 1, 302, nil, "HTTP 302"},
		{"Retry-After too long", Slack, []response{{status: 429, header: map[string]string{"Retry-After": "600"}}},
			ErrUnavailable, 1, 429, nil, "Retry-After"},
		{"wecom 200 with errcode", WeComRobot, []response{{status: 200, body: `{"errcode":93000,"errmsg":"invalid webhook url"}`}},
			ErrRejected, 1, 200, nil, "errcode 93000"},
		{"wecom system busy retried", WeComRobot, []response{{status: 200, body: `{"errcode":-1,"errmsg":"system busy"}`}, wecomOK},
			nil, 2, 200, []time.Duration{100 * time.Millisecond}, ""},
		{"wecom 200 without json", WeComRobot, []response{{status: 200, body: `<html>`}},
			ErrRejected, 1, 200, nil, "unexpected response"},
		{"dingtalk 200 with errcode", DingTalk, []response{{status: 200, body: `{"errcode":310000,"errmsg":"sign not match"}`}},
			ErrRejected, 1, 200, nil, "errcode 310000"},
		{"dingtalk throttled not retried", DingTalk, []response{{status: 200, body: `{"errcode":130101,"errmsg":"send too fast"}`}},
			ErrRejected, 1, 200, nil, "130101"},
		{"feishu 200 with code", Feishu, []response{{status: 200, body: `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`}},
			ErrRejected, 1, 200, nil, "code 19021"},
		{"feishu throttled retried", Feishu, []response{{status: 200, body: `{"code":11232,"msg":"frequency limited"}`}, {status: 200, body: `{"code":0,"msg":"success"}`}},
			nil, 2, 200, []time.Duration{100 * time.Millisecond}, ""},
		{"feishu legacy StatusCode", Feishu, []response{{status: 200, body: `{"StatusCode":0,"StatusMessage":"success"}`}},
			nil, 1, 200, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, tt.script...)
			c := &clock{now: testNow}
			s := newTestSender(t, f, c)
			d, err := s.Send(context.Background(), Config{Kind: tt.kind, URL: f.URL + validPath(tt.kind), Secret: secretFor(tt.kind)}, Message{Text: "hi"})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Send error = %v, want %v", err, tt.wantErr)
			}
			if d.Attempts != tt.attempts || d.Status != tt.status {
				t.Errorf("Attempts/Status = %d/%d, want %d/%d", d.Attempts, d.Status, tt.attempts, tt.status)
			}
			if got := len(f.got()); got != tt.attempts {
				t.Errorf("server saw %d requests, want %d", got, tt.attempts)
			}
			if !reflect.DeepEqual(c.sleeps, tt.sleeps) {
				t.Errorf("sleeps = %v, want %v", c.sleeps, tt.sleeps)
			}
			var sum time.Duration
			for _, s := range tt.sleeps {
				sum += s
			}
			if d.Duration != sum {
				t.Errorf("Duration = %v, want %v", d.Duration, sum)
			}
			if tt.errContain != "" && (!strings.Contains(d.Error, tt.errContain) || err.Error() != d.Error) {
				t.Errorf("Error = %q / %v, want it to contain %q", d.Error, err, tt.errContain)
			}
			if tt.wantErr == nil && d.Error != "" {
				t.Errorf("Error = %q on success", d.Error)
			}
		})
	}
}

func validPath(k Kind) string {
	switch k {
	case WeComRobot:
		return "/cgi-bin/webhook/send?key=" + wecomKey
	case Feishu:
		return feishuPath
	case DingTalk:
		return "/robot/send?access_token=" + dingTalkToken
	case Slack:
		return slackPath
	case Discord:
		return discordPath
	}
	return "/hook"
}

func secretFor(k Kind) string {
	switch k {
	case Feishu:
		return feishuSecret
	case DingTalk:
		return dingTalkSecret
	case Generic:
		return genericSecret
	}
	return ""
}

func TestSendBackoffIsExponentialWithJitter(t *testing.T) {
	t.Parallel()
	f := newFake(t, response{status: 502})
	c := &clock{now: testNow}
	var asked []time.Duration
	s := newTestSender(t, f, c, WithRetry(5, 100*time.Millisecond, 500*time.Millisecond, time.Second),
		WithJitter(func(d time.Duration) time.Duration { asked = append(asked, d); return d / 2 }))
	if _, err := s.Send(context.Background(), Config{Kind: Slack, URL: f.URL + slackPath}, Message{Text: "x"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Send error = %v", err)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 500 * time.Millisecond}
	if !reflect.DeepEqual(asked, want) {
		t.Errorf("backoff before jitter = %v, want %v", asked, want)
	}
	if want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond}; !reflect.DeepEqual(c.sleeps, want) {
		t.Errorf("sleeps = %v, want %v", c.sleeps, want)
	}
}

func TestDefaultJitterRange(t *testing.T) {
	t.Parallel()
	s, err := NewSender()
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		if j := s.jitter(time.Second); j < 500*time.Millisecond || j > time.Second {
			t.Fatalf("jitter(1s) = %v, want within [0.5s, 1s]", j)
		}
	}
}

func TestSendTimeout(t *testing.T) {
	t.Parallel()
	f := newFake(t, response{block: true})
	c := &clock{now: testNow}
	s := newTestSender(t, f, c, WithTimeout(50*time.Millisecond), WithRetry(2, time.Millisecond, time.Millisecond, time.Second))
	start := time.Now()
	d, err := s.Send(context.Background(), Config{Kind: WeComRobot, URL: f.URL + validPath(WeComRobot)}, Message{Text: "hi"})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Send error = %v, want ErrUnavailable", err)
	}
	if d.Attempts != 2 || d.Status != 0 || !strings.Contains(d.Error, "timeout") {
		t.Errorf("Delivery = %+v", d)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("Send took %v; the per-attempt timeout did not apply", el)
	}
}

func TestSendContextCanceled(t *testing.T) {
	t.Parallel()
	f := newFake(t, response{status: 500})
	ctx, cancel := context.WithCancel(context.Background())
	c := &clock{now: testNow}
	s := newTestSender(t, f, c, WithClock(c.Now, func(context.Context, time.Duration) error { cancel(); return context.Canceled }))
	d, err := s.Send(ctx, Config{Kind: Slack, URL: f.URL + slackPath}, Message{Text: "hi"})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Send error = %v, want ErrUnavailable and context.Canceled", err)
	}
	if d.Attempts != 1 {
		t.Errorf("Attempts = %d, want 1", d.Attempts)
	}
}

func TestSendNetworkErrorRedacted(t *testing.T) {
	t.Parallel()
	f := newFake(t, response{status: 200})
	u := f.URL + validPath(WeComRobot)
	f.Close() // connection refused from now on
	c := &clock{now: testNow}
	s := newTestSender(t, f, c)
	d, err := s.Send(context.Background(), Config{Kind: WeComRobot, URL: u}, Message{Text: "hi"})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Send error = %v, want ErrUnavailable", err)
	}
	if d.Attempts != 3 {
		t.Errorf("Attempts = %d, want 3", d.Attempts)
	}
	for _, s := range []string{d.Error, err.Error()} {
		if strings.Contains(s, wecomKey) || strings.Contains(s, "key=") || strings.Contains(s, "/cgi-bin") {
			t.Errorf("error leaks the URL: %q", s)
		}
	}
}

// TestSendNeverLeaksSecrets has platforms echo the credentials back in their
// error bodies, as some do with request details.
func TestSendNeverLeaksSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind    Kind
		secrets []string
	}{
		{WeComRobot, []string{wecomKey}},
		{DingTalk, []string{dingTalkToken, dingTalkSecret, dingTalkSign}},
		{Feishu, []string{feishuSecret, "6b9d2b7e-0000-4f4f-9c3a-feishuhookid"}},
		{Slack, []string{"XXXXXXXXXXXXXXXXXXXXXXXX"}},
		{Discord, []string{"discord-token-abcdefghijklmnop"}},
		{Generic, []string{genericSecret}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			echo := "bad request: " + strings.Join(tt.secrets, " ") + " " + validPath(tt.kind)
			f := newFake(t, response{status: 400, body: echo})
			s := newTestSender(t, f, &clock{now: testNow})
			d, err := s.Send(context.Background(), Config{Kind: tt.kind, URL: f.URL + validPath(tt.kind), Secret: secretFor(tt.kind)}, Message{Text: "hi"})
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("Send error = %v", err)
			}
			for _, sec := range tt.secrets {
				// A prefix counts too: a cut excerpt must not carry part of one.
				for _, part := range []string{sec, sec[:12]} {
					if strings.Contains(d.Error, part) || strings.Contains(err.Error(), part) {
						t.Errorf("secret %q leaked: %q", part, d.Error)
					}
				}
			}
		})
	}
}

func TestSendRejectsBeforeRequesting(t *testing.T) {
	t.Parallel()
	f := newFake(t, response{status: 200})
	s := newTestSender(t, f, &clock{now: testNow})
	tests := []struct {
		name string
		cfg  Config
		msg  Message
		want error
	}{
		{"empty message", Config{Kind: Slack, URL: f.URL + slackPath}, Message{Title: "t"}, ErrInvalidMessage},
		{"blank text", Config{Kind: Slack, URL: f.URL + slackPath}, Message{Text: "  "}, ErrInvalidMessage},
		{"huge message", Config{Kind: Slack, URL: f.URL + slackPath}, Message{Text: strings.Repeat("x", 21<<10)}, ErrInvalidMessage},
		{"bad config", Config{Kind: "teams", URL: f.URL}, Message{Text: "hi"}, ErrInvalidConfig},
		{"generic without secret", Config{Kind: Generic, URL: f.URL + "/hook"}, Message{Text: "hi"}, ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := s.Send(context.Background(), tt.cfg, tt.msg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Send error = %v, want %v", err, tt.want)
			}
			if d.Attempts != 0 || d.Error == "" {
				t.Errorf("Delivery = %+v", d)
			}
		})
	}
	if n := len(f.got()); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		// field is the field a failure names; "" for a valid config.
		field string
	}{
		{"wecom", Config{Kind: WeComRobot, URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + wecomKey}, ""},
		{"wecom without key", Config{Kind: WeComRobot, URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}, "url"},
		{"wecom other path", Config{Kind: WeComRobot, URL: "https://qyapi.weixin.qq.com/cgi-bin/message/send?key=k"}, "url"},
		{"wecom lookalike host", Config{Kind: WeComRobot, URL: "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=k"}, "url"},
		{"wecom http", Config{Kind: WeComRobot, URL: "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}, "url"},
		{"feishu", Config{Kind: Feishu, URL: "https://open.feishu.cn" + feishuPath}, ""},
		{"lark", Config{Kind: Feishu, URL: "https://open.larksuite.com" + feishuPath, Secret: "s"}, ""},
		{"feishu without hook id", Config{Kind: Feishu, URL: "https://open.feishu.cn/open-apis/bot/v2/hook/"}, "url"},
		{"dingtalk", Config{Kind: DingTalk, URL: "https://oapi.dingtalk.com/robot/send?access_token=" + dingTalkToken}, ""},
		{"dingtalk without token", Config{Kind: DingTalk, URL: "https://oapi.dingtalk.com/robot/send"}, "url"},
		{"slack", Config{Kind: Slack, URL: "https://hooks.slack.com" + slackPath}, ""},
		{"slack on another host", Config{Kind: Slack, URL: "https://example.com" + slackPath}, "url"},
		{"discord", Config{Kind: Discord, URL: "https://discord.com" + discordPath}, ""},
		{"discordapp", Config{Kind: Discord, URL: "https://discordapp.com" + discordPath}, ""},
		{"discord user info", Config{Kind: Discord, URL: "https://u:p@discord.com" + discordPath}, "url"},
		{"generic", Config{Kind: Generic, URL: "https://bots.example.com/tribe", Secret: "s"}, ""},
		{"generic http", Config{Kind: Generic, URL: "http://bots.example.com/tribe", Secret: "s"}, "url"},
		{"generic loopback", Config{Kind: Generic, URL: "https://127.0.0.1:9001/2018-06-01/runtime", Secret: "s"}, "url"},
		{"generic metadata", Config{Kind: Generic, URL: "https://169.254.169.254/latest", Secret: "s"}, "url"},
		{"generic private", Config{Kind: Generic, URL: "https://10.0.0.5/x", Secret: "s"}, "url"},
		{"generic localhost", Config{Kind: Generic, URL: "https://localhost/x", Secret: "s"}, "url"},
		{"generic single label", Config{Kind: Generic, URL: "https://intranet/x", Secret: "s"}, "url"},
		{"generic no secret", Config{Kind: Generic, URL: "https://bots.example.com/tribe"}, "secret"},
		{"test host needs AllowHosts", Config{Kind: Slack, URL: "https://127.0.0.1:8443" + slackPath}, "url"},
		{"unknown kind", Config{Kind: "teams", URL: "https://x.example.com"}, "kind"},
		{"relative URL", Config{Kind: Generic, URL: "/hook", Secret: "s"}, "url"},
		{"garbage URL", Config{Kind: Generic, URL: "%%%", Secret: "s"}, "url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if (err == nil) != (tt.field == "") {
				t.Fatalf("Validate = %v, want a failure naming %q", err, tt.field)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Errorf("error %v is not ErrInvalidConfig", err)
				}
				var fe *problem.FieldError
				if !errors.As(err, &fe) || fe.Field != tt.field {
					t.Errorf("error %v: field error %+v, want field %q", err, fe, tt.field)
				}
				if strings.Contains(err.Error(), wecomKey) || strings.Contains(err.Error(), "XXXXXXXX") || strings.Contains(err.Error(), "discord-token") {
					t.Errorf("error leaks the URL: %v", err)
				}
			}
		})
	}
}

func TestAllowHostsPermitsLoopbackHTTP(t *testing.T) {
	t.Parallel()
	s, err := NewSender(AllowHosts("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := (Config{Kind: Slack, URL: "http://127.0.0.1:8080" + slackPath}).validate(s.allowed, s.guard); err != nil {
		t.Errorf("loopback http with AllowHosts: %v", err)
	}
	s2, _ := NewSender(AllowHosts("fake.example.com"))
	if err := (Config{Kind: Slack, URL: "http://fake.example.com" + slackPath}).validate(s2.allowed, s2.guard); err == nil {
		t.Error("non-loopback http accepted")
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + wecomKey, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=REDACTED"},
		{"https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1&sign=x%2By", "https://oapi.dingtalk.com/robot/send?access_token=REDACTED&sign=REDACTED&timestamp=REDACTED"},
		{"https://hooks.slack.com" + slackPath, "https://hooks.slack.com/services/REDACTED/REDACTED/REDACTED"},
		{"https://discord.com" + discordPath + "?wait=true", "https://discord.com/api/webhooks/REDACTED/REDACTED?wait=REDACTED"},
		{"https://open.feishu.cn" + feishuPath, "https://open.feishu.cn/open-apis/bot/v2/hook/REDACTED"},
		{"https://user:pass@bots.example.com/t/secret-token#frag", "https://bots.example.com/REDACTED/REDACTED"},
		{"https://bots.example.com", "https://bots.example.com"},
		{"not a url", "REDACTED"},
		{"%%%", "REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewSenderRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]Option{
		"nil client":    WithHTTPClient(nil),
		"zero timeout":  WithTimeout(0),
		"zero attempts": WithRetry(0, 0, 0, 0),
		"nil clock":     WithClock(nil, nil),
		"nil jitter":    WithJitter(nil),
	} {
		if _, err := NewSender(opt); err == nil {
			t.Errorf("%s: NewSender accepted it", name)
		}
	}
}

func TestSignHelpers(t *testing.T) {
	t.Parallel()
	if got := FeishuSign("1718006400", feishuSecret); got != feishuSign {
		t.Errorf("FeishuSign = %s, want %s", got, feishuSign)
	}
	if got := DingTalkSign("1718006400000", dingTalkSecret); got != dingTalkSign {
		t.Errorf("DingTalkSign = %s, want %s", got, dingTalkSign)
	}
}

// TestDefaultClientIsGuarded sends with the default (netguard) client: loopback is
// reachable only because AllowHosts named a loopback host.
func TestDefaultClientIsGuarded(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	cfg := Config{Kind: Slack, URL: srv.URL + slackPath}
	msg := Message{Text: "hi"}
	s, err := NewSender(AllowHosts("127.0.0.1"), WithRetry(1, time.Millisecond, time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := s.Send(context.Background(), cfg, msg); err != nil || d.Status != http.StatusOK {
		t.Errorf("allowed loopback: %+v, %v", d, err)
	}
	if !s.allowsLoopback() {
		t.Error("AllowHosts(127.0.0.1) does not allow loopback")
	}
	for _, hosts := range [][]string{nil, {"fake.example.com"}} {
		s, err := NewSender(AllowHosts(hosts...))
		if err != nil {
			t.Fatal(err)
		}
		if s.allowsLoopback() {
			t.Errorf("AllowHosts(%v) allows loopback", hosts)
		}
	}
}
