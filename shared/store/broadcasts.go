package store

// Broadcasts (多群转播): one message to many groups, sent off the stream.
//
// Keys, all under T#<tenant>#:
//
//	BC#<id>  BROADCAST   the broadcast: its message and its groups
//	BC#<id>  G#<group>   one task per group: pending → sending → delivered | failed | skipped
//
// The broadcast and its tasks are written by transactions of at most 100 items,
// each item only if new and the broadcast in the first: a transaction either wrote
// its part or not, so a retried request writes only what is missing. The
// broadcasts consumer takes each new task off the stream and claims it (pending →
// sending) before it sends: a record Lambda delivers again finds the task claimed
// and never sends it twice.

import (
	"context"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// BroadcastPrefix is the id prefix of broadcasts.
const BroadcastPrefix = "bc"

// A broadcast task's statuses; a finished one is DeliveryDelivered,
// DeliveryFailed or BroadcastSkipped.
const (
	BroadcastPending = "pending"
	BroadcastSending = "sending"
	BroadcastSkipped = "skipped"
)

// BroadcastTTL is how long a broadcast and its outcome are kept.
const BroadcastTTL = 90 * 24 * time.Hour

// MaxBroadcastGroups bounds a broadcast's groups.
const MaxBroadcastGroups = 200

// Broadcast is one message to many groups, each through its own connector.
type Broadcast struct {
	ID        string    `dynamo:"id" json:"id"`
	GroupIDs  []string  `dynamo:"group_ids" json:"group_ids"`
	Text      string    `dynamo:"text,omitempty" json:"text,omitempty"`
	Markdown  string    `dynamo:"markdown,omitempty" json:"markdown,omitempty"`
	Title     string    `dynamo:"title,omitempty" json:"title,omitempty"`
	CreatedAt time.Time `dynamo:"created_at" json:"created_at"`
}

// BroadcastTask is one group's share of a broadcast and its outcome.
type BroadcastTask struct {
	BroadcastID string `dynamo:"broadcast_id" json:"-"`
	GroupID     string `dynamo:"group_id" json:"group_id"`
	Status      string `dynamo:"status" json:"status"`
	// Reason says why a task was skipped or failed.
	Reason     string    `dynamo:"reason,omitempty" json:"reason,omitempty"`
	DeliveryID string    `dynamo:"delivery_id,omitempty" json:"delivery_id,omitempty"`
	UpdatedAt  time.Time `dynamo:"updated_at" json:"updated_at"`
}

type broadcastItem struct {
	keyed
	Broadcast
}

type broadcastTaskItem struct {
	keyed
	BroadcastTask
}

func (t *Tenant) broadcastPK(id string) string { return t.pk("BC", id) }

// ValidBroadcastID reports whether s is a broadcast id.
func ValidBroadcastID(s string) bool { return ids.Valid(BroadcastPrefix, s) }

// CreateBroadcast stores a broadcast and one pending task per group. It is safe to
// repeat with the same broadcast: what was written stays, what is missing is
// written. It reports whether this call stored the broadcast itself. A malformed
// id or group id is problem.Invalid.
func (t *Tenant) CreateBroadcast(ctx context.Context, b Broadcast) (bool, error) {
	if !ValidBroadcastID(b.ID) {
		return false, problem.Field("id", "id is not a broadcast id")
	}
	if len(b.GroupIDs) == 0 || len(b.GroupIDs) > MaxBroadcastGroups {
		return false, problem.Field("group_ids", "group_ids holds 1 to %d group ids", MaxBroadcastGroups)
	}
	for _, g := range b.GroupIDs {
		if !ValidGroupID(g) {
			return false, problem.Field("group_ids", "%q is not a group id", g)
		}
	}
	pk, ttl := t.broadcastPK(b.ID), b.CreatedAt.Add(BroadcastTTL).Unix()
	items := []any{broadcastItem{keyed{pk, "BROADCAST", table.TypeBroadcast, ttl}, b}}
	for _, g := range b.GroupIDs {
		items = append(items, broadcastTaskItem{keyed{pk, "G#" + g, table.TypeBroadcastTask, ttl},
			BroadcastTask{BroadcastID: b.ID, GroupID: g, Status: BroadcastPending, UpdatedAt: b.CreatedAt}})
	}
	created := false
	for start := 0; start < len(items); start += maxTxItems {
		chunk := items[start:min(start+maxTxItems, len(items))]
		err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
			for _, it := range chunk {
				tx.Put(t.table.Put(it).If("attribute_not_exists(PK)"))
			}
		})
		switch {
		case err == nil:
			created = created || start == 0
		case dynamo.IsCondCheckFailed(err):
			// Written by an earlier attempt: a chunk is all or nothing.
		default:
			return false, translate(err, "broadcast")
		}
	}
	return created, nil
}

// maxTxItems is DynamoDB's limit of items in one transaction.
const maxTxItems = 100

// Broadcast returns a broadcast and its tasks, in the broadcast's group order. An
// unknown or malformed id is problem.NotFound.
func (t *Tenant) Broadcast(ctx context.Context, id string) (Broadcast, []BroadcastTask, error) {
	if !ValidBroadcastID(id) {
		return Broadcast{}, nil, problem.New(problem.NotFound, "broadcast not found")
	}
	var head broadcastItem
	var tasks []broadcastTaskItem
	pk := t.broadcastPK(id)
	err := t.getItem(ctx, pk, "BROADCAST", true, &head, "broadcast")
	if err != nil {
		return Broadcast{}, nil, err
	}
	err = t.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, "G#").Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &tasks)
	if err != nil {
		return Broadcast{}, nil, translate(err, "broadcast")
	}
	byGroup := make(map[string]BroadcastTask, len(tasks))
	for _, it := range tasks {
		byGroup[it.GroupID] = it.BroadcastTask
	}
	out := make([]BroadcastTask, 0, len(head.GroupIDs))
	for _, g := range head.GroupIDs {
		if task, ok := byGroup[g]; ok {
			out = append(out, task)
		}
	}
	return head.Broadcast, out, nil
}

// BroadcastMessage returns a broadcast without its tasks (what the consumer sends).
func (t *Tenant) BroadcastMessage(ctx context.Context, id string) (Broadcast, error) {
	if !ValidBroadcastID(id) {
		return Broadcast{}, problem.New(problem.NotFound, "broadcast not found")
	}
	var head broadcastItem
	err := t.getItem(ctx, t.broadcastPK(id), "BROADCAST", false, &head, "broadcast")
	return head.Broadcast, err
}

// MoveBroadcastTask moves a task from status from to status to, with its reason
// and delivery, only if it is still in from: the one call that claims a pending
// task (to BroadcastSending) is the one that sends. It reports false, and no
// error, when the task is not in from.
func (t *Tenant) MoveBroadcastTask(ctx context.Context, id, groupID, from, to, reason, deliveryID string) (bool, error) {
	if !ValidBroadcastID(id) || !ValidGroupID(groupID) {
		return false, problem.New(problem.NotFound, "broadcast task not found")
	}
	u := t.table.Update("PK", t.broadcastPK(id)).Range("SK", "G#"+groupID).
		Set("status", to).Set("updated_at", t.s.Now())
	if reason != "" {
		u = u.Set("reason", reason)
	}
	if deliveryID != "" {
		u = u.Set("delivery_id", deliveryID)
	}
	err := u.If("'status' = ?", from).ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return false, nil
	}
	return err == nil, translate(err, "broadcast task")
}
