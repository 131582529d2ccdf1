package wecom

import (
	"context"
	"sync"
	"time"
)

// limiter is a token bucket per corp, in one process. WeCom limits calls per
// corp and API (its 主动调用频率限制 page; the figures there are per minute and
// hour and far above what one Lambda makes); a sync of thousands of groups is
// what could come near them, so each process keeps to RatePerSecond per corp
// (20/s, burst 40, by default). It is per process, not global: N concurrent
// Lambdas of one tenant may make N times that, and WeCom's 45009 answer then is
// an *Error like any other.
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
