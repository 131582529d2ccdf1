package store

// Outbound connectors and their delivery log.
//
// Keys, all under T#<tenant>#:
//
//	CONN                   <connector>                  a connector; a tenant has few
//	DLV#<day>#<shard>      <time>#<delivery>            a delivery, kept 90 days
//
// Deliveries are spread over deliveryShards partitions per UTC day, so a broadcast
// to hundreds of groups does not write one partition; a list reads the shards of
// each day and merges them, newest first.

import (
	"context"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// Id prefixes of connector records.
const (
	ConnectorPrefix = "con"
	DeliveryPrefix  = "dlv"
)

// Connector is a tenant's outbound channel to its chats: a group robot, an incoming
// webhook or the tenant's own signed webhook. Its URL and secret are credentials:
// neither is ever marshalled to JSON, and both are sealed at rest (secrets.go);
// the store hands them out opened.
type Connector struct {
	ID        string         `dynamo:"id" json:"id"`
	Name      string         `dynamo:"name" json:"name"`
	Kind      connector.Kind `dynamo:"kind" json:"kind"`
	URL       string         `dynamo:"url" json:"-"`
	Secret    string         `dynamo:"secret,omitempty" json:"-"`
	Version   int64          `dynamo:"version" json:"-"`
	CreatedAt time.Time      `dynamo:"created_at" json:"created_at"`
	UpdatedAt time.Time      `dynamo:"updated_at" json:"updated_at"`
}

// Config is what the sender needs of the connector.
func (c Connector) Config() connector.Config {
	return connector.Config{Kind: c.Kind, URL: c.URL, Secret: c.Secret}
}

type connectorItem struct {
	keyed
	Connector
}

func (t *Tenant) connectorKey(id string) (string, string) { return t.pk("CONN"), id }

// connectorItem is c as stored: URL and secret sealed.
func (t *Tenant) connectorItem(ctx context.Context, c Connector) (connectorItem, error) {
	if err := each(t.sealing(ctx), &c.URL, &c.Secret); err != nil {
		return connectorItem{}, err
	}
	pk, sk := t.connectorKey(c.ID)
	return connectorItem{keyed{pk, sk, table.TypeConnector, 0}, c}, nil
}

// connectorOf is the connector in a stored item, URL and secret opened.
func (t *Tenant) connectorOf(ctx context.Context, it connectorItem) (Connector, error) {
	c := it.Connector
	if err := each(t.opening(ctx), &c.URL, &c.Secret); err != nil {
		return Connector{}, fmt.Errorf("connector %s: %w", c.ID, err)
	}
	return c, nil
}

func connectorNotFound() error { return problem.New(problem.NotFound, "connector not found") }

// CreateConnector stores a new connector. It fills in the id (when empty), the
// version and the timestamps, and returns the connector stored. An id in use is
// problem.Conflict. It does not validate the URL: the caller does, with the sender
// that will use it.
func (t *Tenant) CreateConnector(ctx context.Context, c Connector) (Connector, error) {
	if c.ID == "" {
		c.ID = ids.New(ConnectorPrefix)
	} else if !ids.Valid(ConnectorPrefix, c.ID) {
		return Connector{}, problem.Field("id", "id is not a connector id")
	}
	now := t.s.Now()
	c.Version, c.CreatedAt, c.UpdatedAt = 1, now, now
	item, err := t.connectorItem(ctx, c)
	if err != nil {
		return Connector{}, err
	}
	err = t.table.Put(item).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if err != nil {
		return Connector{}, translate(err, "connector")
	}
	return c, nil
}

// Connector returns one connector; a malformed or unknown id is problem.NotFound.
func (t *Tenant) Connector(ctx context.Context, id string) (Connector, error) {
	if !ids.Valid(ConnectorPrefix, id) {
		return Connector{}, connectorNotFound()
	}
	pk, sk := t.connectorKey(id)
	var it connectorItem
	err := t.getItem(ctx, pk, sk, true, &it, "connector")
	if err != nil {
		return Connector{}, err
	}
	return t.connectorOf(ctx, it)
}

// Connectors lists the tenant's connectors by id (creation order), limit at a time
// after cursor (the last id of the previous page). A cursor that is not an id is
// problem.Invalid.
func (t *Tenant) Connectors(ctx context.Context, limit int, cursor string) (Page[Connector], error) {
	pk, _ := t.connectorKey("")
	q := t.table.Get("PK", pk).Limit(limit).ConsumedCapacity(rcc(ctx))
	if cursor != "" {
		if !ids.Valid(ConnectorPrefix, cursor) {
			return Page[Connector]{}, problem.Field("cursor", "cursor is not one this API returned")
		}
		q = q.Range("SK", dynamo.Greater, cursor)
	}
	var items []connectorItem
	if err := q.All(ctx, &items); err != nil {
		return Page[Connector]{}, translate(err, "connectors")
	}
	page := Page[Connector]{Items: make([]Connector, len(items))}
	for i, it := range items {
		c, err := t.connectorOf(ctx, it)
		if err != nil {
			return Page[Connector]{}, err
		}
		page.Items[i] = c
	}
	if len(items) == limit {
		page.NextCursor = items[len(items)-1].ID
	}
	return page, nil
}

// UpdateConnector changes a connector with fn under optimistic concurrency: a
// concurrent change makes it read again and re-apply fn, a few times at most. The
// id and creation time are kept as stored. An unknown connector is
// problem.NotFound; fn's error is returned as it is.
func (t *Tenant) UpdateConnector(ctx context.Context, id string, fn func(*Connector) error) (Connector, error) {
	return update(5, "connector", func() (Connector, error) { return t.Connector(ctx, id) }, fn,
		func(cur Connector, next *Connector) error {
			next.ID, next.CreatedAt, next.Version, next.UpdatedAt = cur.ID, cur.CreatedAt, cur.Version+1, t.s.Now()
			item, err := t.connectorItem(ctx, *next)
			if err != nil {
				return err
			}
			return t.table.Put(item).If("attribute_exists(PK) AND version = ?", cur.Version).ConsumedCapacity(wcc(ctx)).Run(ctx)
		})
}

// DeleteConnector removes a connector; groups that name it get nothing sent until
// they name another. An unknown connector is problem.NotFound. Its deliveries stay
// in the log until they expire.
func (t *Tenant) DeleteConnector(ctx context.Context, id string) error {
	if !ids.Valid(ConnectorPrefix, id) {
		return connectorNotFound()
	}
	pk, sk := t.connectorKey(id)
	err := t.table.Delete("PK", pk).Range("SK", sk).If("attribute_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return connectorNotFound()
	}
	return translate(err, "connector")
}

// Delivery outcomes.
const (
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one message sent, or tried, through a connector. Error comes from the
// sender, which never puts a URL or secret in it.
type Delivery struct {
	ID          string         `dynamo:"id" json:"id"`
	ConnectorID string         `dynamo:"connector_id" json:"connector_id"`
	Kind        connector.Kind `dynamo:"kind" json:"kind"`
	// Target is where it went: "group:<id>", "broadcast:<id>"…
	Target string `dynamo:"target" json:"target"`
	// Ref is what caused it: "welcome", a broadcast id, "warn"…
	Ref        string    `dynamo:"ref,omitempty" json:"ref,omitempty"`
	Status     string    `dynamo:"status" json:"status"`
	HTTPStatus int       `dynamo:"http_status" json:"http_status"`
	Attempts   int       `dynamo:"attempts" json:"attempts"`
	Error      string    `dynamo:"error,omitempty" json:"error,omitempty"`
	DurationMS int64     `dynamo:"duration_ms" json:"duration_ms"`
	At         time.Time `dynamo:"at" json:"at"`
}

type deliveryItem struct {
	keyed
	Delivery
}

// DeliveryTTL is how long the delivery log keeps an entry.
const DeliveryTTL = 90 * 24 * time.Hour

// deliveryShards spreads a day's deliveries over this many partitions.
const deliveryShards = 4

// DeliveryWindow is how far back the delivery log is listed.
const DeliveryWindow = 7

// deliveryTime is RFC 3339 with a fixed nine-digit fraction: RFC3339Nano drops
// trailing zeros, and then sort keys would not sort by time.
const deliveryTime = "2006-01-02T15:04:05.000000000Z07:00"

func deliveryShard(id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % deliveryShards)
}

func (t *Tenant) deliveryPK(day string, shard int) string {
	return t.pk("DLV", day, strconv.Itoa(shard))
}

func deliverySK(d Delivery) string { return d.At.UTC().Format(deliveryTime) + "#" + d.ID }

// RecordDelivery adds d to the delivery log. It fills in the id (when empty) and
// the time (when zero) and returns the entry stored; repeating it with the same id
// and time is a problem.Conflict that changes nothing.
func (t *Tenant) RecordDelivery(ctx context.Context, d Delivery) (Delivery, error) {
	if d.ID == "" {
		d.ID = ids.New(DeliveryPrefix)
	} else if !ids.Valid(DeliveryPrefix, d.ID) {
		return Delivery{}, problem.Field("id", "id is not a delivery id")
	}
	if d.At.IsZero() {
		d.At = t.s.Now()
	}
	d.At = d.At.UTC()
	pk := t.deliveryPK(d.At.Format(time.DateOnly), deliveryShard(d.ID))
	item := deliveryItem{keyed{pk, deliverySK(d), table.TypeDelivery, d.At.Add(DeliveryTTL).Unix()}, d}
	err := t.table.Put(item).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if err != nil {
		return Delivery{}, translate(err, "delivery")
	}
	return d, nil
}

// DeliveryFilter narrows the delivery log; empty fields match everything.
type DeliveryFilter struct {
	ConnectorID string
}

// Deliveries lists the delivery log of the last DeliveryWindow days (UTC), newest
// first, limit at a time. The cursor is the position of the last entry returned;
// one that this function did not make is problem.Invalid.
func (t *Tenant) Deliveries(ctx context.Context, f DeliveryFilter, limit int, cursor string) (Page[Delivery], error) {
	after := ""
	if cursor != "" {
		pos, err := decodeDeliveryCursor(cursor)
		if err != nil {
			return Page[Delivery]{}, err
		}
		after = pos
	}
	today := t.s.Now()
	out := make([]Delivery, 0, limit)
	for back := 0; back < DeliveryWindow && len(out) < limit; back++ {
		day := today.AddDate(0, 0, -back).Format(time.DateOnly)
		// Every entry of a day after the cursor's sorts above it.
		if after != "" && day > after[:len(time.DateOnly)] {
			continue
		}
		got, err := t.deliveriesOn(ctx, day, f, limit-len(out), after)
		if err != nil {
			return Page[Delivery]{}, err
		}
		out = append(out, got...)
	}
	page := Page[Delivery]{Items: out}
	if len(out) == limit {
		page.NextCursor = encodeDeliveryCursor(deliverySK(out[len(out)-1]))
	}
	return page, nil
}

// deliveriesOn returns the newest n entries of day below the position after (all
// when empty): each shard's newest n, merged.
func (t *Tenant) deliveriesOn(ctx context.Context, day string, f DeliveryFilter, n int, after string) ([]Delivery, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		all   []Delivery
		first error
	)
	for shard := 0; shard < deliveryShards; shard++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := t.table.Get("PK", t.deliveryPK(day, shard)).Order(dynamo.Descending).Limit(n).ConsumedCapacity(rcc(ctx))
			if after != "" {
				q = q.Range("SK", dynamo.Less, after)
			}
			if f.ConnectorID != "" {
				q = q.Filter("connector_id = ?", f.ConnectorID)
			}
			var items []deliveryItem
			err := q.All(ctx, &items)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = translate(err, "deliveries")
				}
				return
			}
			for _, it := range items {
				all = append(all, it.Delivery)
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	slices.SortFunc(all, func(a, b Delivery) int { return strings.Compare(deliverySK(b), deliverySK(a)) })
	if len(all) > n {
		all = all[:n]
	}
	return all, nil
}

func encodeDeliveryCursor(sk string) string { return base64.RawURLEncoding.EncodeToString([]byte(sk)) }

// decodeDeliveryCursor returns the sort key a cursor holds, after checking that it
// is one: a time in the fixed layout and a delivery id.
func decodeDeliveryCursor(s string) (string, error) {
	bad := problem.Field("cursor", "cursor is not one this API returned")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", bad
	}
	ts, id, ok := strings.Cut(string(raw), "#")
	if !ok || !ids.Valid(DeliveryPrefix, id) {
		return "", bad
	}
	at, err := time.Parse(deliveryTime, ts)
	if err != nil || at.UTC().Format(deliveryTime) != ts {
		return "", bad
	}
	return string(raw), nil
}
