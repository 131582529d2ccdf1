// Package store is the only code that reaches Tribe's table and the only code that
// builds keys. Every partition key is T#<tenant>#…; a *Tenant, the handle all
// tenant data hangs off, cannot be had without a valid tenant id.
//
// Library errors are translated here: a missing item is problem.NotFound, a failed
// condition is problem.Conflict (or a more precise code), everything else is wrapped
// with context and stays internal.
package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
)

// Store is the table.
type Store struct {
	db    *dynamo.DB
	table dynamo.Table
	now   func() time.Time
	// clients, when set, gives each tenant's handle its own client (credentials
	// scoped to the tenant's partitions); nil means every tenant uses db.
	clients TenantClients
	sealer  Sealer // nil: secrets can be neither written nor opened (secrets.go)
}

// New returns the store for the table called name.
func New(db *dynamo.DB, name string, opts ...Option) (*Store, error) {
	if db == nil || name == "" {
		return nil, errors.New("store: need a client and a table name")
	}
	s := &Store{db: db, table: db.Table(name), now: func() time.Time { return time.Now().UTC() }}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// SetClock replaces the clock; tests use it.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Now is the store's clock, in UTC.
func (s *Store) Now() time.Time { return s.now().UTC() }

// ErrNoTenant is returned for an empty or malformed tenant id.
var ErrNoTenant = errors.New("store: a tenant id is required")

// Tenant returns the handle for one tenant's data. It rejects an empty or malformed
// id, so no key can be built without a tenant.
func (s *Store) Tenant(id string) (*Tenant, error) {
	if id == "" || !ids.Valid(ids.Tenant, id) {
		return nil, ErrNoTenant
	}
	t := &Tenant{s: s, id: id, db: s.db, table: s.table}
	if s.clients != nil {
		c, err := s.clients.ClientFor(id)
		if err != nil {
			return nil, fmt.Errorf("store: tenant %s client: %w", id, err)
		}
		t.db = dynamo.NewFromIface(c)
		t.table = t.db.Table(s.table.Name())
	}
	return t, nil
}

// platformTenant is the reserved pseudo-tenant holding platform-wide records (the
// tenant registry, platform idempotency records). Its id cannot be made by ids.New,
// so no API key or request can name it.
const platformTenant = "_platform"

func (s *Store) platform() *Tenant {
	return &Tenant{s: s, id: platformTenant, db: s.db, table: s.table}
}

// Tenant is one tenant's data, reached through db: the store's client, or the
// tenant's own when the store has TenantClients.
type Tenant struct {
	s     *Store
	id    string
	db    *dynamo.DB
	table dynamo.Table
}

// ID returns the tenant id.
func (t *Tenant) ID() string { return t.id }

// pk builds a partition key: T#<tenant>#<parts joined by #>.
func (t *Tenant) pk(parts ...string) string {
	return TenantKeyPrefix(t.id) + strings.Join(parts, "#")
}

// TenantKeyPrefix is what every partition key of tenant starts with, T#<tenant>#.
// The stack writes it with an IAM policy variable for tenant in the tenant role's
// dynamodb:LeadingKeys condition.
func TenantKeyPrefix(tenant string) string { return "T#" + tenant + "#" }

// PlatformIdempotencyPrefix starts the partition keys of the idempotency records of
// requests no tenant is known for (public routes): the only partitions a
// tenant-scoped function reaches with its own role.
func PlatformIdempotencyPrefix() string { return TenantKeyPrefix(platformTenant) + "IDEM#" }

// memberShards spreads a tenant's member list over this many index partitions, so no
// single index partition takes every member write of a busy tenant.
const memberShards = 8

func shardOf(id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % memberShards)
}

// translate maps library errors to application errors.
func translate(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, dynamo.ErrNotFound):
		return problem.Wrap(problem.NotFound, err, "%s not found", what)
	case dynamo.IsCondCheckFailed(err):
		return problem.Wrap(problem.Conflict, err, "%s changed concurrently or already exists", what)
	}
	var pe *problem.Error
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Capacity accumulates the capacity a request consumes, at AWS rates.
// Transactional units are kept apart; they are reported already doubled (two units
// per KB of each item), by AWS and, corrected by infra/local/dynamolocal, locally.
// It is safe for concurrent calls under one context (a consumer working partitions
// in parallel, a parallel benchmark): every call adds into its own record, folded
// into the totals when they are read.
type Capacity struct {
	mu                   sync.Mutex
	read, write, txWrite dynamo.ConsumedCapacity
	pending              []pendingCapacity
}

type capacityKind int

const (
	capRead capacityKind = iota
	capWrite
	capTxWrite
)

type pendingCapacity struct {
	kind capacityKind
	cc   *dynamo.ConsumedCapacity
}

// record hands out a fresh record for one call to fill.
func (c *Capacity) record(kind capacityKind) *dynamo.ConsumedCapacity {
	cc := new(dynamo.ConsumedCapacity)
	c.mu.Lock()
	c.pending = append(c.pending, pendingCapacity{kind, cc})
	c.mu.Unlock()
	return cc
}

func (c *Capacity) total(kind capacityKind) *dynamo.ConsumedCapacity {
	return [...]*dynamo.ConsumedCapacity{&c.read, &c.write, &c.txWrite}[kind]
}

// fold adds the finished calls' records into the totals; c.mu is held. Call it
// once the calls are done: a call still running fills its record afterwards.
func (c *Capacity) fold() {
	for _, p := range c.pending {
		addConsumed(c.total(p.kind), p.cc)
	}
	c.pending = c.pending[:0]
}

// RCU is the read capacity consumed.
func (c *Capacity) RCU() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fold()
	return c.read.Total
}

// WCU is the write capacity consumed.
func (c *Capacity) WCU() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fold()
	return c.write.Total + c.txWrite.Total
}

// Add adds what o consumed to c.
func (c *Capacity) Add(o *Capacity) {
	if c == o {
		return
	}
	o.mu.Lock()
	o.fold()
	var parts [capTxWrite + 1]dynamo.ConsumedCapacity
	for k := capRead; k <= capTxWrite; k++ {
		addConsumed(&parts[k], o.total(k))
	}
	o.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := capRead; k <= capTxWrite; k++ {
		addConsumed(c.total(k), &parts[k])
	}
}

type capKey struct{}

// WithCapacity returns ctx under which every store call adds what it consumes to c.
func WithCapacity(ctx context.Context, c *Capacity) context.Context {
	return context.WithValue(ctx, capKey{}, c)
}

// AddCapacity adds c to the capacity ctx collects, if any: a request that measures
// itself (the API's per-request metrics) still counts toward a caller measuring
// around it (a benchmark sending the request).
func AddCapacity(ctx context.Context, c *Capacity) {
	if p := capOf(ctx); p != nil {
		p.Add(c)
	}
}

func addConsumed(dst, src *dynamo.ConsumedCapacity) {
	dst.Total += src.Total
	dst.Read += src.Read
	dst.Write += src.Write
	dst.Table += src.Table
	dst.TableRead += src.TableRead
	dst.TableWrite += src.TableWrite
	dst.Requests += src.Requests
	if dst.TableName == "" {
		dst.TableName = src.TableName
	}
	for _, m := range []struct{ dst, src *map[string]float64 }{
		{&dst.GSI, &src.GSI}, {&dst.GSIRead, &src.GSIRead}, {&dst.GSIWrite, &src.GSIWrite},
		{&dst.LSI, &src.LSI}, {&dst.LSIRead, &src.LSIRead}, {&dst.LSIWrite, &src.LSIWrite},
	} {
		for k, v := range *m.src {
			if *m.dst == nil {
				*m.dst = map[string]float64{}
			}
			(*m.dst)[k] += v
		}
	}
}

func capOf(ctx context.Context) *Capacity {
	c, _ := ctx.Value(capKey{}).(*Capacity)
	return c
}

func rcc(ctx context.Context) *dynamo.ConsumedCapacity {
	if c := capOf(ctx); c != nil {
		return c.record(capRead)
	}
	return nil
}

func wcc(ctx context.Context) *dynamo.ConsumedCapacity {
	if c := capOf(ctx); c != nil {
		return c.record(capWrite)
	}
	return nil
}

func txcc(ctx context.Context) *dynamo.ConsumedCapacity {
	if c := capOf(ctx); c != nil {
		return c.record(capTxWrite)
	}
	return nil
}

// keyed is the key part every item carries.
type keyed struct {
	PK   string `dynamo:"PK,hash"`
	SK   string `dynamo:"SK,range"`
	Type string `dynamo:"type,omitempty"`
	TTL  int64  `dynamo:"ttl,omitempty"`
}
