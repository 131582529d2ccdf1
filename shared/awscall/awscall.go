// Package awscall makes signed calls to the AWS APIs Tribe calls for one or two
// operations (STS AssumeRole in shared/tenantcreds, KMS GenerateDataKey and
// Decrypt in shared/envelope/kmsclient) without their SDK clients: each of those
// adds about half a megabyte to a function binary, and five functions had passed
// 10 MiB (issue 14). A call is an HTTPS POST to the service's regional endpoint,
// signed by the SDK's SigV4 signer (which every function links for DynamoDB), and
// retried like the SDK's standard retryer retries: throttles, 5xx answers and
// network failures, up to three attempts with jittered exponential backoff.
package awscall

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Client calls one AWS service in one region.
type Client struct {
	service, region, endpoint string
	creds                     aws.CredentialsProvider
	http                      aws.HTTPClient
	signer                    *v4.Signer
	// attempts is how many times a retryable failure is tried in all.
	attempts int
	// backoff is the first retry's base delay; it doubles per attempt.
	backoff time.Duration
}

// Defaults of a Client.
const (
	defaultAttempts = 3
	defaultBackoff  = 50 * time.Millisecond
	maxBackoff      = 2 * time.Second
	maxAnswer       = 1 << 20
	callTimeout     = 10 * time.Second
)

// New returns a client of service ("sts", "kms") in cfg's region with cfg's
// credentials and HTTP client. endpoint overrides the regional endpoint
// https://<service>.<region>.amazonaws.com (tests); "" keeps it.
func New(cfg aws.Config, service, endpoint string) *Client {
	if endpoint == "" {
		endpoint = RegionalEndpoint(service, cfg.Region)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: callTimeout}
	}
	return &Client{service: service, region: cfg.Region, endpoint: strings.TrimSuffix(endpoint, "/"),
		creds: cfg.Credentials, http: hc, signer: v4.NewSigner(), attempts: defaultAttempts, backoff: defaultBackoff}
}

// RegionalEndpoint is service's endpoint in region (China's regions are under
// amazonaws.com.cn).
func RegionalEndpoint(service, region string) string {
	domain := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		domain = "amazonaws.com.cn"
	}
	return "https://" + service + "." + region + "." + domain
}

// Error is an AWS error answer: its HTTP status and the error code and message
// from its body (JSON protocols' __type and message, query protocols' XML Code
// and Message).
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// throttles are the error codes AWS answers a throttled call with.
var throttles = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true, "RequestThrottledException": true,
	"TooManyRequestsException": true, "ProvisionedThroughputExceededException": true, "RequestLimitExceeded": true,
	"RequestThrottled": true, "SlowDown": true, "PriorRequestNotComplete": true, "EC2ThrottledException": true,
	"IDPCommunicationError": true,
}

// Retryable reports whether err is worth another attempt: a throttle, a 5xx, or a
// failure to get an answer at all (not the caller's own cancellation).
func Retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests || throttles[e.Code]
	}
	return err != nil
}

// Post sends body to the service with the headers (the protocol's content type
// and target), signed, and returns a 2xx answer's body; any other answer is an
// *Error. Retryable failures are tried again after a backoff.
func (c *Client) Post(ctx context.Context, header http.Header, body []byte) ([]byte, error) {
	var err error
	for attempt := 0; attempt < c.attempts; attempt++ {
		if attempt > 0 {
			if werr := sleep(ctx, c.delay(attempt)); werr != nil {
				return nil, err
			}
		}
		var out []byte
		if out, err = c.post(ctx, header, body); err == nil || !Retryable(err) {
			return out, err
		}
	}
	return nil, err
}

// delay is the backoff before attempt (1, 2, …): full jitter over an
// exponentially growing ceiling.
func (c *Client) delay(attempt int) time.Duration {
	ceiling := min(c.backoff<<(attempt-1), maxBackoff)
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
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

func (c *Client) post(ctx context.Context, header http.Header, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("awscall: credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), c.service, c.region, time.Now()); err != nil {
		return nil, fmt.Errorf("awscall: sign: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("awscall: %s: %w", c.service, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("awscall: %s: read answer: %w", c.service, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, parseError(resp.StatusCode, answer)
	}
	return answer, nil
}

// parseError reads an error answer in either protocol family.
func parseError(status int, body []byte) *Error {
	e := &Error{Status: status}
	var j struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	if json.Unmarshal(body, &j) == nil && (j.Type != "" || j.Code != "") {
		e.Code = j.Type
		if e.Code == "" {
			e.Code = j.Code
		}
		// "com.amazonaws.kms#InvalidCiphertextException" and
		// "InvalidCiphertextException:http://…" are both InvalidCiphertextException.
		e.Code = e.Code[strings.LastIndex(e.Code, "#")+1:]
		e.Code, _, _ = strings.Cut(e.Code, ":")
		e.Message = j.Message + j.MessageU
		return e
	}
	var x struct {
		Code    string `xml:"Error>Code"`
		Message string `xml:"Error>Message"`
	}
	if xml.Unmarshal(body, &x) == nil && x.Code != "" {
		e.Code, e.Message = x.Code, x.Message
		return e
	}
	e.Code = http.StatusText(status)
	e.Message = strings.TrimSpace(string(body[:min(len(body), 200)]))
	return e
}
