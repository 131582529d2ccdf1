package webhookout

import (
	"math/rand/v2"
	"time"
)

// Backoff is the wait after each failed attempt: the first retry 5 s after the
// first attempt, the last about 24 h after it (5 s + 5 m + 30 m + 2 h + 5 h + 8 h
// + 8 h ≈ 23 h 35 m), then the delivery has failed. The sweep runs each minute,
// so a retry goes out in the first run after it is due.
var Backoff = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 8 * time.Hour, 8 * time.Hour}

// MaxAttempts is how many attempts a delivery gets by itself.
var MaxAttempts = len(Backoff) + 1

// DisableAfter is how long an endpoint may fail without a single success before
// it is disabled.
const DisableAfter = 5 * 24 * time.Hour

// Jitter spreads a wait: the default is uniform within ±10 %, so endpoints that
// failed together are not retried together.
type Jitter func(time.Duration) time.Duration

// DefaultJitter is d ± 10 %.
func DefaultJitter(d time.Duration) time.Duration {
	return d - d/10 + rand.N(d/5+1)
}

// NextAttempt is when the attempt after the attempts-th failed one is due, or
// false when that was the last.
func NextAttempt(attempts int, failedAt time.Time, jitter Jitter) (time.Time, bool) {
	if attempts < 1 || attempts > len(Backoff) {
		return time.Time{}, false
	}
	return failedAt.Add(jitter(Backoff[attempts-1])), true
}
