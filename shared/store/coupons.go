package store

// Coupon pools: codes a tenant uploads, each issued once.
//
// Layout, per pool:
//   - the pool: T#t#CPOOL#<pool> / POOL, listed under T#t#CPOOLS (GSI1);
//   - its codes spread over couponShards partitions by a hash of the code:
//     T#t#CPOOL#<pool>#S#<k> / C#<code>; an available code is also in the
//     listing index under T#t#CPOOL#<pool>#AV#<k> (GSI1SK = the code), and
//     issuing removes it from there (a sparse index of what is left);
//   - each shard's counts, in couponCounters items summed on read:
//     T#t#CPOOL#<pool>#S#<k> / STATS#<c> (total, issued);
//   - each issue's ref: T#t#CPOOL#<pool>#REF#<sha256(ref)> / REF (the code).
//
// An issue picks a shard at random, reads a few available codes from the index
// and claims one with one transaction: the code only if not yet issued, the ref
// only if new, the shard's issued count. Losing a code to a concurrent issue only
// moves on to the next candidate, so no code is issued twice, no single item takes
// every issue of a large pool, and a pool is exhausted only when every shard's
// list is empty.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// couponShards is how many partitions a pool's codes are spread over, and
// couponCounters how many count items each shard keeps (an issue adds to one
// at random), so concurrent issues rarely write the same count item.
const (
	couponShards   = 16
	couponCounters = 4
)

func couponCounterSK() string { return "STATS#" + strconv.Itoa(rand.IntN(couponCounters)) }

// Coupon upload bounds.
const (
	MaxCouponCodesPerUpload = 10_000
	MaxCouponCodeLen        = 64
	MaxCouponRefLen         = 256
)

// CouponPool is a pool of codes worth FaceValue each.
type CouponPool struct {
	ID          string    `dynamo:"id" json:"id"`
	Name        string    `dynamo:"name" json:"name"`
	Description string    `dynamo:"description,omitempty" json:"description"`
	FaceAmount  int64     `dynamo:"face_amount" json:"-"`
	Currency    string    `dynamo:"currency" json:"-"`
	CreatedAt   time.Time `dynamo:"created_at" json:"created_at"`
}

// CouponStats are a pool's counts, summed over its shards.
type CouponStats struct {
	Total     int64 `json:"total"`
	Issued    int64 `json:"issued"`
	Remaining int64 `json:"remaining"`
}

// CouponIssued is an issued code's status: the stream filter of events out
// takes a code's MODIFY by it (coupon.issued).
const CouponIssued = "issued"

// IssuedCoupon is one issued code.
type IssuedCoupon struct {
	Code     string    `dynamo:"code" json:"code"`
	Pool     string    `dynamo:"pool" json:"pool_id"`
	MemberID string    `dynamo:"member" json:"member_id"`
	Ref      string    `dynamo:"ref" json:"ref"`
	IssuedAt time.Time `dynamo:"issued_at" json:"issued_at"`
}

type couponPoolItem struct {
	keyed
	GSI1PK string `dynamo:"GSI1PK"`
	GSI1SK string `dynamo:"GSI1SK"`
	CouponPool
}

type couponCodeItem struct {
	keyed
	GSI1PK     string    `dynamo:"GSI1PK,omitempty"`
	GSI1SK     string    `dynamo:"GSI1SK,omitempty"`
	Code       string    `dynamo:"code"`
	Pool       string    `dynamo:"pool"`
	UploadedAt time.Time `dynamo:"uploaded_at"`
}

type couponShardItem struct {
	keyed
	Total  int64 `dynamo:"total"`
	Issued int64 `dynamo:"issued"`
}

type couponRefItem struct {
	keyed
	IssuedCoupon
}

func (t *Tenant) couponPoolKey(id string) (string, string) { return t.pk("CPOOL", id), "POOL" }
func (t *Tenant) couponShardPK(pool string, shard int) string {
	return t.pk("CPOOL", pool, "S", strconv.Itoa(shard))
}
func (t *Tenant) couponAvailablePK(pool string, shard int) string {
	return t.pk("CPOOL", pool, "AV", strconv.Itoa(shard))
}
func (t *Tenant) couponRefKey(pool, ref string) (string, string) {
	sum := sha256.Sum256([]byte(ref))
	return t.pk("CPOOL", pool, "REF", hex.EncodeToString(sum[:16])), "REF"
}

func couponShard(code string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(code))
	return int(h.Sum32() % couponShards)
}

// CreateCouponPool stores a new pool.
func (t *Tenant) CreateCouponPool(ctx context.Context, p CouponPool) error {
	pk, sk := t.couponPoolKey(p.ID)
	it := couponPoolItem{keyed{pk, sk, table.TypeCouponPool, 0}, t.pk("CPOOLS"), p.ID, p}
	return translate(t.table.Put(it).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx), "coupon pool")
}

// CouponPool reads a pool; problem.NotFound when there is none.
func (t *Tenant) CouponPool(ctx context.Context, id string) (CouponPool, error) {
	pk, sk := t.couponPoolKey(id)
	var it couponPoolItem
	err := t.getItem(ctx, pk, sk, false, &it, "coupon pool")
	return it.CouponPool, err
}

// CouponPools lists the tenant's pools, oldest first.
func (t *Tenant) CouponPools(ctx context.Context, limit int, cursor string) (Page[CouponPool], error) {
	return indexPage(ctx, t, t.pk("CPOOLS"), limit, cursor, "coupon pools", t.couponPoolKey,
		func(it couponPoolItem) (string, CouponPool) { return it.ID, it.CouponPool })
}

// CouponStats sums a pool's shard counts (one batch read).
func (t *Tenant) CouponStats(ctx context.Context, pool string) (CouponStats, error) {
	keys := make([]dynamo.Keyed, 0, couponShards*couponCounters)
	for k := 0; k < couponShards; k++ {
		for c := 0; c < couponCounters; c++ {
			keys = append(keys, dynamo.Keys{t.couponShardPK(pool, k), "STATS#" + strconv.Itoa(c)})
		}
	}
	items, err := batchGet[couponShardItem](ctx, t, keys, false, "coupon pool stats")
	if err != nil {
		return CouponStats{}, err
	}
	var s CouponStats
	for _, it := range items {
		s.Total += it.Total
		s.Issued += it.Issued
	}
	s.Remaining = s.Total - s.Issued
	return s, nil
}

// UploadResult is what an upload did.
type UploadResult struct {
	Received   int `json:"received"`
	Added      int `json:"added"`
	Duplicates int `json:"duplicates"`
}

// AddCouponCodes adds codes to a pool; codes already in it (or repeated in the
// request) are counted as duplicates and change nothing, so an upload repeated
// after a failure adds only what is missing. Each shard's codes go in
// transactions of up to 99 codes with the shard's count, so the counts always
// match the codes. The codes must already be checked (UploadCodes in the API).
func (t *Tenant) AddCouponCodes(ctx context.Context, pool string, codes []string) (UploadResult, error) {
	res := UploadResult{Received: len(codes)}
	byShard := make([][]string, couponShards)
	seen := make(map[string]bool, len(codes))
	for _, c := range codes {
		if seen[c] {
			res.Duplicates++
			continue
		}
		seen[c] = true
		k := couponShard(c)
		byShard[k] = append(byShard[k], c)
	}
	now := t.s.Now()
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for k, list := range byShard {
		if len(list) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := 0; start < len(list); start += 99 {
				added, err := t.addCodeChunk(ctx, pool, k, list[start:min(start+99, len(list))], now)
				mu.Lock()
				res.Added += added
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	res.Duplicates = res.Received - res.Added
	if firstErr != nil {
		return res, firstErr
	}
	return res, nil
}

// addCodeChunk writes one chunk of a shard's codes with the shard's count in one
// transaction; codes the transaction finds present are dropped and the rest
// written again.
func (t *Tenant) addCodeChunk(ctx context.Context, pool string, shard int, codes []string, now time.Time) (int, error) {
	pk := t.couponShardPK(pool, shard)
	for len(codes) > 0 {
		err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
			for _, c := range codes {
				tx.Put(t.table.Put(couponCodeItem{keyed{pk, "C#" + c, table.TypeCouponCode, 0},
					t.couponAvailablePK(pool, shard), c, c, pool, now}).If("attribute_not_exists(PK)"))
			}
			tx.Update(t.table.Update("PK", pk).Range("SK", couponCounterSK()).Set(table.Type, table.TypeCouponShard).Add("total", len(codes)))
		})
		if err == nil {
			return len(codes), nil
		}
		reasons, ok := cancelReasons(err)
		if !ok {
			return 0, translate(err, "coupon codes")
		}
		kept := codes[:0:0]
		for i, c := range codes {
			if i < len(reasons) && reasons[i] == reasonCondFailed {
				continue
			}
			kept = append(kept, c)
		}
		if len(kept) == len(codes) {
			return 0, translate(err, "coupon codes")
		}
		codes = kept
	}
	return 0, nil
}

// ErrPoolExhausted: every code of the pool is issued.
var ErrPoolExhausted = problem.New(problem.PoolExhausted, "the coupon pool is exhausted")

// IssueCoupon issues one code of pool to member for ref and returns it. The same
// ref always returns the same code (whoever asks, however often, however
// concurrently); each code is issued once. It fails with problem.NotFound for an
// unknown pool and ErrPoolExhausted (problem.PoolExhausted) when no code is left.
func (t *Tenant) IssueCoupon(ctx context.Context, poolID, memberID, ref string) (string, error) {
	c, err := t.issueCoupon(ctx, poolID, memberID, ref, nil)
	return c.Code, err
}

// couponExtra is a write committed with an issue, and the error its failed
// condition means.
type couponExtra struct {
	op      func(tx *dynamo.WriteTx)
	onCheck error
}

// issueCoupon is IssueCoupon with more writes in the issuing transaction (a
// flash sale's stock and claim); an extra's failed condition returns its error.
func (t *Tenant) issueCoupon(ctx context.Context, poolID, memberID, ref string, extra func(IssuedCoupon) []couponExtra) (IssuedCoupon, error) {
	if ref == "" || len(ref) > MaxCouponRefLen {
		return IssuedCoupon{}, problem.New(problem.Invalid, "a coupon issue needs a ref of at most %d characters", MaxCouponRefLen)
	}
	if prev, ok, err := t.couponByRef(ctx, poolID, ref); err != nil || ok {
		return prev, err
	}
	if _, err := t.CouponPool(ctx, poolID); err != nil {
		return IssuedCoupon{}, err
	}
	// Shards in a random order; each read until it has nothing left.
	order := rand.Perm(couponShards)
	for _, shard := range order {
		// Forward through the shard's list: a candidate lost to another issue (or
		// still listed by an index that lags) is passed, so this ends.
		after := ""
		for {
			cands, last, err := t.availableCodes(ctx, poolID, shard, after)
			if err != nil {
				return IssuedCoupon{}, err
			}
			if len(cands) == 0 {
				break
			}
			after = last
			for _, code := range cands {
				c, won, err := t.claimCode(ctx, poolID, shard, code, memberID, ref, extra)
				if err != nil || won {
					return c, err
				}
			}
		}
	}
	return IssuedCoupon{}, ErrPoolExhausted
}

func (t *Tenant) couponByRef(ctx context.Context, pool, ref string) (IssuedCoupon, bool, error) {
	pk, sk := t.couponRefKey(pool, ref)
	var it couponRefItem
	ok, err := t.findItem(ctx, pk, sk, true, &it, "coupon")
	if ok && it.Ref != ref {
		return IssuedCoupon{}, false, problem.New(problem.Conflict, "coupon ref collides")
	}
	return it.IssuedCoupon, ok, err
}

// availableCodes reads up to 8 codes of the shard's available list after code
// after, shuffled (so concurrent issues spread over them), and the last one read.
func (t *Tenant) availableCodes(ctx context.Context, pool string, shard int, after string) ([]string, string, error) {
	var rows []struct {
		SK string `dynamo:"GSI1SK"`
	}
	q := t.table.Get(table.GSI1PK, t.couponAvailablePK(pool, shard)).Index(table.GSI1).Limit(8).ConsumedCapacity(rcc(ctx))
	if after != "" {
		q = q.Range(table.GSI1SK, dynamo.Greater, after)
	}
	if err := q.All(ctx, &rows); err != nil {
		return nil, "", translate(err, "coupon codes")
	}
	if len(rows) == 0 {
		return nil, "", nil
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.SK
	}
	last := out[len(out)-1]
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, last, nil
}

// claimCode tries to issue code: won false when another issue took it first.
func (t *Tenant) claimCode(ctx context.Context, pool string, shard int, code, memberID, ref string, more func(IssuedCoupon) []couponExtra) (IssuedCoupon, bool, error) {
	pk := t.couponShardPK(pool, shard)
	c := IssuedCoupon{Code: code, Pool: pool, MemberID: memberID, Ref: ref, IssuedAt: t.s.Now()}
	rpk, rsk := t.couponRefKey(pool, ref)
	var extra []couponExtra
	if more != nil {
		extra = more(c)
	}
	err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
		tx.Update(t.table.Update("PK", pk).Range("SK", "C#"+code).
			Set("member", memberID).Set("ref", ref).Set("issued_at", c.IssuedAt).Set("status", CouponIssued).Remove(table.GSI1PK, table.GSI1SK).
			If("attribute_exists(PK) AND attribute_not_exists(issued_at)"))
		tx.Put(t.table.Put(couponRefItem{keyed{rpk, rsk, table.TypeCouponRef, 0}, c}).If("attribute_not_exists(PK)"))
		tx.Update(t.table.Update("PK", pk).Range("SK", couponCounterSK()).Set(table.Type, table.TypeCouponShard).Add("issued", 1))
		for _, x := range extra {
			x.op(tx)
		}
	})
	if err == nil {
		return c, true, nil
	}
	for i, x := range extra {
		if condFailedAt(err, 3+i) && x.onCheck != nil {
			return IssuedCoupon{}, false, x.onCheck
		}
	}
	switch {
	case condFailedAt(err, 1):
		prev, ok, gerr := t.couponByRef(ctx, pool, ref)
		if gerr == nil && !ok {
			gerr = errors.New("coupon ref vanished")
		}
		return prev, gerr == nil, gerr
	case condFailedAt(err, 0):
		return IssuedCoupon{}, false, nil
	}
	return IssuedCoupon{}, false, translate(err, "coupon issue")
}

// IssuedCouponCode reads one code of a pool as issued; problem.NotFound when the
// pool has no such code, and a code not yet issued has no member.
func (t *Tenant) IssuedCouponCode(ctx context.Context, pool, code string) (IssuedCoupon, error) {
	var it struct {
		couponCodeItem
		MemberID string    `dynamo:"member"`
		Ref      string    `dynamo:"ref"`
		IssuedAt time.Time `dynamo:"issued_at"`
	}
	err := t.getItem(ctx, t.couponShardPK(pool, couponShard(code)), "C#"+code, true, &it, "coupon code")
	return IssuedCoupon{Code: it.Code, Pool: it.Pool, MemberID: it.MemberID, Ref: it.Ref, IssuedAt: it.IssuedAt}, err
}
