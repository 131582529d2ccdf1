package store

// The audit log: one item per successful write through the API.
//
// Keys under T#<tenant># (the platform's own under T#_platform#):
//
//	AUDIT#<day>#<shard>  <at RFC3339Nano>#<request id>   one entry; TTL one year
//
// A day's entries are spread over auditShards partitions by a hash of the
// request id, so a tenant's burst never makes one key hot (each partition takes
// 1,000 WCU/s). Writing is one PutItem of ~300 bytes: 1 WCU, no index. Reading a
// day is one query per shard, merged newest first.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// AuditTTL is how long an audit entry is kept.
const AuditTTL = 366 * 24 * time.Hour

const auditShards = 8

// AuditEntry is one write through the API: who, what, when, from where. It never
// holds a request or response body, nor a secret.
type AuditEntry struct {
	At time.Time `dynamo:"at" json:"at"`
	// Actor is the API key id (the platform key's for platform routes), or the
	// staff id (stf_…) when a staff member's token made the request.
	Actor string `dynamo:"actor" json:"actor"`
	// Action is the route's op in the catalogue (createMember, eraseMember…).
	Action string `dynamo:"action" json:"action"`
	Method string `dynamo:"method" json:"method"`
	// Route is the catalogue's path pattern, e.g. /v1/members/{id}.
	Route string `dynamo:"route" json:"route"`
	// Target is the id the write acted on: the path's id, or the id it created.
	Target    string `dynamo:"target,omitempty" json:"target,omitempty"`
	Status    int    `dynamo:"status" json:"status"`
	SourceIP  string `dynamo:"source_ip,omitempty" json:"source_ip,omitempty"`
	RequestID string `dynamo:"request_id" json:"request_id"`
	// Replayed marks an Idempotency-Key replay (nothing was written again).
	Replayed bool `dynamo:"replayed,omitempty" json:"replayed,omitempty"`
}

type auditItem struct {
	keyed
	AuditEntry
}

func (t *Tenant) auditKey(day string, shard int) string {
	return t.pk("AUDIT", day, strconv.Itoa(shard))
}

func auditShard(requestID string) int {
	sum := sha256.Sum256([]byte(requestID))
	return int(binary.BigEndian.Uint32(sum[:4]) % auditShards)
}

func auditSK(e AuditEntry) string { return e.At.UTC().Format(time.RFC3339Nano) + "#" + e.RequestID }

// AppendAudit writes one entry; entries are never updated.
func (t *Tenant) AppendAudit(ctx context.Context, e AuditEntry) error {
	e.At = e.At.UTC()
	pk := t.auditKey(e.At.Format(time.DateOnly), auditShard(e.RequestID))
	err := t.table.Put(auditItem{keyed{pk, auditSK(e), table.TypeAudit, e.At.Add(AuditTTL).Unix()}, e}).
		If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "audit entry")
}

// PlatformAudit is the platform's own audit log (tenant operations).
func (s *Store) PlatformAudit() *Tenant { return s.platform() }

// AuditFilter narrows the audit log; empty fields match everything. From and To
// bound At (To exclusive).
type AuditFilter struct {
	Actor, Action, Target string
	From, To              time.Time
}

// AuditLog lists entries newest first, limit at a time. The cursor is the last
// entry's position; a cursor this API did not return is problem.Invalid.
func (t *Tenant) AuditLog(ctx context.Context, f AuditFilter, limit int, cursor string) (Page[AuditEntry], error) {
	before := f.To.UTC().Format(time.RFC3339Nano)
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.Contains(string(raw), "#") {
			return Page[AuditEntry]{}, problem.Field("cursor", "cursor is not one this API returned")
		}
		before = string(raw)
	}
	at, err := time.Parse(time.RFC3339Nano, strings.SplitN(before, "#", 2)[0])
	if err != nil {
		return Page[AuditEntry]{}, problem.Field("cursor", "cursor is not one this API returned")
	}
	from := f.From.UTC()
	var out []auditItem
	for day := at.Truncate(24 * time.Hour); !day.Before(from.Truncate(24*time.Hour)) && len(out) < limit; day = day.Add(-24 * time.Hour) {
		var all []auditItem
		for shard := 0; shard < auditShards; shard++ {
			q := t.table.Get("PK", t.auditKey(day.Format(time.DateOnly), shard)).
				Range("SK", dynamo.Between, from.Format(time.RFC3339Nano), before).
				Order(dynamo.Descending).Limit(limit).ConsumedCapacity(rcc(ctx))
			if f.Actor != "" {
				q = q.Filter("'actor' = ?", f.Actor)
			}
			if f.Action != "" {
				q = q.Filter("'action' = ?", f.Action)
			}
			if f.Target != "" {
				q = q.Filter("'target' = ?", f.Target)
			}
			var items []auditItem
			if err := q.All(ctx, &items); err != nil {
				return Page[AuditEntry]{}, translate(err, "audit log")
			}
			all = append(all, items...)
		}
		sort.Slice(all, func(i, j int) bool { return all[i].SK > all[j].SK })
		for _, it := range all {
			// Between is inclusive: the cursor's own entry is not repeated.
			if it.SK == before || len(out) == limit {
				continue
			}
			out = append(out, it)
		}
	}
	page := Page[AuditEntry]{Items: make([]AuditEntry, len(out))}
	for i, it := range out {
		page.Items[i] = it.AuditEntry
	}
	if len(out) == limit {
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(out[len(out)-1].SK))
	}
	return page, nil
}
