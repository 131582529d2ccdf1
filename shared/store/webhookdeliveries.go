package store

// Deliveries of events to webhook endpoints, and the due list of their retries.
// Keys:
//
//	T#<tenant>#WHEP#<endpoint>            D#<delivery>                     one event for one endpoint, kept 30 days
//	T#_platform#WHDUE#<minute>#<shard>    <tenant>#<endpoint>#<delivery>#<version>   an attempt due in that minute, kept 7 days
//	T#_platform#WHDUE                     CURSOR                           the last minute the sweep finished
//
// A delivery id starts with the event's time, so an endpoint's log reads newest
// first. Every change of a delivery is a put conditioned on its version, so two
// senders (the eventsout consumer and the eventdelivery sweep) never both claim
// one attempt. The due list is spread over DueShards partitions per minute so an
// outage of a busy endpoint does not make one hot partition.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// Statuses of an event delivery besides DeliveryDelivered and DeliveryFailed.
const (
	// DeliveryPending: an attempt is due at NextAttemptAt (or running until then).
	DeliveryPending = "pending"
	// DeliveryRedeliver: the tenant asked for one more attempt.
	DeliveryRedeliver = "redeliver"
)

// Retention of deliveries and of due entries.
const (
	EventDeliveryTTL = 30 * 24 * time.Hour
	dueTTL           = 7 * 24 * time.Hour
	// DueShards spreads each minute of the due list over this many partitions.
	DueShards = 4
	// maxAttemptLog bounds the attempts kept on a delivery.
	maxAttemptLog = 20
)

// DeliveryAttempt is one request made for a delivery.
type DeliveryAttempt struct {
	At         time.Time `dynamo:"at" json:"at"`
	StatusCode int       `dynamo:"status_code,omitempty" json:"status_code,omitempty"`
	Error      string    `dynamo:"error,omitempty" json:"error,omitempty"`
	DurationMS int64     `dynamo:"duration_ms" json:"duration_ms"`
}

// EventDelivery is one event for one endpoint. MessageID is the event's id (the
// webhook-id header), the same on every attempt and for every endpoint.
type EventDelivery struct {
	ID         string `dynamo:"id" json:"id"`
	EndpointID string `dynamo:"endpoint_id" json:"endpoint_id"`
	MessageID  string `dynamo:"message_id" json:"message_id"`
	EventType  string `dynamo:"event_type" json:"event_type"`
	// Payload is the exact body sent: {type, timestamp, data}.
	Payload  string `dynamo:"payload" json:"-"`
	Status   string `dynamo:"status" json:"status"`
	Attempts int    `dynamo:"attempts" json:"attempts"`
	// NextAttemptAt is when the next attempt is due; while one runs, when it is
	// taken to have died.
	NextAttemptAt *time.Time `dynamo:"next_attempt_at,omitempty" json:"next_attempt_at,omitempty"`
	// Manual marks a redelivery the tenant asked for: one attempt, no schedule.
	Manual      bool              `dynamo:"manual,omitempty" json:"-"`
	Log         []DeliveryAttempt `dynamo:"log,omitempty" json:"attempt_log"`
	CreatedAt   time.Time         `dynamo:"created_at" json:"created_at"`
	DeliveredAt *time.Time        `dynamo:"delivered_at,omitempty" json:"delivered_at,omitempty"`
	Version     int64             `dynamo:"version" json:"-"`
}

type eventDeliveryItem struct {
	keyed
	EventDelivery
}

// DeliveryID is the id of the delivery of message msgID to endpoint: the event's
// time in milliseconds, then a hash of both, so it sorts by time and a fan-out
// run again arrives at the same id.
func DeliveryID(msgID, endpointID string, at time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMilli())<<16)
	h := sha256.Sum256([]byte(msgID + "\x00" + endpointID))
	copy(b[6:], h[:10])
	return ids.FromHash(EventDeliveryPrefix, b[:])
}

func (t *Tenant) eventDeliveryKey(endpointID, id string) (string, string) {
	return t.pk("WHEP", endpointID), "D#" + id
}

func (t *Tenant) eventDeliveryItem(d EventDelivery) eventDeliveryItem {
	pk, sk := t.eventDeliveryKey(d.EndpointID, d.ID)
	return eventDeliveryItem{keyed{pk, sk, table.TypeWebhookDelivery, d.CreatedAt.Add(EventDeliveryTTL).Unix()}, d}
}

// CreateEventDelivery stores a new delivery, pending and due at once, only if it
// is new: it reports false when it exists already (a fan-out run again).
func (t *Tenant) CreateEventDelivery(ctx context.Context, d EventDelivery) (bool, error) {
	at := d.CreatedAt
	d.Status, d.Attempts, d.NextAttemptAt, d.Version = DeliveryPending, 0, &at, 1
	err := t.table.Put(t.eventDeliveryItem(d)).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return false, nil
	}
	return err == nil, translate(err, "event delivery")
}

// EventDelivery returns one delivery of an endpoint; problem.NotFound when none.
func (t *Tenant) EventDelivery(ctx context.Context, endpointID, id string) (EventDelivery, error) {
	if !ids.Valid(WebhookEndpointPrefix, endpointID) || !ids.Valid(EventDeliveryPrefix, id) {
		return EventDelivery{}, problem.New(problem.NotFound, "delivery not found")
	}
	pk, sk := t.eventDeliveryKey(endpointID, id)
	var it eventDeliveryItem
	err := t.getItem(ctx, pk, sk, true, &it, "delivery")
	return it.EventDelivery, err
}

// EventDeliveries lists an endpoint's deliveries newest first, limit at a time
// after cursor (the last id of the previous page).
func (t *Tenant) EventDeliveries(ctx context.Context, endpointID string, limit int, cursor string) (Page[EventDelivery], error) {
	pk, _ := t.eventDeliveryKey(endpointID, "")
	q := t.table.Get("PK", pk).Order(dynamo.Descending).Limit(limit).ConsumedCapacity(rcc(ctx))
	if cursor != "" {
		if !ids.Valid(EventDeliveryPrefix, cursor) {
			return Page[EventDelivery]{}, problem.Field("cursor", "cursor is not one this API returned")
		}
		// The partition holds only the endpoint's deliveries.
		q = q.Range("SK", dynamo.Less, "D#"+cursor)
	} else {
		q = q.Range("SK", dynamo.BeginsWith, "D#")
	}
	return queryPage(ctx, q, limit, "deliveries", func(it eventDeliveryItem) EventDelivery { return it.EventDelivery },
		func(it eventDeliveryItem) string { return it.ID })
}

// ErrDeliveryBusy: the delivery is pending, so another attempt is scheduled
// already.
var ErrDeliveryBusy = problem.New(problem.Conflict, "the delivery is pending: an attempt is scheduled already")

// RequestRedelivery marks a delivered or failed delivery for one more attempt,
// which the eventsout consumer makes off the stream. A pending one is
// ErrDeliveryBusy.
func (t *Tenant) RequestRedelivery(ctx context.Context, endpointID, id string) (EventDelivery, error) {
	return update(3, "delivery", func() (EventDelivery, error) { return t.EventDelivery(ctx, endpointID, id) },
		func(d *EventDelivery) error {
			if d.Status == DeliveryPending || d.Status == DeliveryRedeliver {
				return ErrDeliveryBusy
			}
			now := t.s.Now()
			d.Status, d.Manual, d.NextAttemptAt = DeliveryRedeliver, true, &now
			return nil
		}, t.putDelivery(ctx))
}

// putDelivery writes next over cur when cur's version is still stored.
func (t *Tenant) putDelivery(ctx context.Context) func(cur EventDelivery, next *EventDelivery) error {
	return func(cur EventDelivery, next *EventDelivery) error {
		next.Version = cur.Version + 1
		return t.table.Put(t.eventDeliveryItem(*next)).If("version = ?", cur.Version).ConsumedCapacity(wcc(ctx)).Run(ctx)
	}
}

// ClaimEventDelivery takes d (as read) for one attempt until lease: pending and
// due, or asked to be redelivered, and unchanged since read. With it goes a due
// entry at lease, so an attempt that dies is taken up by the sweep. It reports
// false when d changed meanwhile (another sender has it, or it is done).
func (t *Tenant) ClaimEventDelivery(ctx context.Context, d EventDelivery, now, lease time.Time) (EventDelivery, bool, error) {
	if d.Status == DeliveryPending && (d.NextAttemptAt == nil || d.NextAttemptAt.After(now)) {
		return EventDelivery{}, false, nil
	}
	if d.Status != DeliveryPending && d.Status != DeliveryRedeliver {
		return EventDelivery{}, false, nil
	}
	next := d
	next.Status, next.NextAttemptAt, next.Version = DeliveryPending, &lease, d.Version+1
	err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
		tx.Put(t.table.Put(t.eventDeliveryItem(next)).If("version = ?", d.Version))
		tx.Put(t.dueDeliveryPut(next))
	})
	if err != nil {
		if condFailedAt(err, 0) {
			return EventDelivery{}, false, nil
		}
		return EventDelivery{}, false, translate(err, "delivery")
	}
	return next, true, nil
}

// RecordDeliveryAttempt stores the outcome of the attempt on claimed (as
// ClaimEventDelivery returned it): a, the status, and the next attempt's time
// when another is due (with its due entry, in the same transaction). It reports
// false when the claim was lost meanwhile (the attempt ran past its lease and
// another sender took over), and then changes nothing.
func (t *Tenant) RecordDeliveryAttempt(ctx context.Context, claimed EventDelivery, a DeliveryAttempt, status string, next *time.Time) (EventDelivery, bool, error) {
	d := claimed
	d.Attempts++
	d.Log = append(append([]DeliveryAttempt{}, d.Log...), a)
	if len(d.Log) > maxAttemptLog {
		d.Log = d.Log[len(d.Log)-maxAttemptLog:]
	}
	d.Status, d.NextAttemptAt, d.Version = status, next, claimed.Version+1
	if status == DeliveryDelivered {
		at := a.At
		d.DeliveredAt = &at
	}
	if status != DeliveryPending {
		d.Manual = false
	}
	put := t.table.Put(t.eventDeliveryItem(d)).If("version = ?", claimed.Version)
	var err error
	if status == DeliveryPending && next != nil {
		err = t.runTx(ctx, func(tx *dynamo.WriteTx) {
			tx.Put(put)
			tx.Put(t.dueDeliveryPut(d))
		})
		if condFailedAt(err, 0) {
			return EventDelivery{}, false, nil
		}
	} else {
		err = put.ConsumedCapacity(wcc(ctx)).Run(ctx)
		if dynamo.IsCondCheckFailed(err) {
			return EventDelivery{}, false, nil
		}
	}
	if err != nil {
		return EventDelivery{}, false, translate(err, "delivery")
	}
	return d, true, nil
}

// DueDelivery is an entry of the due list: the delivery and the version it had
// when the attempt was scheduled.
type DueDelivery struct {
	Tenant     string `dynamo:"tenant"`
	EndpointID string `dynamo:"endpoint_id"`
	DeliveryID string `dynamo:"delivery_id"`
	Version    int64  `dynamo:"delivery_version"`
}

type dueDeliveryItem struct {
	keyed
	DueDelivery
}

// DueMinute is the minute of the due list an attempt due at t is listed under.
func DueMinute(t time.Time) time.Time { return t.UTC().Truncate(time.Minute) }

func duePK(minute time.Time, shard int) string {
	return TenantKeyPrefix(platformTenant) + "WHDUE#" + DueMinute(minute).Format("2006-01-02T15:04") + "#" + strconv.Itoa(shard)
}

func (t *Tenant) dueDeliveryPut(d EventDelivery) *dynamo.Put {
	h := fnv.New32a()
	_, _ = h.Write([]byte(d.ID))
	at := *d.NextAttemptAt
	it := dueDeliveryItem{
		keyed{duePK(at, int(h.Sum32()%DueShards)), strings.Join([]string{t.id, d.EndpointID, d.ID, strconv.FormatInt(d.Version, 10)}, "#"),
			table.TypeWebhookDue, at.Add(dueTTL).Unix()},
		DueDelivery{Tenant: t.id, EndpointID: d.EndpointID, DeliveryID: d.ID, Version: d.Version},
	}
	return t.table.Put(it)
}

// DueDeliveries returns the due list of one minute and shard.
func (s *Store) DueDeliveries(ctx context.Context, minute time.Time, shard int) ([]DueDelivery, error) {
	var items []dueDeliveryItem
	err := s.platform().table.Get("PK", duePK(minute, shard)).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "due deliveries")
	}
	out := make([]DueDelivery, len(items))
	for i, it := range items {
		out[i] = it.DueDelivery
	}
	return out, nil
}

type sweepCursorItem struct {
	keyed
	Minute time.Time `dynamo:"minute"`
}

func sweepCursorKey() (string, string) { return TenantKeyPrefix(platformTenant) + "WHDUE", "CURSOR" }

// DeliverySweepCursor is the last minute of the due list the sweep finished;
// false when it never ran.
func (s *Store) DeliverySweepCursor(ctx context.Context) (time.Time, bool, error) {
	pk, sk := sweepCursorKey()
	var it sweepCursorItem
	ok, err := s.platform().findItem(ctx, pk, sk, true, &it, "sweep cursor")
	return it.Minute, ok, err
}

// SetDeliverySweepCursor records that the sweep finished minute. It never moves
// the cursor back (an overlapping older run finishing late).
func (s *Store) SetDeliverySweepCursor(ctx context.Context, minute time.Time) error {
	pk, sk := sweepCursorKey()
	err := s.platform().table.Put(sweepCursorItem{keyed{pk, sk, table.TypeWebhookSweep, 0}, DueMinute(minute)}).
		If("attribute_not_exists(PK) OR $ < ?", "minute", DueMinute(minute)).ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sweep cursor: %w", err)
	}
	return nil
}
