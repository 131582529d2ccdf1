package ids

import (
	"testing"
	"time"
)

func TestNewSortsByTimeAndValidates(t *testing.T) {
	t.Parallel()
	a := NewAt(Member, time.UnixMilli(1_700_000_000_000))
	b := NewAt(Member, time.UnixMilli(1_700_000_000_001))
	if !(a < b) {
		t.Errorf("%s !< %s", a, b)
	}
	for _, tc := range []struct {
		name string
		id   string
		want bool
	}{
		{"fresh", New(Member), true},
		{"wrong prefix", New(Tenant), false},
		{"short", "mem_123", false},
		{"key injection", "mem_0000000000000000000000000#", false},
		{"upper case", "mem_" + "0123456789ABCDEFGHJKMNPQRS", false},
	} {
		if got := Valid(Member, tc.id); got != tc.want {
			t.Errorf("%s: Valid(%q) = %v, want %v", tc.name, tc.id, got, tc.want)
		}
	}
	if len(Random(32)) != 32 {
		t.Error("Random length")
	}
}
