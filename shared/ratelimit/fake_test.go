package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/tribehq/tribe/shared/store"
)

// memBucket is a tenant's shared bucket in memory, for concurrent use, taking
// tokens as store.Tenant.TakeTokens does (a conditional write for the case that
// seen suggests; on failure a read and another try), counting its writes and reads
// and sleeping io for each; the DynamoDB side is tested through the API against
// DynamoDB Local.
type memBucket struct {
	id   string
	info store.TenantInfo
	io   time.Duration

	mu            sync.Mutex
	tat           time.Time
	writes, reads int
	calls         int // Info and TakeTokens calls
}

func (m *memBucket) ID() string { return m.id }

func (m *memBucket) Info(context.Context) (store.TenantInfo, error) {
	m.count()
	return m.info, nil
}

func (m *memBucket) count() {
	time.Sleep(m.io)
	m.mu.Lock()
	m.calls++
	m.mu.Unlock()
}

func (m *memBucket) TakeTokens(_ context.Context, b store.Bucket, want int, now, seen time.Time) (int, time.Time, error) {
	m.count()
	m.mu.Lock()
	defer m.mu.Unlock()
	tat := seen
	for range 8 {
		n := min(want, b.Fits(tat, now))
		if n < 1 {
			return 0, tat, nil
		}
		m.writes++
		if tat.After(now) == m.tat.After(now) && b.Fits(m.tat, now) >= n {
			base := m.tat
			if base.Before(now) {
				base = now
			}
			m.tat = base.Add(time.Duration(n) * b.Interval)
			return n, m.tat, nil
		}
		m.reads++
		tat = m.tat
	}
	return 0, tat, nil
}

func (m *memBucket) stats() (writes, reads, calls int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.writes, m.reads, m.calls
}
