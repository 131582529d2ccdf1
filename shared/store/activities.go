package store

// Activities: what members do besides ordering (joining a group, speaking in it,
// completing their profile, what the brand's app reports) and what each earned.
// An activity is posted through the ledger (Post) with three kinds of extra
// writes in the same transaction: its record under its source key, written only
// if new (so a redelivery earns once); a copy by time for the member's list; and
// the counters of its caps, incremented only while below the cap (so concurrent
// postings never pass it).

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// ActivityRule is what one activity earns (积分获取): Points each time, at most
// DailyCap times per member and tenant-local day and LifetimeCap times ever (0 is
// no cap). With OncePerRef a ref earns once ever; without it, once per local day.
type ActivityRule struct {
	Activity    string `dynamo:"activity" json:"activity"`
	Points      int64  `dynamo:"points" json:"points"`
	DailyCap    int64  `dynamo:"daily_cap" json:"daily_cap"`
	LifetimeCap int64  `dynamo:"lifetime_cap" json:"lifetime_cap"`
	OncePerRef  bool   `dynamo:"once_per_ref" json:"once_per_ref"`
}

// Activity is one thing a member did and what it earned.
type Activity struct {
	MemberID string `dynamo:"member_id" json:"member_id"`
	Type     string `dynamo:"activity" json:"type"`
	Ref      string `dynamo:"ref" json:"ref"`
	// Key is the activity's source key: its ledger entry id and what makes it once.
	Key        string    `dynamo:"key" json:"-"`
	OccurredAt time.Time `dynamo:"occurred_at" json:"occurred_at"`
	RecordedAt time.Time `dynamo:"recorded_at" json:"recorded_at"`
	// Points is what it earned; Capped says why it earned nothing when it would
	// have (CapDaily, CapLifetime).
	Points int64  `dynamo:"points" json:"points"`
	Capped string `dynamo:"capped,omitempty" json:"capped,omitempty"`
}

// Why an activity earned nothing.
const (
	CapDaily    = "daily_cap"
	CapLifetime = "lifetime_cap"
)

// ErrCapReached says an activity's cap counter is at its cap; Cap names which.
type ErrCapReached struct{ Cap string }

func (e *ErrCapReached) Error() string { return "store: activity " + e.Cap + " reached" }

type activityItem struct {
	keyed
	Activity
}

type counterItem struct {
	keyed
	Count int64 `dynamo:"count"`
}

// activityKey is the record of an activity by its source key; activityLogKey its
// copy by time, for the list; counterKey a cap's counter (day "" is the lifetime).
func (t *Tenant) activityKey(memberID, key string) (string, string) {
	return t.pk("M", memberID), "AK#" + key
}

func (t *Tenant) activityLogKey(a Activity) (string, string) {
	return t.pk("M", a.MemberID), "A#" + a.OccurredAt.UTC().Format("2006-01-02T15:04:05.000Z") + "#" + a.Key
}

func (t *Tenant) counterKey(memberID, activity, day string) (string, string) {
	if day == "" {
		return t.pk("M", memberID), "AC#" + activity + "#ALL"
	}
	return t.pk("M", memberID), "AC#" + activity + "#D#" + day
}

// activityPuts adds a's record (only if new; ErrAlreadyPosted otherwise) and its
// list copy to tx.
func (t *Tenant) activityPuts(tx *dynamo.WriteTx, a Activity) {
	pk, sk := t.activityKey(a.MemberID, a.Key)
	lpk, lsk := t.activityLogKey(a)
	tx.Put(t.table.Put(activityItem{keyed{pk, sk, table.TypeActivityKey, 0}, a}).If("attribute_not_exists(PK)"))
	tx.Put(t.table.Put(activityItem{keyed{lpk, lsk, table.TypeActivity, 0}, a}))
}

// ActivityWrite makes posting p record activity a with it. The posting fails with
// ErrAlreadyPosted when a's key was recorded before (whatever its time).
func (t *Tenant) ActivityWrite(p *Posting, a Activity) {
	// The record first: when an activity seen before also meets a full cap, it is
	// reported as seen.
	p.extra = append(p.extra, extraWrite{op: func(tx *dynamo.WriteTx) {
		pk, sk := t.activityKey(a.MemberID, a.Key)
		tx.Put(t.table.Put(activityItem{keyed{pk, sk, table.TypeActivityKey, 0}, a}).If("attribute_not_exists(PK)"))
	}, onCheck: ErrAlreadyPosted})
	p.extra = append(p.extra, extraWrite{op: func(tx *dynamo.WriteTx) {
		lpk, lsk := t.activityLogKey(a)
		tx.Put(t.table.Put(activityItem{keyed{lpk, lsk, table.TypeActivity, 0}, a}))
	}})
}

// CapWrite makes posting p count one more of activity for the member on day (a
// tenant-local date; "" counts the lifetime), only while the count is below limit:
// the posting fails with *ErrCapReached otherwise. Daily counters expire after
// their day has long passed.
func (t *Tenant) CapWrite(p *Posting, memberID, activity, day string, limit int64) {
	pk, sk := t.counterKey(memberID, activity, day)
	cap := CapLifetime
	var expires int64
	if day != "" {
		cap = CapDaily
		if d, err := time.Parse(time.DateOnly, day); err == nil {
			expires = d.AddDate(0, 0, 3).Unix()
		}
	}
	p.extra = append(p.extra, extraWrite{op: func(tx *dynamo.WriteTx) {
		u := t.table.Update("PK", pk).Range("SK", sk).Add("count", 1).Set("type", table.TypeActivityCount).
			If("attribute_not_exists('count') OR 'count' < ?", limit)
		if expires > 0 {
			u = u.Set(table.TTL, expires)
		}
		tx.Update(u)
	}, onCheck: &ErrCapReached{Cap: cap}})
}

// RecordActivity records an activity that earned nothing (no rule points, or a
// cap reached), without a ledger entry. It returns ErrAlreadyPosted when a's key
// was recorded before.
func (t *Tenant) RecordActivity(ctx context.Context, a Activity) error {
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	t.activityPuts(tx, a)
	err := tx.Run(ctx)
	if condFailedAt(err, 0) {
		return ErrAlreadyPosted
	}
	return translate(err, "activity")
}

// ActivityByKey returns the activity recorded under source key.
func (t *Tenant) ActivityByKey(ctx context.Context, memberID, key string) (Activity, error) {
	pk, sk := t.activityKey(memberID, key)
	var it activityItem
	err := t.getItem(ctx, pk, sk, true, &it, "activity")
	return it.Activity, err
}

// ActivityCount is how often the activity counted towards its cap on day ("" for
// the lifetime).
func (t *Tenant) ActivityCount(ctx context.Context, memberID, activity, day string) (int64, error) {
	pk, sk := t.counterKey(memberID, activity, day)
	var it counterItem
	if found, err := t.findItem(ctx, pk, sk, true, &it, "activity count"); !found {
		return 0, err
	}
	return it.Count, nil
}

// Activities lists a member's activities, newest first.
func (t *Tenant) Activities(ctx context.Context, memberID string, limit int, cursor string) (Page[Activity], error) {
	pk, _ := t.memberKey(memberID)
	q := t.table.Get("PK", pk).Order(dynamo.Descending).Limit(limit).ConsumedCapacity(rcc(ctx))
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if cursor = string(raw); err != nil || !strings.HasPrefix(cursor, "A#") || len(cursor) > 600 {
			return Page[Activity]{}, problem.Field("cursor", "cursor is not one this API returned")
		}
		// Older than the cursor; nothing of a member sorts below "A#" but keep
		// activities only all the same.
		q = q.Range("SK", dynamo.Less, cursor).Filter("$ = ?", table.Type, table.TypeActivity)
	} else {
		q = q.Range("SK", dynamo.BeginsWith, "A#")
	}
	return queryPage(ctx, q, limit, "activities",
		func(it activityItem) Activity { return it.Activity },
		// Opaque and safe in a query string as it is.
		func(it activityItem) string { return base64.RawURLEncoding.EncodeToString([]byte(it.SK)) })
}

// MonthDay is the MM-DD of a birthday given as YYYY-MM-DD or MM-DD; "" when none.
func MonthDay(birthday string) string {
	switch len(birthday) {
	case len("2006-01-02"):
		return birthday[5:]
	case len("01-02"):
		return birthday
	}
	return ""
}

type birthdayItem struct {
	keyed
	MemberID string `dynamo:"member_id"`
}

// birthdayKey lists a member under the month-day of its birthday, so the birthday
// job reads only today's members.
func (t *Tenant) birthdayKey(monthDay, memberID string) (string, string) {
	return t.pk("BDAY", monthDay), memberID
}

// birthdayWrites keeps the birthday list in step with a member change from cur to
// next, in the member's transaction.
func (t *Tenant) birthdayWrites(tx *dynamo.WriteTx, cur, next Member) {
	was, is := MonthDay(cur.Birthday), MonthDay(next.Birthday)
	if was == is {
		return
	}
	if was != "" {
		pk, sk := t.birthdayKey(was, cur.ID)
		tx.Delete(t.table.Delete("PK", pk).Range("SK", sk))
	}
	if is != "" {
		pk, sk := t.birthdayKey(is, next.ID)
		tx.Put(t.table.Put(birthdayItem{keyed{pk, sk, table.TypeBirthday, 0}, next.ID}))
	}
}

// BirthdaysOn calls fn with the id of every member listed under monthDay (MM-DD).
// The list may name members whose birthday has since moved or who were erased:
// check the member, and DropBirthday stale entries.
func (t *Tenant) BirthdaysOn(ctx context.Context, monthDay string, fn func(memberID string) error) error {
	pk, _ := t.birthdayKey(monthDay, "")
	it := t.table.Get("PK", pk).Limit(500).ConsumedCapacity(rcc(ctx)).Iter()
	var row birthdayItem
	for it.Next(ctx, &row) {
		if err := fn(row.MemberID); err != nil {
			return err
		}
	}
	return translate(it.Err(), "birthdays")
}

// DropBirthday takes a member off the monthDay list.
func (t *Tenant) DropBirthday(ctx context.Context, monthDay, memberID string) error {
	pk, sk := t.birthdayKey(monthDay, memberID)
	return translate(t.table.Delete("PK", pk).Range("SK", sk).ConsumedCapacity(wcc(ctx)).Run(ctx), "birthday")
}

// BirthdayRunDone reports whether the birthday job finished for the tenant-local
// day; MarkBirthdayRun records that it did (kept a week).
func (t *Tenant) BirthdayRunDone(ctx context.Context, day string) (bool, error) {
	var it keyed
	return t.findItem(ctx, t.pk("BDAYRUN"), day, false, &it, "birthday run")
}

// MarkBirthdayRun records that the birthday job finished for day.
func (t *Tenant) MarkBirthdayRun(ctx context.Context, day string) error {
	it := keyed{t.pk("BDAYRUN"), day, table.TypeBirthdayRun, t.s.Now().AddDate(0, 0, 7).Unix()}
	return translate(t.table.Put(it).ConsumedCapacity(wcc(ctx)).Run(ctx), "birthday run")
}
