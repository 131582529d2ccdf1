// Package cache is the one small cache a warm Lambda keeps between invocations:
// a map whose entries expire a fixed time after they were put and which never
// holds more than a set number of them.
package cache

import (
	"sync"
	"time"
)

// TTL maps keys to values for ttl after each was put, holding a bounded number.
// It is safe for concurrent use. The zero value is not usable: call New.
type TTL[K comparable, V any] struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[K]entry[V]
}

type entry[V any] struct {
	v  V
	at time.Time
}

// New returns an empty cache whose entries live for ttl and which holds at most size
// of them (at least 1). now is its clock; nil means time.Now.
func New[K comparable, V any](ttl time.Duration, size int, now func() time.Time) *TTL[K, V] {
	if now == nil {
		now = time.Now
	}
	return &TTL[K, V]{ttl: ttl, max: max(size, 1), now: now, m: map[K]entry[V]{}}
}

// Get returns the value under k if it was put less than ttl ago.
func (c *TTL[K, V]) Get(k K) (V, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !c.fresh(e, now) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put stores v under k from now on. When the cache is full it first drops the
// expired entries and then, if it must, the one put longest ago.
func (c *TTL[K, V]) Put(k K, v V) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		c.evict(now)
	}
	c.m[k] = entry[V]{v: v, at: now}
}

// Delete drops k.
func (c *TTL[K, V]) Delete(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// Len is the number of entries held, expired ones included until they are evicted.
func (c *TTL[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Fetch returns the fresh value under k, or calls load and keeps what it returns.
// A load error is returned and nothing is kept. Concurrent misses may each call
// load; the last one's value stays.
func (c *TTL[K, V]) Fetch(k K, load func() (V, error)) (V, error) {
	if v, ok := c.Get(k); ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		var zero V
		return zero, err
	}
	c.Put(k, v)
	return v, nil
}

// fresh reports whether e is younger than ttl at now. A clock that went back
// counts as fresh, as it did for the caches this replaces.
func (c *TTL[K, V]) fresh(e entry[V], now time.Time) bool { return now.Sub(e.at) < c.ttl }

// evict makes room for one entry; c.mu is held.
func (c *TTL[K, V]) evict(now time.Time) {
	var (
		oldest   K
		oldestAt time.Time
		found    bool
	)
	for k, e := range c.m {
		if !c.fresh(e, now) {
			delete(c.m, k)
			continue
		}
		if !found || e.at.Before(oldestAt) {
			oldest, oldestAt, found = k, e.at, true
		}
	}
	if len(c.m) >= c.max && found {
		delete(c.m, oldest)
	}
}
