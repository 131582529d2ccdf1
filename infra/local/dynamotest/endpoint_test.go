package dynamotest

import (
	"testing"
)

// named is a test under another name, as a parallel test of a package would be.
type named struct {
	*testing.T
	name string
}

func (n named) Name() string { return n.name }

// TestEndpointSpreadsTestsAndKeepsEach: a test, its subtests and every table they
// make keep one endpoint; tests running at once get different ones, and a finished
// test's endpoint goes to the next.
func TestEndpointSpreadsTestsAndKeepsEach(t *testing.T) {
	mu.Lock()
	endpoints, active, assigned, limit = []string{"a", "b"}, []int{0, 0}, map[string]int{}, 2
	mu.Unlock()
	var first, second string
	t.Run("running together", func(t *testing.T) {
		first = Endpoint(named{t, "TestOne"})
		second = Endpoint(named{t, "TestTwo"})
		if first == second {
			t.Fatalf("two tests at once share %s", first)
		}
		if again := Endpoint(named{t, "TestOne/sub"}); again != first {
			t.Fatalf("a subtest got %s, its test %s", again, first)
		}
	})
	// Both have ended: the next test gets the first endpoint, the least busy again.
	if got := Endpoint(named{t, "TestThree"}); got != "a" {
		t.Fatalf("after both ended: %s, want a", got)
	}
	if got := Endpoint(named{t, "TestOne"}); got != first {
		t.Fatalf("TestOne again: %s, want its own %s", got, first)
	}
}
