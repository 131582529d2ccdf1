package cache_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/cache"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)} }

func TestExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := cache.New[string, int](time.Minute, 10, clk.Now)
	c.Put("a", 1)
	for _, tc := range []struct {
		name    string
		advance time.Duration
		wantOK  bool
	}{
		{"just put", 0, true},
		{"within ttl", 59 * time.Second, true},
		{"at ttl", time.Second, false},
	} {
		clk.Add(tc.advance)
		got, ok := c.Get("a")
		if ok != tc.wantOK || (ok && got != 1) {
			t.Errorf("%s: got %d, %v, want 1, %v", tc.name, got, ok, tc.wantOK)
		}
	}
	c.Put("a", 2)
	if got, ok := c.Get("a"); !ok || got != 2 {
		t.Errorf("after put again: got %d, %v, want 2, true", got, ok)
	}
	c.Delete("a")
	if _, ok := c.Get("a"); ok {
		t.Error("after delete: still there")
	}
}

func TestBounded(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := cache.New[int, int](time.Minute, 3, clk.Now)
	for i := range 3 {
		c.Put(i, i)
		clk.Add(time.Second)
	}
	// Full: the entry put longest ago goes.
	c.Put(3, 3)
	if got, want := c.Len(), 3; got != want {
		t.Fatalf("len: got %d, want %d", got, want)
	}
	if _, ok := c.Get(0); ok {
		t.Error("oldest entry kept past the bound")
	}
	for _, k := range []int{1, 2, 3} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("entry %d evicted", k)
		}
	}
	// Replacing a key never evicts another.
	c.Put(2, 20)
	if got, want := c.Len(), 3; got != want {
		t.Errorf("len after replace: got %d, want %d", got, want)
	}
	// Expired entries go first, all of them.
	clk.Add(time.Minute)
	c.Put(4, 4)
	if got, want := c.Len(), 1; got != want {
		t.Errorf("len after expiry: got %d, want %d", got, want)
	}
}

func TestFetch(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := cache.New[string, string](time.Minute, 10, clk.Now)
	loads := 0
	load := func() (string, error) { loads++; return "v", nil }
	for range 3 {
		if got, err := c.Fetch("k", load); err != nil || got != "v" {
			t.Fatalf("fetch: got %q, %v", got, err)
		}
	}
	if loads != 1 {
		t.Errorf("loads: got %d, want 1", loads)
	}
	boom := errors.New("boom")
	if _, err := c.Fetch("bad", func() (string, error) { return "x", boom }); !errors.Is(err, boom) {
		t.Errorf("fetch error: got %v, want %v", err, boom)
	}
	if _, ok := c.Get("bad"); ok {
		t.Error("a failed load was cached")
	}
	clk.Add(time.Minute)
	if _, err := c.Fetch("k", load); err != nil || loads != 2 {
		t.Errorf("after ttl: loads %d, err %v; want 2, nil", loads, err)
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	c := cache.New[int, int](time.Minute, 8, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				c.Put(g*1000+i, i)
				c.Get(g*1000 + i/2)
			}
		}()
	}
	wg.Wait()
	if got := c.Len(); got > 8 {
		t.Errorf("len: got %d, want at most 8", got)
	}
}
