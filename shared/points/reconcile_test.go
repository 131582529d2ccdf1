package points_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/store"
)

// fakeStream is a stream whose shards the test lays out: DynamoDB Local keeps
// one open shard per table and never splits it, so closed shards, parents and
// children, and trimmed positions can only be shown with a fake.
type fakeStream struct {
	shards  []points.StreamShard
	records map[string][]events.DynamoDBEventRecord
	// trimOnce makes the next Iterator after a position of that shard fail as
	// trimmed.
	trimOnce map[string]bool
	pageSize int
}

func (s *fakeStream) Shards(context.Context) ([]points.StreamShard, error) { return s.shards, nil }

func (s *fakeStream) Iterator(_ context.Context, shard, after string) (string, error) {
	if after != "" && s.trimOnce[shard] {
		delete(s.trimOnce, shard)
		return "", points.ErrStreamTrimmed
	}
	i := 0
	for j, r := range s.records[shard] {
		if r.Change.SequenceNumber == after {
			i = j + 1
		}
	}
	return shard + "@" + strconv.Itoa(i), nil
}

func (s *fakeStream) Records(_ context.Context, it string) ([]events.DynamoDBEventRecord, string, error) {
	shard, at, _ := strings.Cut(it, "@")
	i, _ := strconv.Atoi(at)
	recs := s.records[shard]
	end := min(len(recs), i+s.pageSize)
	closed := false
	for _, sh := range s.shards {
		if sh.ID == shard {
			closed = sh.Closed
		}
	}
	if end == len(recs) && closed {
		return recs[i:end], "", nil
	}
	return recs[i:end], shard + "@" + strconv.Itoa(end), nil
}

// TestReconcilerWalksShards: a closed parent is read to its end and marked
// finished before its child is read; the child stops at its first record younger
// than the cutoff and resumes there; finished shards are skipped, and forgotten
// once the stream no longer lists them; a trimmed checkpoint is counted and the
// shard read again from its oldest record, which re-posts nothing.
func TestReconcilerWalksShards(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	at := func(d time.Duration) time.Time { return f.now.Add(d) }
	seq := 0
	rec := func(id string, written time.Time) events.DynamoDBEventRecord {
		seq++
		r := orderRecord(t, f.t, id, "c-"+id, 10000, written)
		r.Change.SequenceNumber = fmt.Sprintf("%021d", seq)
		r.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: written}
		return r
	}
	stream := &fakeStream{
		shards: []points.StreamShard{{ID: "child", Parent: "parent"}, {ID: "parent", Closed: true}},
		records: map[string][]events.DynamoDBEventRecord{
			"parent": {rec("o-1", at(-40*time.Minute)), rec("o-2", at(-35*time.Minute))},
			"child":  {rec("o-3", at(-30*time.Minute)), rec("o-4", at(-5*time.Minute))},
		},
		trimOnce: map[string]bool{},
		pageSize: 1,
	}
	r, err := f.eng.NewReconciler(stream, points.ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	run := func() points.Reconciled {
		t.Helper()
		out, err := r.Reconcile(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	checkpoints := func() map[string]store.StreamCheckpoint {
		t.Helper()
		cps, err := f.st.StreamCheckpoints(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return cps
	}

	// o-4 is younger than 15 minutes: the child stops before it.
	if got := run(); got.Shards != 2 || got.Records != 3 || got.Posted != 3 || got.Checked != 3 {
		t.Fatalf("first run: %+v, want both shards, o-1..o-3 posted", got)
	}
	cps := checkpoints()
	if !cps["parent"].Finished || cps["child"].Finished || cps["child"].After != stream.records["child"][0].Change.SequenceNumber {
		t.Fatalf("checkpoints: %+v, want the parent finished and the child after o-3", cps)
	}
	// Later: the finished parent is skipped, the child resumes at o-4.
	f.setNow(at(20 * time.Minute))
	if got := run(); got.Shards != 1 || got.Records != 1 || got.Posted != 1 {
		t.Fatalf("second run: %+v, want only o-4 read and posted", got)
	}
	// The parent ages out of the stream: its checkpoint is forgotten. The
	// child's checkpoint was trimmed: counted, read again from its start,
	// posting nothing twice.
	stream.shards = stream.shards[:1]
	stream.trimOnce["child"] = true
	if got := run(); got.Trimmed != 1 || got.Records != 2 || got.Checked != 2 || got.Posted != 0 || got.Found != 0 {
		t.Fatalf("third run: %+v, want the trimmed child re-read and nothing posted", got)
	}
	if cps := checkpoints(); len(cps) != 1 || cps["child"].After != stream.records["child"][1].Change.SequenceNumber {
		t.Fatalf("checkpoints after the parent aged out: %+v", cps)
	}
	for _, id := range []string{"o-1", "o-2", "o-3", "o-4"} {
		if m, err := f.t.FindMember(ctx, store.Contact{Provider: "shopify", ExternalID: "c-" + id}); err != nil || m == "" {
			t.Errorf("%s: member %q %v, want its order posted", id, m, err)
		}
	}
}
