package system_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/store"
)

// referralEntries sums a member's ledger entries that come from referrals.
func (s *referralStand) referralEntries(member string) (sum int64, byID map[string]int64) {
	s.t.Helper()
	tn, _ := s.st.Tenant(s.tenant)
	es, err := tn.AllEntries(context.Background(), member)
	if err != nil {
		s.t.Fatal(err)
	}
	byID = map[string]int64{}
	for _, e := range es {
		if e.Source == "referral" {
			sum += e.Amount
			byID[e.ID] += e.Amount
		}
	}
	return sum, byID
}

// TestReferralMergeReChecks: merging an invitee into its referrer (through the
// API) leaves no self-referral paid: a confirmed referral's rewards (join and
// first order, both sides) come back off the survivor by one reversal keyed by
// the referral, the referral is reversed and leaves the confirmed count; a
// joined referral merged the other way (referrer into invitee) is reversed with
// its join rewards taken back; rewards of third parties stay; a replayed merge
// record takes nothing twice.
func TestReferralMergeReChecks(t *testing.T) {
	s := newReferralStand(t, map[string]any{"referrer_join_points": 10, "invitee_join_points": 5,
		"referrer_order_points": 100, "invitee_order_points": 50, "refund_window_days": 7})
	a := s.member(map[string]any{"name": "A"})
	code := s.invite(a)
	b := s.member(map[string]any{"name": "B", "referral_code": code, "identities": []map[string]string{{"provider": "generic", "external_id": "u-b"}}})
	c := s.member(map[string]any{"name": "C", "referral_code": code})
	d := s.member(map[string]any{"name": "D", "referral_code": code})
	s.drainAll()
	s.order("B-1", "u-b", 10000)
	s.drainAll()
	s.advance(8 * 24 * time.Hour)
	s.confirm()
	tn, _ := s.st.Tenant(s.tenant)
	ctx := context.Background()
	if r, _ := tn.Referral(ctx, b); r.Status != store.ReferralConfirmed {
		t.Fatalf("B before the merge: %+v", r)
	}
	if st, _ := tn.ReferrerStatsOf(ctx, a); st.Confirmed != 1 {
		t.Fatalf("confirmed before the merge = %d", st.Confirmed)
	}
	balA, _ := s.points(a)
	balB, _ := s.points(b)
	if balA != 10*3+100 {
		t.Fatalf("A before the merge = %d, want 130", balA)
	}
	bOwn := balB - 5 - 50 // B's own order points

	// B (the invitee) merged into A (the referrer).
	if code, out := s.call("POST", "/v1/members/"+a+"/merge", map[string]any{"from": b}); code != 200 {
		t.Fatalf("merge: %d %v", code, out)
	}
	s.drainAll()
	r, _ := tn.Referral(ctx, b)
	if r.Status != store.ReferralReversed || r.Reason != "merged_into_referrer" {
		t.Fatalf("B after the merge: %+v", r)
	}
	if st, _ := tn.ReferrerStatsOf(ctx, a); st.Confirmed != 0 {
		t.Errorf("confirmed after the merge = %d, want 0", st.Confirmed)
	}
	after, _ := s.points(a)
	if want := bOwn + 10*2; after != want { // B's own order points and C's and D's join rewards
		t.Errorf("A after the merge = %d, want %d (B's order points %d + C's and D's join rewards)", after, want, bOwn)
	}
	_, byID := s.referralEntries(a)
	if got := byID["referral:"+r.ID+":merge_clawback"]; got != -(10 + 5 + 100 + 50) {
		t.Errorf("claw-back entry = %d, want -165 (%v)", got, byID)
	}
	h, _ := tn.ReferralHistory(ctx, b)
	if len(h) == 0 || h[len(h)-1].From != store.ReferralConfirmed || h[len(h)-1].To != store.ReferralReversed {
		t.Errorf("history: %+v", h)
	}

	// A replayed merge record takes nothing twice.
	gone, _ := tn.Member(ctx, b)
	was := gone
	was.Status, was.MergedInto = store.StatusActive, ""
	oldRec, _ := tn.InsertRecord("m-old", "1", was)
	rec, err := tn.InsertRecord("m-replay", "2", gone)
	if err != nil {
		t.Fatal(err)
	}
	rec.EventName, rec.Change.OldImage = store.Modify, oldRec.Change.NewImage
	for i := 0; i < 2; i++ {
		if resp, err := s.sys.Streams["referral"](ctx, eventOf(rec)); err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("replay: %v %v", resp, err)
		}
	}
	if again, _ := s.points(a); again != after {
		t.Errorf("replayed merge changed A: %d → %d", after, again)
	}

	// The other way: A (the referrer) merged into C (a joined invitee).
	balC, _ := s.points(c)
	if code, out := s.call("POST", "/v1/members/"+c+"/merge", map[string]any{"from": a}); code != 200 {
		t.Fatalf("merge A into C: %d %v", code, out)
	}
	s.drainAll()
	if r, _ := tn.Referral(ctx, c); r.Status != store.ReferralReversed || r.Reason != "merged_into_referrer" {
		t.Errorf("C after the merge: %+v", r)
	}
	if got, _ := s.points(c); got != balC+after-10-5 {
		t.Errorf("C after the merge = %d, want %d (both balances less C's join rewards 15)", got, balC+after-15)
	}
	// D, a third person, keeps its referral and its welcome points.
	if r, _ := tn.Referral(ctx, d); r.Status != store.ReferralJoined {
		t.Errorf("D: %+v", r)
	}
	if got, _ := s.points(d); got != 5 {
		t.Errorf("D = %d, want 5", got)
	}
	for _, id := range []string{a, b, c} {
		_, byID := s.referralEntries(id)
		for k := range byID {
			if strings.HasSuffix(k, ":merge_clawback") && byID[k] == 0 {
				t.Errorf("%s: empty claw-back %s", id, k)
			}
		}
	}
	s.checkLedger(a, b, c, d)
}
