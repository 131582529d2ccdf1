package webhookout_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/table"
	"github.com/tribehq/tribe/shared/webhookout"
)

const campTenant = "ten_01kq0000000000000000000000"

func participation(mod func(*store.Participation)) store.Change {
	c := store.Change{Tenant: campTenant, Type: table.TypeCampaignParticipation, Event: store.Insert}
	p := &store.Participation{Campaign: "cmp_01kq0000000000000000000000", Occurrence: "2026-11-28", Member: "mem_01kq0000000000000000000000",
		Kind: "birthday", Status: store.ParticipationMessaged, At: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	if mod != nil {
		mod(p)
	}
	c.New.Participation = p
	return c
}

func types(evs []webhookout.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// TestParticipationEvents: a message is campaign.message, a reward is
// campaign.reward_granted, both when a participation has both; the same
// participation gives the same ids; a conversion (MODIFY) gives nothing.
func TestParticipationEvents(t *testing.T) {
	t.Parallel()
	reg := webhookout.Default()
	if evs := reg.Map(participation(nil)); len(evs) != 0 {
		t.Errorf("participation without message or reward: %v", types(evs))
	}
	msg := participation(func(p *store.Participation) {
		p.Message = &store.Message{Text: "生日快乐", Link: "https://shop.example/b"}
	})
	evs := reg.Map(msg)
	if len(evs) != 1 || evs[0].Type != webhookout.CampaignMessage {
		t.Fatalf("message: %v", types(evs))
	}
	body, _ := evs[0].Payload()
	for _, want := range []string{`"campaign_id":"cmp_01kq0000000000000000000000"`, `"occurrence":"2026-11-28"`,
		`"member_id":"mem_01kq0000000000000000000000"`, `"message":{"text":"生日快乐","link":"https://shop.example/b"}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("message payload %s lacks %s", body, want)
		}
	}
	both := participation(func(p *store.Participation) {
		p.Status, p.Message, p.Reward = store.ParticipationRewarded, &store.Message{Text: "hi"}, &store.ParticipationReward{Points: 100, CouponCode: "SALE-1"}
	})
	evs = reg.Map(both)
	if len(evs) != 2 || evs[0].Type != webhookout.CampaignMessage || evs[1].Type != webhookout.CampaignRewardGranted || evs[0].ID == evs[1].ID {
		t.Fatalf("message and reward: %+v", evs)
	}
	body, _ = evs[1].Payload()
	if !strings.Contains(string(body), `"reward":{"points":100,"coupon_code":"SALE-1"}`) {
		t.Errorf("reward payload %s", body)
	}
	if again := reg.Map(both); again[1].ID != evs[1].ID || again[0].ID != evs[0].ID {
		t.Error("the same participation gave other ids")
	}
	other := participation(func(p *store.Participation) { p.Occurrence, p.Message = "2026-11-29", &store.Message{Text: "hi"} })
	if reg.Map(other)[0].ID == evs[0].ID {
		t.Error("another occurrence gave the same id")
	}
	converted := both
	converted.Event, converted.Old = store.Modify, store.Image{Participation: both.New.Participation}
	if evs := reg.Map(converted); len(evs) != 0 {
		t.Errorf("a conversion made events: %v", types(evs))
	}
	empty := participation(func(p *store.Participation) {
		p.Status, p.Reward = store.ParticipationRewarded, &store.ParticipationReward{}
	})
	if evs := reg.Map(empty); len(evs) != 0 {
		t.Errorf("an empty reward: %v", types(evs))
	}
}

// TestLotteryWinnerEvents: a granted slot is campaign.reward_granted, keyed by
// its slot; a skipped one is nothing.
func TestLotteryWinnerEvents(t *testing.T) {
	t.Parallel()
	reg := webhookout.Default()
	winner := func(slot int, status string) store.Change {
		c := store.Change{Tenant: campTenant, Type: table.TypeLotteryWinner, Event: store.Insert}
		c.New.LotteryWinner = &store.LotteryWinner{CampaignID: "cmp_01kq0000000000000000000000", Prize: 0, Slot: slot, PrizeName: "一等奖",
			MemberID: "mem_01kq0000000000000000000000", Status: status, CouponPool: "cpl_x", CouponCode: "WIN-7", GrantedAt: time.Unix(1795426200, 0)}
		return c
	}
	evs := reg.Map(winner(0, store.WinnerGranted))
	if len(evs) != 1 || evs[0].Type != webhookout.CampaignRewardGranted {
		t.Fatalf("granted winner: %+v", evs)
	}
	body, _ := evs[0].Payload()
	if !strings.Contains(string(body), `"campaign_id":"cmp_01kq0000000000000000000000","member_id":"mem_01kq0000000000000000000000","reward":{"coupon_pool":"cpl_x","coupon_code":"WIN-7","prize":"一等奖","prize_slot":0}`) {
		t.Errorf("winner payload %s", body)
	}
	if next := reg.Map(winner(1, store.WinnerGranted)); next[0].ID == evs[0].ID {
		t.Error("two slots, one id")
	}
	if evs := reg.Map(winner(2, store.WinnerSkipped)); len(evs) != 0 {
		t.Errorf("skipped winner: %v", types(evs))
	}
}

// TestCouponIssuedOnce: the MODIFY that issues a code is coupon.issued with
// pool, code, member and ref only; an upload (insert of an unissued code) and
// a later write of an issued code are not.
func TestCouponIssuedOnce(t *testing.T) {
	t.Parallel()
	reg := webhookout.Default()
	unissued := &store.IssuedCoupon{Code: "SALE-1", Pool: "cpl_01kq0000000000000000000000"}
	issued := &store.IssuedCoupon{Code: "SALE-1", Pool: "cpl_01kq0000000000000000000000", MemberID: "mem_01kq0000000000000000000000",
		Ref: "flash:cmp_x:mem_x", IssuedAt: time.Unix(1795426200, 0)}
	upload := store.Change{Tenant: campTenant, Type: table.TypeCouponCode, Event: store.Insert, New: store.Image{CouponCode: unissued}}
	if evs := reg.Map(upload); len(evs) != 0 {
		t.Errorf("upload: %v", types(evs))
	}
	issue := store.Change{Tenant: campTenant, Type: table.TypeCouponCode, Event: store.Modify,
		Old: store.Image{CouponCode: unissued}, New: store.Image{CouponCode: issued}}
	evs := reg.Map(issue)
	if len(evs) != 1 || evs[0].Type != webhookout.CouponIssued || !evs[0].Timestamp.Equal(issued.IssuedAt) {
		t.Fatalf("issue: %+v", evs)
	}
	body, _ := evs[0].Payload()
	if want := `"data":{"pool_id":"cpl_01kq0000000000000000000000","code":"SALE-1","member_id":"mem_01kq0000000000000000000000","ref":"flash:cmp_x:mem_x"}`; !strings.Contains(string(body), want) {
		t.Errorf("payload %s, want %s", body, want)
	}
	if again := reg.Map(issue); again[0].ID != evs[0].ID {
		t.Error("a redelivered issue gave another id")
	}
	rewrite := issue
	rewrite.Old.CouponCode = issued
	if evs := reg.Map(rewrite); len(evs) != 0 {
		t.Errorf("rewrite of an issued code: %v", types(evs))
	}
}
