package dynamolocal

import (
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Local retries: the SDK's standard retryer, which retries what AWS documents
// as retryable (500 InternalServerError and the other 5xx, throttling, a
// connection reset, refused or dropped before the answer), as on AWS, tuned for
// a DynamoDB Local on loopback that a loaded machine makes answer 500
// InternalFailure or drop a connection now and then:
//   - MaxAttempts attempts, not 3: a hiccup under load often lasts past two;
//   - backoff with full jitter from 10 ms doubling to 500 ms, not up to 20 s:
//     Local recovers in milliseconds and tests should not wait seconds;
//   - no client-side retry quota: on AWS it stops a fleet's retries from
//     piling onto a struggling service; here one Local serves every test's
//     clients, and a burst of hiccups would drain the quota and turn the next
//     retryable failures into errors (the API's 500s) instead of retries.
//
// Our writes are idempotent (conditions, transactions with their own retry),
// so a retried write whose first attempt did land is harmless, as on AWS.
const (
	MaxAttempts = 5
	minBackoff  = 10 * time.Millisecond
	maxBackoff  = 500 * time.Millisecond
)

// Retryer returns the retryer of local clients.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = maxBackoff
		o.Backoff = retry.BackoffDelayerFunc(backoff)
		o.RateLimiter = ratelimit.None
		// DynamoDB Local names its internal errors InternalFailure; they come
		// with 500, which the defaults retry, but the code is matched too.
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: map[string]struct{}{"InternalFailure": {}}})
	})
}

// backoff is full jitter: a random delay up to minBackoff doubled per attempt,
// capped at maxBackoff.
func backoff(attempt int, _ error) (time.Duration, error) {
	ceil := maxBackoff
	if attempt < 10 {
		ceil = min(maxBackoff, minBackoff<<attempt)
	}
	return rand.N(ceil) + time.Millisecond, nil
}
