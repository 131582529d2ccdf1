package webhookout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/tribehq/tribe/shared/netguard"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// Bounds of one attempt.
const (
	// AttemptTimeout bounds a whole request: a slow endpoint costs this much, no
	// more.
	AttemptTimeout = 5 * time.Second
	// lease is how long a claimed attempt may run before the sweep takes it for
	// dead and tries again.
	lease = time.Minute
	// maxResponse is as much of a response body as is read (and then dropped).
	maxResponse = 4 << 10
)

// Deliverer makes the attempts of deliveries: claims one, signs and sends it,
// records the outcome and the next attempt, and keeps its endpoint's health. It is
// safe for concurrent use.
type Deliverer struct {
	st     *store.Store
	client *http.Client
	log    *slog.Logger
	jitter Jitter
}

// Option configures a Deliverer.
type Option func(*Deliverer)

// WithJitter replaces DefaultJitter (tests make it exact).
func WithJitter(j Jitter) Option { return func(d *Deliverer) { d.jitter = j } }

// NewDeliverer returns a Deliverer sending through guard's client (public
// addresses only, checked after resolving; no redirects followed; AttemptTimeout).
func NewDeliverer(st *store.Store, guard netguard.Guard, log *slog.Logger, opts ...Option) (*Deliverer, error) {
	if st == nil || log == nil {
		return nil, errors.New("webhookout: need a store and a logger")
	}
	d := &Deliverer{st: st, client: guard.Client(AttemptTimeout), log: log, jitter: DefaultJitter}
	for _, o := range opts {
		o(d)
	}
	return d, nil
}

// Attempt makes one attempt of dl (as read) when it is due or asked for again,
// and reports whether it made one: false when another sender has it, or it is
// not due. Only table errors are returned; a failed send is an outcome.
func (d *Deliverer) Attempt(ctx context.Context, t *store.Tenant, dl store.EventDelivery) (bool, error) {
	now := d.st.Now()
	ep, err := t.WebhookEndpoint(ctx, dl.EndpointID)
	var gone string
	switch {
	case problem.Is(err, problem.NotFound):
		gone = "endpoint deleted"
	case err != nil:
		return false, err
	case ep.Status != store.EndpointEnabled:
		gone = "endpoint disabled"
	}
	claimed, ok, err := t.ClaimEventDelivery(ctx, dl, now, now.Add(lease))
	if err != nil || !ok {
		return false, err
	}
	if gone != "" {
		_, _, err := t.RecordDeliveryAttempt(ctx, claimed, store.DeliveryAttempt{At: now, Error: gone}, store.DeliveryFailed, nil)
		return true, err
	}
	a := d.send(ctx, ep, claimed, now)
	status, next := store.DeliveryDelivered, (*time.Time)(nil)
	if a.Error != "" {
		status = store.DeliveryFailed
		if !claimed.Manual {
			if at, ok := NextAttempt(claimed.Attempts+1, now, d.jitter); ok {
				status, next = store.DeliveryPending, &at
			}
		}
	}
	if _, ok, err := t.RecordDeliveryAttempt(ctx, claimed, a, status, next); err != nil || !ok {
		return true, err
	}
	d.log.InfoContext(ctx, "webhook attempt", "tenant", t.ID(), "endpoint", ep.ID, "delivery", dl.ID,
		"message", dl.MessageID, "attempt", claimed.Attempts+1, "status", status, "http_status", a.StatusCode)
	return true, d.health(ctx, t, ep, a, now)
}

// health keeps the endpoint's failure record: the first failure after a success
// starts it, a success clears it, and a failure DisableAfter after the first
// disables the endpoint with the reason.
func (d *Deliverer) health(ctx context.Context, t *store.Tenant, ep store.WebhookEndpoint, a store.DeliveryAttempt, now time.Time) error {
	switch {
	case a.Error == "" && ep.FailingSince != nil:
		return t.MarkWebhookEndpointHealthy(ctx, ep.ID)
	case a.Error == "":
		return nil
	case ep.FailingSince == nil:
		return t.MarkWebhookEndpointFailing(ctx, ep.ID, now)
	case now.Sub(*ep.FailingSince) >= DisableAfter:
		reason := fmt.Sprintf("every delivery since %s failed (%d days); the last: %s",
			ep.FailingSince.UTC().Format(time.RFC3339), int(now.Sub(*ep.FailingSince).Hours()/24), a.Error)
		d.log.WarnContext(ctx, "webhook endpoint disabled", "tenant", t.ID(), "endpoint", ep.ID)
		return t.DisableWebhookEndpoint(ctx, ep.ID, reason)
	}
	return nil
}

// send makes the request: Standard Webhooks headers signed at now with every
// secret the endpoint signs with, the stored payload as the body.
func (d *Deliverer) send(ctx context.Context, ep store.WebhookEndpoint, dl store.EventDelivery, now time.Time) store.DeliveryAttempt {
	a := store.DeliveryAttempt{At: now}
	body := []byte(dl.Payload)
	sig, err := SignatureHeader(ep.SigningSecrets(now), dl.MessageID, now, body)
	if err != nil {
		a.Error = "the endpoint's secret is malformed"
		return a
	}
	ctx, cancel := context.WithTimeout(ctx, AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		a.Error = "the endpoint URL is not valid"
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tribe-Webhooks/1")
	req.Header.Set(HeaderID, dl.MessageID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	start := time.Now()
	resp, err := d.client.Do(req)
	a.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		a.Error = sendError(err)
		return a
	}
	defer resp.Body.Close()
	_, _ = netguard.ReadBody(resp.Body, maxResponse)
	a.StatusCode = resp.StatusCode
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		a.Error = "HTTP " + strconv.Itoa(resp.StatusCode) + ": redirects are not followed"
	default:
		a.Error = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return a
}

// sendError says why a request failed in words of our own: the library's error
// quotes the URL (which may carry a token) and addresses.
func sendError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, netguard.ErrNotPublic):
		return "the destination is not a public address"
	case errors.Is(err, netguard.ErrResolve):
		return "the host name could not be resolved"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer within " + AttemptTimeout.String()
	case errors.Is(err, netguard.ErrConnect):
		return "could not connect"
	}
	return "the request failed"
}
