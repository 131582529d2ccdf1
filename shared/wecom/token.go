package wecom

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Token timing: WeCom's tokens last expires_in (7,200 s); a cached one is used
// until refreshEarly before it runs out (or half its life, for a token WeCom
// handed out near its end: gettoken answers the same token while it is valid), so
// what the cache and the table keep is the time to stop using it. A refresher holds the lock at most
// lockFor; the others poll the cache every pollEvery, and after waitAtMost fetch a
// token themselves (the lock holder died).
const (
	refreshEarly = 5 * time.Minute
	lockFor      = 10 * time.Second
	pollEvery    = 100 * time.Millisecond
	waitAtMost   = 3 * time.Second
)

// appKey names an app by its secret without keeping the secret: WeCom issues one
// token per app, and the corp id and secret identify the app.
func appKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:8])
}

// accessToken returns a token that is not about to expire: the process's own,
// else the table's, else a fresh one from gettoken (by the caller holding the
// refresh lock, which the others wait for).
func (c *Client) accessToken(ctx context.Context) (string, error) {
	now := c.cfg.Now()
	c.mu.Lock()
	if c.token != "" && now.Before(c.expires) {
		tok := c.token
		c.mu.Unlock()
		return tok, nil
	}
	bad := c.bad
	c.mu.Unlock()
	deadline := now.Add(waitAtMost)
	for {
		tok, exp, err := c.cache.WeComTokenGet(ctx, c.corp, c.app)
		if err != nil {
			return "", fmt.Errorf("wecom: cached token: %w", err)
		}
		now = c.cfg.Now()
		if tok != "" && tok != bad && now.Before(exp) {
			c.remember(tok, exp)
			return tok, nil
		}
		got, err := c.cache.WeComTokenClaim(ctx, c.corp, c.app, now.Add(lockFor))
		if err != nil {
			return "", fmt.Errorf("wecom: token lock: %w", err)
		}
		if got {
			// Another caller may have put a new token between the read and the
			// claim: look once more before calling gettoken.
			tok, exp, err := c.cache.WeComTokenGet(ctx, c.corp, c.app)
			if err != nil {
				return "", fmt.Errorf("wecom: cached token: %w", err)
			}
			if tok != "" && tok != bad && c.cfg.Now().Before(exp) {
				c.remember(tok, exp)
				return tok, nil
			}
			return c.fetchToken(ctx)
		}
		if !now.Before(deadline) {
			return c.fetchToken(ctx)
		}
		if err := sleep(ctx, pollEvery); err != nil {
			return "", err
		}
	}
}

// fetchToken calls gettoken and caches the answer in the table and the process.
func (c *Client) fetchToken(ctx context.Context) (string, error) {
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	q := url.Values{"corpid": {c.corp}, "corpsecret": {c.secret}}
	busy := 0
	for {
		err := c.do(ctx, http.MethodGet, "gettoken", q, nil, &out)
		if IsCode(err, CodeBusy) && busy < c.cfg.BusyRetries {
			if err := sleep(ctx, c.cfg.Backoff<<busy); err != nil {
				return "", err
			}
			busy++
			continue
		}
		if err != nil {
			return "", err
		}
		break
	}
	if out.AccessToken == "" || out.ExpiresIn <= 0 {
		return "", fmt.Errorf("wecom gettoken: answer without access_token or expires_in")
	}
	ttl := time.Duration(out.ExpiresIn) * time.Second
	exp := c.cfg.Now().Add(ttl - min(refreshEarly, ttl/2))
	if err := c.cache.WeComTokenPut(ctx, c.corp, c.app, out.AccessToken, exp); err != nil {
		return "", fmt.Errorf("wecom: cache token: %w", err)
	}
	c.remember(out.AccessToken, exp)
	return out.AccessToken, nil
}

func (c *Client) remember(tok string, exp time.Time) {
	c.mu.Lock()
	c.token, c.expires = tok, exp
	c.mu.Unlock()
}

// forget drops tok after WeCom refused it: neither the process nor the table's
// copy of it is used again.
func (c *Client) forget(tok string) {
	c.mu.Lock()
	if c.token == tok {
		c.token = ""
	}
	c.bad = tok
	c.mu.Unlock()
}
