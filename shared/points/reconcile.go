package points

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/table"
)

// ReconcileAfter is how long an order or refund may wait for its ledger posting
// before the reconciler re-drives it: well past the stream's retries (ledger
// retries a record ten times with backoff before it gives up on it).
const ReconcileAfter = 15 * time.Minute

// refundWaitLimit is how long a refund may wait for its order before the
// reconciler gives up on it (logged as an error, counted as GaveUp) instead of
// holding its shard's checkpoint: a refund of an order Tribe never received.
const refundWaitLimit = 12 * time.Hour

// Reconciled is what a reconciler run found and did.
type Reconciled struct {
	// Shards and Records count the stream shards read and the records read.
	Shards  int `json:"shards"`
	Records int `json:"records"`
	// Checked counts the orders and refunds read that were at least
	// ReconcileAfter old.
	Checked int `json:"checked"`
	// Found counts those whose posting was missing (orders) or that were re-driven
	// (refunds, which the stream rarely carries and re-driving costs little).
	Found int `json:"found"`
	// Posted and Reversed count the orders and refunds whose entry the run wrote:
	// postings the stream had lost.
	Posted   int `json:"posted"`
	Reversed int `json:"reversed"`
	// AlreadyDone counts re-driven ones that turned out posted (or with nothing
	// to post).
	AlreadyDone int `json:"already_done"`
	// Waiting counts refunds whose order has not arrived; their shard's
	// checkpoint stays before them.
	Waiting int `json:"waiting"`
	// GaveUp counts refunds that waited refundWaitLimit for their order.
	GaveUp int `json:"gave_up"`
	// Failed counts re-drives (and checks) that failed again; their shard's
	// checkpoint stays before them.
	Failed int `json:"failed"`
	// Trimmed counts shards whose checkpoint or iterator had aged out of the
	// stream's 24 hours: records between it and the oldest kept one were never
	// checked.
	Trimmed int `json:"trimmed"`
	// FailedShards counts shards the run could not read through (a stream
	// error); the rest are still read.
	FailedShards int `json:"failed_shards"`
	// Unfinished is set when the run stopped for its time budget; the next
	// run resumes from the checkpoints.
	Unfinished bool `json:"unfinished,omitempty"`
}

// StreamShard is one shard of the table's stream as DescribeStream lists it.
type StreamShard struct {
	ID     string
	Parent string
	// Closed: the shard has an ending sequence number; it gets no new records.
	Closed bool
}

// Stream is the table's stream as the reconciler reads it: the DynamoDB Streams
// API (shared/streamread on AWS and on DynamoDB Local).
type Stream interface {
	// Shards lists every shard the stream keeps, open and closed.
	Shards(ctx context.Context) ([]StreamShard, error)
	// Iterator returns an iterator of shard after sequence number after, or at
	// its oldest kept record when after is empty. It fails with ErrStreamTrimmed
	// when after is older than the oldest kept record.
	Iterator(ctx context.Context, shard, after string) (string, error)
	// Records returns one page of records and the next page's iterator, empty
	// at the end of a closed shard. It fails with ErrIteratorExpired or
	// ErrStreamTrimmed.
	Records(ctx context.Context, iterator string) ([]events.DynamoDBEventRecord, string, error)
}

// Stream errors a Stream maps the API's exceptions to.
var (
	ErrStreamTrimmed   = errors.New("points: stream records trimmed (older than the stream keeps)")
	ErrIteratorExpired = errors.New("points: shard iterator expired")
)

// ReconcileOptions adjust a reconciler.
type ReconcileOptions struct {
	// Budget is how long a run may read before it checkpoints and stops (the
	// function's timeout minus a margin); zero means no limit but the context's.
	Budget time.Duration
}

// Reconciler is the scheduled reconciler: it reads the table's stream itself, as
// its own reader with its own checkpoints, and re-drives each order and refund
// whose ledger posting is missing ReconcileAfter after it was written (a poison
// record the ledger gave up on, a lost batch, a record the ledger acknowledged
// without posting) through the same idempotent posting as the ledger. Nothing is
// written on the posting path for it.
type Reconciler struct {
	e      *Engine
	stream Stream
	o      ReconcileOptions
}

// NewReconciler returns the engine's reconciler reading stream.
func (e *Engine) NewReconciler(stream Stream, o ReconcileOptions) (*Reconciler, error) {
	if stream == nil {
		return nil, errors.New("points: the reconciler needs the table's stream")
	}
	return &Reconciler{e: e, stream: stream, o: o}, nil
}

// Reconcile is one run. For every shard the stream lists (a child only once its
// parent is finished or gone, so a shard's records come after its parent's) it
// reads from the shard's checkpoint, or the shard's oldest kept record, and
// settles each inserted order and refund at least ReconcileAfter old: an order by
// reads (its member and its earn entry's key), re-driven when its posting is
// missing; a refund re-driven (a reversal posted is found by its key). A shard
// stops at its first record younger than the cutoff, at an empty page of an open
// shard, or at the end of a closed one (then marked finished). Its checkpoint
// moves past what is settled and stops before the first record it could not
// settle (a refund waiting for its order, a failed re-drive), which the next run
// tries again; records after it are still settled this run. A shard's failure is
// logged and counted and does not stop the others; the run fails only when it
// cannot list the shards or read the checkpoints.
func (r *Reconciler) Reconcile(ctx context.Context, _ json.RawMessage) (Reconciled, error) {
	var out Reconciled
	var deadline time.Time
	if r.o.Budget > 0 {
		deadline = time.Now().Add(r.o.Budget)
	}
	err := r.run(ctx, deadline, &out)
	r.e.log.InfoContext(ctx, "points: reconcile run", "shards", out.Shards, "records", out.Records, "checked", out.Checked, "found", out.Found,
		"posted", out.Posted, "reversed", out.Reversed, "already_done", out.AlreadyDone, "waiting", out.Waiting, "gave_up", out.GaveUp,
		"failed", out.Failed, "trimmed", out.Trimmed, "failed_shards", out.FailedShards, "unfinished", out.Unfinished)
	return out, err
}

func (r *Reconciler) run(ctx context.Context, deadline time.Time, out *Reconciled) error {
	shards, err := r.stream.Shards(ctx)
	if err != nil {
		return err
	}
	cps, err := r.e.store.StreamCheckpoints(ctx)
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	for _, s := range shards {
		listed[s.ID] = true
	}
	for id := range cps {
		if !listed[id] {
			// Aged out of the stream: nothing of it is left to read.
			if !cps[id].Finished {
				out.Trimmed++
				r.e.log.ErrorContext(ctx, "points: reconcile shard aged out of the stream before it was read to its end", "shard", id, "after", cps[id].After)
			}
			if err := r.e.store.DeleteStreamCheckpoint(ctx, id); err != nil {
				return err
			}
		}
	}
	cutoff := r.e.store.Now().Add(-ReconcileAfter)
	done, read := map[string]bool{}, map[string]bool{}
	for id, c := range cps {
		done[id] = c.Finished
	}
	// Parents before children: a child waits for a later run while its listed
	// parent is unfinished.
	for progress := true; progress; {
		progress = false
		for _, s := range shards {
			if done[s.ID] || read[s.ID] || (s.Parent != "" && listed[s.Parent] && !done[s.Parent]) {
				continue
			}
			if past(deadline) {
				out.Unfinished = true
				return nil
			}
			read[s.ID] = true
			out.Shards++
			finished, err := r.shard(ctx, s, cps[s.ID], cutoff, deadline, out)
			if err != nil {
				out.FailedShards++
				r.e.log.ErrorContext(ctx, "points: reconcile shard", "shard", s.ID, "err", err)
				continue
			}
			if finished {
				done[s.ID], progress = true, true
			}
		}
	}
	return nil
}

func past(deadline time.Time) bool { return !deadline.IsZero() && time.Now().After(deadline) }

// shard reads one shard from its checkpoint cp and reports whether it finished
// (a closed shard read to its end with everything settled).
func (r *Reconciler) shard(ctx context.Context, s StreamShard, cp store.StreamCheckpoint, cutoff, deadline time.Time, out *Reconciled) (bool, error) {
	cp.Shard = s.ID
	was := cp
	after := cp.After // the last record read
	held, holdAt := false, ""
	save := func(finished bool) (bool, error) {
		next := store.StreamCheckpoint{Shard: s.ID, After: after, Finished: finished}
		if held {
			next = store.StreamCheckpoint{Shard: s.ID, After: holdAt}
		}
		if next == was {
			return next.Finished, nil
		}
		return next.Finished, r.e.store.SetStreamCheckpoint(ctx, next)
	}
	it, err := r.iterator(ctx, s.ID, after, out)
	if err != nil {
		return false, err
	}
	for {
		if past(deadline) {
			out.Unfinished = true
			return save(false)
		}
		recs, next, err := r.stream.Records(ctx, it)
		switch {
		case errors.Is(err, ErrIteratorExpired), errors.Is(err, ErrStreamTrimmed):
			if it, err = r.iterator(ctx, s.ID, after, out); err != nil {
				_, serr := save(false)
				return false, errors.Join(err, serr)
			}
			continue
		case err != nil:
			_, serr := save(false)
			return false, errors.Join(err, serr)
		}
		for _, rec := range recs {
			if rec.Change.ApproximateCreationDateTime.After(cutoff) {
				// This one and every later one are too young: the ledger may
				// still be on them.
				return save(false)
			}
			out.Records++
			if !r.settle(ctx, rec, out) && !held {
				held, holdAt = true, after
			}
			after = rec.Change.SequenceNumber
		}
		if next == "" {
			return save(!held)
		}
		if len(recs) == 0 && !s.Closed {
			return save(false)
		}
		it = next
	}
}

// iterator returns an iterator of shard after sequence number after (its oldest
// kept record when empty). A position that aged out of the stream is logged
// loudly and counted, and the shard is read from its oldest kept record.
func (r *Reconciler) iterator(ctx context.Context, shard, after string, out *Reconciled) (string, error) {
	it, err := r.stream.Iterator(ctx, shard, after)
	if errors.Is(err, ErrStreamTrimmed) && after != "" {
		out.Trimmed++
		r.e.log.ErrorContext(ctx, "points: reconcile position trimmed from the stream: records after it and before the oldest kept one were never checked",
			"shard", shard, "after", after)
		it, err = r.stream.Iterator(ctx, shard, "")
	}
	return it, err
}

// settle checks one stream record: an inserted order (re-driven when its posting
// is missing) or refund (re-driven); any other record is settled as it is. It
// reports whether the record is settled.
func (r *Reconciler) settle(ctx context.Context, rec events.DynamoDBEventRecord, out *Reconciled) bool {
	if rec.EventName != store.Insert {
		return true
	}
	if typ, _ := table.ItemType(rec.Change.NewImage); typ != table.TypeOrder && typ != table.TypeRefund {
		return true
	}
	c, err := store.DecodeChange(rec)
	if err != nil {
		// Nothing to post from a record the store cannot read (the ledger
		// drops it too).
		r.e.log.ErrorContext(ctx, "points: reconcile undecodable record", "event_id", rec.EventID, "err", err)
		return true
	}
	t, err := r.e.store.Tenant(c.Tenant)
	if err != nil {
		return true
	}
	out.Checked++
	if c.New.Order != nil {
		s, err := r.e.settings.Get(ctx, t)
		var posted bool
		if err == nil {
			posted, err = r.e.orderPosted(ctx, t, s, *c.New.Order)
		}
		if err != nil {
			out.Failed++
			r.e.log.ErrorContext(ctx, "points: reconcile check failed", "tenant", t.ID(), "ref", c.New.Order.ExternalID, "err", err)
			return false
		}
		if posted {
			return true
		}
	}
	return r.redrive(ctx, t, c, rec.Change.ApproximateCreationDateTime.Time, out)
}

// redrive posts one order or refund as the stream consumer would have; it reports
// whether it is settled.
func (r *Reconciler) redrive(ctx context.Context, t *store.Tenant, c store.Change, at time.Time, out *Reconciled) bool {
	out.Found++
	kind, ref := "order", ""
	if c.New.Order != nil {
		ref = c.New.Order.ExternalID
	} else {
		kind, ref = "refund", c.New.Refund.OrderExternalID+"/"+c.New.Refund.ExternalID
	}
	posted, err := r.e.record(ctx, c, nil, map[string]store.Member{})
	switch {
	case errors.Is(err, errOrderUnseen) && r.e.store.Now().Sub(at) > refundWaitLimit:
		out.GaveUp++
		r.e.log.ErrorContext(ctx, "points: reconcile gave up on a refund of an order never received", "tenant", t.ID(), "ref", ref, "written", at)
		return true
	case errors.Is(err, errOrderUnseen):
		out.Waiting++
		return false
	case err != nil:
		out.Failed++
		r.e.log.ErrorContext(ctx, "points: reconcile failed again", "tenant", t.ID(), "kind", kind, "ref", ref, "err", err)
		return false
	case posted && c.New.Order != nil:
		out.Posted++
	case posted:
		out.Reversed++
	default:
		out.AlreadyDone++
	}
	if posted {
		r.e.log.WarnContext(ctx, "points: reconciled a lost posting", "tenant", t.ID(), "kind", kind, "ref", ref)
	}
	return true
}
