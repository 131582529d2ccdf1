package store

import (
	"context"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/table"
)

// StreamCheckpoint is how far the reconciler has settled one shard of the table's
// stream. It is a platform item (the stream is every tenant's), in the reserved
// platform partition next to the webhook sweep's cursor: no tenant's key can name
// it, and the orders the reconciler settles are still reached through their own
// tenant's handle.
type StreamCheckpoint struct {
	// Shard is the stream shard's id.
	Shard string `dynamo:"shard"`
	// After is the sequence number of the shard's last settled record: the next
	// read starts after it. Empty: from the shard's oldest record still kept.
	After string `dynamo:"after,omitempty"`
	// Finished is set once a closed shard was read to its end: later runs skip
	// it, and forget it once the stream no longer lists it.
	Finished bool `dynamo:"finished,omitempty"`
}

type streamCheckpointItem struct {
	keyed
	StreamCheckpoint
}

func streamCheckpointPK() string { return TenantKeyPrefix(platformTenant) + "STREAMCKPT" }

// StreamCheckpoints returns every shard's checkpoint, by shard id: one query of
// one partition (a table's stream has a few shards at a time, and a closed one
// is forgotten a day after it closed).
func (s *Store) StreamCheckpoints(ctx context.Context) (map[string]StreamCheckpoint, error) {
	var items []streamCheckpointItem
	err := s.platform().table.Get("PK", streamCheckpointPK()).Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "stream checkpoints")
	}
	out := make(map[string]StreamCheckpoint, len(items))
	for _, it := range items {
		out[it.Shard] = it.StreamCheckpoint
	}
	return out, nil
}

// SetStreamCheckpoint records a shard's checkpoint. Two overlapping runs may both
// write one; the later write wins and at worst makes the next run read again what
// it already settled, which posts nothing a second time.
func (s *Store) SetStreamCheckpoint(ctx context.Context, c StreamCheckpoint) error {
	err := s.platform().table.Put(streamCheckpointItem{keyed{streamCheckpointPK(), c.Shard, table.TypeStreamCheckpoint, 0}, c}).
		ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "stream checkpoint")
}

// DeleteStreamCheckpoint forgets a shard the stream no longer lists.
func (s *Store) DeleteStreamCheckpoint(ctx context.Context, shard string) error {
	err := s.platform().table.Delete("PK", streamCheckpointPK()).Range("SK", shard).ConsumedCapacity(wcc(ctx)).Run(ctx)
	if err != nil && !dynamo.IsCondCheckFailed(err) {
		return translate(err, "stream checkpoint")
	}
	return nil
}

// TableName is the name of the store's table (the reconciler finds the table's
// stream by it when it is not given the stream's ARN).
func (s *Store) TableName() string { return s.table.Name() }
