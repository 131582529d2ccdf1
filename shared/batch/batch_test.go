package batch

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestRunAndFailures(t *testing.T) {
	t.Parallel()
	recs := make([]events.DynamoDBEventRecord, 6)
	for i := range recs {
		recs[i].Change.SequenceNumber = string(rune('a' + i))
	}
	var calls atomic.Int32
	// Group {1,3,5} fails at 3 (5 is not tried); record 4 panics.
	failed := Run(len(recs), [][]int{{0, 2}, {1, 3, 5}, {4}}, 2, func() func(int) error {
		return func(i int) error {
			calls.Add(1)
			switch i {
			case 3:
				return errors.New("boom")
			case 4:
				panic("bad record")
			}
			return nil
		}
	})
	if got := calls.Load(); got != 5 {
		t.Errorf("calls = %d, want 5", got)
	}
	resp := Failures(recs, failed)
	var ids string
	for _, f := range resp.BatchItemFailures {
		ids += f.ItemIdentifier
	}
	if ids != "def" {
		t.Errorf("failures = %q, want the earliest failed record (d) and all later ones", ids)
	}
	if len(Failures(recs, make([]bool, len(recs))).BatchItemFailures) != 0 {
		t.Error("failures reported for a clean batch")
	}
}
