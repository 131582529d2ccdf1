// Package wecom is Tribe's client of WeCom's server API (企业微信服务端 API, host
// qyapi.weixin.qq.com): access tokens, 客户联系 contact ways, group join ways,
// customer groups, external contacts and welcome messages. The callbacks WeCom
// sends Tribe are shared/chat/wecom; this package is the other direction.
//
// Every call carries an access token of the tenant's self-built app (gettoken
// with the corp id and the app's secret). Tokens are cached per corp and app in
// the table (sealed), so warm Lambdas share one token and refresh it five minutes
// before its 7,200 s run out; a refresh takes a lock so concurrent Lambdas do not
// all call gettoken. A call answered with an expired or invalid token code
// (42001, 40014, 41001) refetches the token once and is repeated; a call
// answered with -1 (系统繁忙, system busy) or 45033 (接口并发调用超过限制, too many
// concurrent calls) is retried with backoff; every other non-zero errcode is an
// *Error naming WeCom's code and message.
//
// All requests go through shared/netguard's client.
package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tribehq/tribe/shared/netguard"
)

// DefaultBaseURL is WeCom's API host.
const DefaultBaseURL = "https://qyapi.weixin.qq.com"

// WeCom's global error codes the client acts on, as its 全局错误码 page names
// them (https://developer.work.weixin.qq.com/document/path/90313).
const (
	CodeBusy          = -1    // 系统繁忙: "建议稍候重试。建议重试次数不超过3次"
	CodeInvalidToken  = 40014 // 不合法的access_token
	CodeMissingToken  = 41001 // 缺少access_token参数
	CodeExpiredToken  = 42001 // access_token已过期
	CodeInvalidSecret = 40001 // 不合法的secret参数
	// CodeFrequencyLimit is 接口调用超过限制: the page says a call over a
	// per-minute limit is blocked for the next 60 s (per hour, 60 min), so it
	// is not retried here; it is an *Error.
	CodeFrequencyLimit = 45009
	// CodeConcurrencyLimit is 接口并发调用超过限制: too many concurrent calls of one
	// API by one corp ("请企业调低并发数"); retried with backoff like CodeBusy.
	CodeConcurrencyLimit = 45033
	// CodeInvalidParam is 不合法的参数: invalid JSON, a value over its length or
	// count limit, a required value left empty, or GET where POST is required.
	CodeInvalidParam = 40058
	// CodeWelcomeCodeInvalid is 无效的欢迎语code: a welcome code is good for 20 s
	// after the add_external_contact event.
	CodeWelcomeCodeInvalid = 41050
	// CodeWelcomeTaken is 客户和服务人员已经开始聊天了: send_welcome_msg answers it
	// to every call with a code after the first, whichever app made the first
	// (https://developer.work.weixin.qq.com/document/path/92137).
	CodeWelcomeTaken = 41051
)

// Error is a non-zero errcode from WeCom.
type Error struct {
	Path string
	Code int
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("wecom %s: errcode %d: %s", e.Path, e.Code, e.Msg)
}

// IsCode reports whether err is a WeCom *Error with code.
func IsCode(err error, code int) bool {
	var we *Error
	return errors.As(err, &we) && we.Code == code
}

// ErrNoCredentials: the integration has no corp id or app secret.
var ErrNoCredentials = errors.New("wecom: the integration has no corp_id and corp_secret")

// Config is how clients reach WeCom.
type Config struct {
	// BaseURL is WeCom's API host; DefaultBaseURL when empty. Tests point it at
	// wecomfake.
	BaseURL string
	// Guard is the outbound policy (netguard); the zero Guard is production's.
	Guard netguard.Guard
	// Timeout bounds one HTTP request; 5 s when zero.
	Timeout time.Duration
	// Backoff is the first wait after a busy answer (doubled each retry); 200 ms
	// when zero.
	Backoff time.Duration
	// BusyRetries is how often a busy answer is retried; 3 when zero.
	BusyRetries int
	// RatePerSecond and Burst bound the calls per corp from one process; 20 and
	// 40 when zero (see limiter.go).
	RatePerSecond float64
	Burst         int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// TokenCache is where tokens are shared between processes (the table, through
// the tenant's store); see token.go.
type TokenCache interface {
	WeComTokenGet(ctx context.Context, corp, app string) (token string, expires time.Time, err error)
	WeComTokenClaim(ctx context.Context, corp, app string, until time.Time) (bool, error)
	WeComTokenPut(ctx context.Context, corp, app, token string, expires time.Time) error
}

// Client calls WeCom for one corp's app. It is safe for concurrent use.
type Client struct {
	cfg    Config
	http   *http.Client
	corp   string
	secret string
	app    string
	cache  TokenCache
	limit  *limiter

	mu      sync.Mutex
	token   string
	expires time.Time
	// bad is the last token WeCom refused: a cached copy of it is not used.
	bad string
}

// maxBody bounds what is read of an answer: groupchat/get of a 2,000-member group
// is well under a megabyte.
const maxBody = 4 << 20

// call does one API call with the token, refetching it once when WeCom says it is
// expired or invalid and retrying busy answers. in is the JSON body (nil for a
// GET); query holds extra query parameters.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	refetched := false
	busy := 0
	for {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return err
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("access_token", tok)
		err = c.do(ctx, method, path, q, in, out)
		var we *Error
		if !errors.As(err, &we) {
			return err
		}
		switch {
		case (we.Code == CodeExpiredToken || we.Code == CodeInvalidToken || we.Code == CodeMissingToken) && !refetched:
			refetched = true
			c.forget(tok)
			continue
		case (we.Code == CodeBusy || we.Code == CodeConcurrencyLimit) && busy < c.cfg.BusyRetries:
			if err := sleep(ctx, c.cfg.Backoff<<busy); err != nil {
				return err
			}
			busy++
			continue
		}
		return err
	}
}

// envelope is the errcode and errmsg every answer carries.
type envelope struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// do sends one request (rate-limited) and decodes the answer: a non-zero errcode
// is an *Error, anything else goes into out.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	if err := c.limit.wait(ctx, c.corp); err != nil {
		return err
	}
	u := strings.TrimRight(c.cfg.BaseURL, "/") + "/cgi-bin/" + path + "?" + q.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("wecom %s: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("wecom %s: %w", path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		// The URL carries the token: never let it into an error.
		return fmt.Errorf("wecom %s: request failed: %w", path, scrub(err))
	}
	defer res.Body.Close()
	raw, err := netguard.ReadBody(res.Body, maxBody)
	if err != nil {
		return fmt.Errorf("wecom %s: read answer: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("wecom %s: HTTP %d", path, res.StatusCode)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("wecom %s: answer is not JSON: %w", path, err)
	}
	if env.ErrCode != 0 {
		return &Error{Path: path, Code: env.ErrCode, Msg: env.ErrMsg}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("wecom %s: answer: %w", path, err)
	}
	return nil
}

// scrub drops the URL (with its access_token) from a transport error.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
