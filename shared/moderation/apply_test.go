package moderation

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// memStore is one member's activity item with a compare-and-swap save, the
// in-memory stand-in for a conditional PutItem.
type memStore struct {
	mu    sync.Mutex
	items map[string]Activity
	saves int
	lost  int
}

func newMemStore() *memStore { return &memStore{items: map[string]Activity{}} }

func (s *memStore) load(key string) LoadFunc {
	return func(context.Context) (Activity, error) {
		s.mu.Lock()
		a := s.items[key] // the zero Activity when absent
		s.mu.Unlock()
		runtime.Gosched() // widen the gap between read and write, as a network round trip does
		return a, nil
	}
}

func (s *memStore) save(key string) SaveFunc {
	return func(_ context.Context, next Activity, expected int64) (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.items[key].Version != expected {
			s.lost++
			return false, nil
		}
		s.items[key] = next
		s.saves++
		return true, nil
	}
}

func TestApplyConcurrentFloodIsExact(t *testing.T) {
	t.Parallel()
	const senders = 50
	r := Rules{Flood: &FloodRule{Enabled: true, MaxMessages: 5, WindowSeconds: 10, Actions: []Action{Warn}}}
	lost := 0
	for round := range 20 {
		store := newMemStore()
		key := "tenant#group#member"
		start := make(chan struct{})
		decisions := make([]Decision, senders)
		errs := make([]error, senders)
		var wg sync.WaitGroup
		for i := range senders {
			wg.Go(func() {
				<-start
				decisions[i], _, errs[i] = Apply(t.Context(), store.load(key), store.save(key), r, Normal, Message{Text: "刷屏"}, t0)
			})
		}
		close(start)
		wg.Wait()

		flooding := 0
		for i, d := range decisions {
			if errs[i] != nil {
				t.Fatalf("round %d: Apply %d: %v", round, i, errs[i])
			}
			if slices.Contains(d.Matched, RuleFlood) {
				flooding++
			}
		}
		final := store.items[key]
		if flooding != senders-5 || store.saves != senders || final.Version != senders || len(final.Times) != 5 {
			t.Fatalf("round %d: %d flooding, %d saves, version %d, %d times; want %d, %d, %d, 5",
				round, flooding, store.saves, final.Version, len(final.Times), senders-5, senders, senders)
		}
		lost += store.lost
	}
	t.Logf("%d conditional writes lost and retried in 20 rounds", lost)
	if lost == 0 {
		t.Log("no contention happened: the interleavings were not exercised")
	}
}

func TestApplyErrors(t *testing.T) {
	t.Parallel()
	errLoad, errSave := errors.New("dynamo: read throttled"), errors.New("dynamo: write throttled")
	okLoad := func(context.Context) (Activity, error) { return Activity{Version: 3}, nil }
	okSave := func(context.Context, Activity, int64) (bool, error) { return true, nil }
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		load    LoadFunc
		save    SaveFunc
		wantErr error
	}{
		{name: "load fails", ctx: t.Context(), load: func(context.Context) (Activity, error) { return Activity{}, errLoad }, save: okSave, wantErr: errLoad},
		{name: "save fails", ctx: t.Context(), load: okLoad, save: func(context.Context, Activity, int64) (bool, error) { return false, errSave }, wantErr: errSave},
		{name: "always contended", ctx: t.Context(), load: okLoad, save: func(context.Context, Activity, int64) (bool, error) { return false, nil }, wantErr: ErrContention},
		{name: "context canceled", ctx: canceled, load: okLoad, save: okSave, wantErr: context.Canceled},
		{name: "nil load", ctx: t.Context(), save: okSave},
		{name: "nil save", ctx: t.Context(), load: okLoad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Apply(tt.ctx, tt.load, tt.save, Default(), Normal, Message{Text: "hi"}, t0)
			if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Apply() error = %v, want %v", err, tt.wantErr)
			}
		})
	}

	t.Run("saves with the version read", func(t *testing.T) {
		t.Parallel()
		var gotExpected, gotVersion int64
		save := func(_ context.Context, next Activity, expected int64) (bool, error) {
			gotExpected, gotVersion = expected, next.Version
			return true, nil
		}
		if _, _, err := Apply(t.Context(), okLoad, save, Default(), Normal, Message{Text: "hi"}, t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if gotExpected != 3 || gotVersion != 4 {
			t.Errorf("save(version %d, expected %d), want 4, 3", gotVersion, gotExpected)
		}
	})
}
