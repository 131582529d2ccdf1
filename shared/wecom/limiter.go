package wecom

import (
	"context"
	"sync"
	"time"
)

// limiter is a token bucket per corp, in one process: RatePerSecond calls per
// corp (20/s, burst 40, by default), every API together.
//
// WeCom's documented limits (主动调用频率限制 / 访问频率限制: path/90312 for a
// corp's own apps, https://developer.work.weixin.qq.com/document/path/90454 for
// third-party apps, both "最后更新 2023/08/28" when read): per corp, one API at
// most 10,000 calls a minute and 150,000 an hour; per IP, one API at most 20,000
// a minute and 600,000 an hour. WeCom "may adjust" them. No separate per-corp or
// per-app rate for the 客户联系 (externalcontact) APIs is documented there;
// WeCom limits their concurrency instead (45033 接口并发调用超过限制, which the
// client retries with backoff). 20/s is Tribe's own choice, not WeCom's figure:
// 72,000 calls an hour at most, under the 150,000 per API even if a sync spent
// them all on one API. It is per process, not global: N concurrent Lambdas of
// one tenant may make N times that, and WeCom's 45009 answer then is an *Error
// like any other.
type limiter struct {
	rate  float64
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

// wait blocks until corp may make one more call, or ctx ends.
func (l *limiter) wait(ctx context.Context, corp string) error {
	for {
		d := l.take(corp)
		if d == 0 {
			return nil
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// take takes a token, or says how long until one is there.
func (l *limiter) take(corp string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	b := l.buckets[corp]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[corp] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}
