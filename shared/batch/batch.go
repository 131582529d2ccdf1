// Package batch runs a DynamoDB stream batch the way Tribe's consumers do: groups
// of records concurrently, the records of a group in order, and the answer Lambda's
// partial batch response expects.
package batch

import (
	"fmt"
	"sync"

	"github.com/aws/aws-lambda-go/events"
)

// Run processes groups (lists of record indexes) with at most parallel running at
// once. Each group gets its own function from newGroup, called with the group's
// records in order until one fails; a panic counts as a failure. It returns which
// records failed.
func Run(n int, groups [][]int, parallel int, newGroup func() func(i int) error) []bool {
	failed := make([]bool, n)
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for _, idx := range groups {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			process := newGroup()
			for _, i := range idx {
				if err := safe(process, i); err != nil {
					failed[i] = true
					return
				}
			}
		}()
	}
	wg.Wait()
	return failed
}

func safe(process func(int) error, i int) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return process(i)
}

// Failures is the partial batch response for the failed records: the earliest
// and every record after it, so Lambda retries from there and nothing overtakes a
// failed record of its shard.
func Failures(records []events.DynamoDBEventRecord, failed []bool) events.DynamoDBEventResponse {
	var resp events.DynamoDBEventResponse
	for i, f := range failed {
		if f {
			for _, r := range records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
			}
			break
		}
	}
	return resp
}
