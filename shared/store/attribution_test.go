package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/store"
)

// TestAttributionMark: a member's attribution mark follows every participation
// written for it (with points, in the posting; without, by an update that raises
// its version), never falls, and says when an order cannot convert any of them; a
// member without the mark (written before it was kept, or imported) always may.
func TestAttributionMark(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	id := seedMember(t, tn, "attr", 0)
	member := func() store.Member {
		t.Helper()
		m, err := tn.Member(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := member(); store.OrderMayConvert(m, now) {
		t.Fatalf("a member with no participation may convert: %+v", m.AttributionUntil)
	}
	take := func(campaign string, points int64, ends time.Time) {
		t.Helper()
		p := store.Participate{
			Participation: store.Participation{Campaign: campaign, Occurrence: "20270301T1000Z", Member: id, Kind: store.KindWinBack,
				Status: store.ParticipationMessaged, At: now, AttributionEnds: ends},
			EffectiveAt: now, Lot: store.NeverExpires,
		}
		if points > 0 {
			p.Status, p.Reward = store.ParticipationRewarded, &store.ParticipationReward{Points: points}
		}
		if err := tn.TakePart(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	before := member().Version
	take("cmp_message", 0, now.Add(72*time.Hour))
	m := member()
	if m.Version != before+1 {
		t.Errorf("a participation without points left the version at %d (was %d)", m.Version, before)
	}
	for _, c := range []struct {
		at   time.Time
		want bool
	}{{now, true}, {now.Add(72 * time.Hour), true}, {now.Add(72*time.Hour + 2*time.Second), false}} {
		if got := store.OrderMayConvert(m, c.at); got != c.want {
			t.Errorf("after a message: order at +%v may convert %v, want %v", c.at.Sub(now), got, c.want)
		}
	}
	take("cmp_points", 10, now.Add(240*time.Hour))
	take("cmp_short", 0, now.Add(time.Hour)) // an earlier end does not lower it
	if m := member(); !store.OrderMayConvert(m, now.Add(200*time.Hour)) || store.OrderMayConvert(m, now.Add(241*time.Hour)) || m.Points != 10 {
		t.Errorf("after points and a short one: until %v, points %d", time.Unix(m.AttributionUntil, 0).Sub(now), m.Points)
	}
	parts, err := tn.Participations(ctx, id)
	if err != nil || len(parts) != 3 {
		t.Fatalf("participations %d %v", len(parts), err)
	}

	// Imported members do not keep the mark: their orders always read.
	imp := store.Member{ID: ids.New(ids.Member), Status: store.StatusActive, Stage: store.StageNew, JoinedAt: now, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := tn.ImportMembers(ctx, []store.Member{imp}); err != nil {
		t.Fatal(err)
	}
	if got, err := tn.Member(ctx, imp.ID); err != nil || !store.OrderMayConvert(got, now.Add(1000*time.Hour)) {
		t.Errorf("an imported member: %v %v", got.AttributionKept, err)
	}
}
