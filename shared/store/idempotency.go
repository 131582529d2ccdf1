package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// IdemRecord is what Tribe keeps of a POST sent with an Idempotency-Key: who runs it,
// the fingerprint of the request, and once done, the response to replay.
type IdemRecord struct {
	Fingerprint string    `dynamo:"fingerprint"`
	Done        bool      `dynamo:"done"`
	LockedUntil time.Time `dynamo:"locked_until"`
	Status      int       `dynamo:"status,omitempty"`
	ContentType string    `dynamo:"content_type,omitempty"`
	Body        []byte    `dynamo:"body,omitempty"`
	Location    string    `dynamo:"location,omitempty"`
	// SecretOmitted names the JSON paths of secrets the response had and Body
	// leaves out: a secret is shown once and never stored.
	SecretOmitted []string `dynamo:"secret_omitted,omitempty"`
	// Reread ("member:m_…") names the resource a replay re-reads, in place of a
	// Body that would carry a person's data: an idempotency record is keyed by the
	// client's key, out of erasure's reach, so it never holds personal data.
	Reread string `dynamo:"reread,omitempty"`
	// CreatedAt is when the key was first used; postings keyed by it use it as their
	// time, so a retry posts the same entry.
	CreatedAt time.Time `dynamo:"created_at"`
}

type idemItem struct {
	keyed
	IdemRecord
}

// IdemTTL is how long a key is remembered.
const IdemTTL = 24 * time.Hour

// Idempotency keeps idempotency records for one tenant (or the platform).
type Idempotency struct{ t *Tenant }

// Idempotency returns the tenant's idempotency records.
func (t *Tenant) Idempotency() Idempotency { return Idempotency{t} }

// PlatformIdempotency returns the platform's idempotency records.
func (s *Store) PlatformIdempotency() Idempotency { return Idempotency{s.platform()} }

func (i Idempotency) key(k string) (string, string) {
	sum := sha256.Sum256([]byte(k))
	return i.t.pk("IDEM", hex.EncodeToString(sum[:16])), "IDEM"
}

// Begin claims key for a request with fingerprint. It returns the stored record and
// true when the request already completed (replay it); problem.IdempotencyReused
// when the key was used for a different request; problem.IdempotencyRunning when the
// first request is still running. The request holds the key for lock, after which
// another may take it over (a crashed handler must not block its key for a day):
// lock must be at least as long as the request can run.
func (i Idempotency) Begin(ctx context.Context, k, fingerprint string, lock time.Duration) (IdemRecord, bool, error) {
	pk, sk := i.key(k)
	now := i.t.s.Now()
	for attempt := 0; attempt < 3; attempt++ {
		var cur idemItem
		err := i.t.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).Consistent(true).ConsumedCapacity(rcc(ctx)).One(ctx, &cur)
		switch {
		case err == dynamo.ErrNotFound:
			rec := idemItem{keyed{pk, sk, table.TypeIdempotency, now.Add(IdemTTL).Unix()}, IdemRecord{Fingerprint: fingerprint, LockedUntil: now.Add(lock), CreatedAt: now}}
			err = i.t.table.Put(rec).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
			if dynamo.IsCondCheckFailed(err) {
				continue
			}
			return rec.IdemRecord, false, translate(err, "idempotency key")
		case err != nil:
			return IdemRecord{}, false, translate(err, "idempotency key")
		}
		// DynamoDB deletes expired items lazily: an expired record is no record.
		if cur.TTL != 0 && cur.TTL < now.Unix() {
			err = i.t.table.Delete("PK", pk).Range("SK", sk).If("ttl = ?", cur.TTL).ConsumedCapacity(wcc(ctx)).Run(ctx)
			if err != nil && !dynamo.IsCondCheckFailed(err) {
				return IdemRecord{}, false, translate(err, "idempotency key")
			}
			continue
		}
		if cur.Fingerprint != fingerprint {
			return IdemRecord{}, false, problem.New(problem.IdempotencyReused, "this Idempotency-Key was used with a different request")
		}
		if cur.Done {
			return cur.IdemRecord, true, nil
		}
		if now.Before(cur.LockedUntil) {
			return IdemRecord{}, false, problem.New(problem.IdempotencyRunning, "a request with this Idempotency-Key is still running; retry later")
		}
		// The first request died while holding the key: take it over.
		err = i.t.table.Update("PK", pk).Range("SK", sk).Set("locked_until", now.Add(lock)).
			If("locked_until = ? AND done = ?", cur.LockedUntil, false).ConsumedCapacity(wcc(ctx)).Run(ctx)
		if dynamo.IsCondCheckFailed(err) {
			continue
		}
		return cur.IdemRecord, false, translate(err, "idempotency key")
	}
	return IdemRecord{}, false, problem.New(problem.IdempotencyRunning, "a request with this Idempotency-Key is still running; retry later")
}

// Complete stores the response of the request that holds key.
func (i Idempotency) Complete(ctx context.Context, k string, rec IdemRecord) error {
	pk, sk := i.key(k)
	now := i.t.s.Now()
	rec.Done = true
	err := i.t.table.Put(idemItem{keyed{pk, sk, table.TypeIdempotency, now.Add(IdemTTL).Unix()}, rec}).
		If("fingerprint = ? AND done = ?", rec.Fingerprint, false).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "idempotency key")
}

// Release forgets key after a request that failed without effect, so it can be
// retried.
func (i Idempotency) Release(ctx context.Context, k, fingerprint string) error {
	pk, sk := i.key(k)
	err := i.t.table.Delete("PK", pk).Range("SK", sk).If("fingerprint = ? AND done = ?", fingerprint, false).ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "idempotency key")
}
