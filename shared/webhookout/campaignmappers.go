package webhookout

import (
	"strconv"

	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/table"
)

// Campaign events: campaign.message and campaign.reward_granted from campaign
// participations (written once, on insert) and lottery winners (written once
// each), coupon.issued from a coupon code's issue (the MODIFY that sets its
// member, ref and issue time; a code is issued once).

type messageData struct {
	Campaign   string        `json:"campaign_id"`
	Occurrence string        `json:"occurrence"`
	MemberID   string        `json:"member_id"`
	Message    store.Message `json:"message"`
}

type rewardData struct {
	Campaign   string `json:"campaign_id"`
	Occurrence string `json:"occurrence,omitempty"`
	MemberID   string `json:"member_id"`
	Reward     reward `json:"reward"`
}

type reward struct {
	Points     int64  `json:"points,omitempty"`
	RewardID   string `json:"reward_id,omitempty"`
	CouponPool string `json:"coupon_pool,omitempty"`
	CouponCode string `json:"coupon_code,omitempty"`
	// Prize names a lottery prize (its name and slot), for winners only.
	Prize     string `json:"prize,omitempty"`
	PrizeSlot *int   `json:"prize_slot,omitempty"`
}

func (r reward) empty() bool { return r.Points <= 0 && r.RewardID == "" && r.CouponCode == "" }

type couponData struct {
	Pool     string `json:"pool_id"`
	Code     string `json:"code"`
	MemberID string `json:"member_id"`
	Ref      string `json:"ref"`
}

// mapParticipation: one campaign.message per participation that carries a
// message, one campaign.reward_granted per rewarded one; a participation is
// one member's in one occurrence, so campaign, occurrence and member are the key.
func mapParticipation(c store.Change) []Event {
	p := c.New.Participation
	if c.Event != store.Insert || p == nil {
		return nil
	}
	key := p.Campaign + "#" + p.Occurrence + "#" + p.Member
	var out []Event
	if p.Message != nil && p.Message.Text != "" {
		out = append(out, NewEvent(c.Tenant, CampaignMessage, key, p.At,
			messageData{Campaign: p.Campaign, Occurrence: p.Occurrence, MemberID: p.Member, Message: *p.Message}))
	}
	if p.Reward != nil && p.Status == store.ParticipationRewarded {
		r := reward{Points: p.Reward.Points, RewardID: p.Reward.RewardID, CouponCode: p.Reward.CouponCode}
		if !r.empty() {
			out = append(out, NewEvent(c.Tenant, CampaignRewardGranted, "P#"+key, p.At,
				rewardData{Campaign: p.Campaign, Occurrence: p.Occurrence, MemberID: p.Member, Reward: r}))
		}
	}
	return out
}

// mapLotteryWinner: campaign.reward_granted for a granted winning slot (a
// skipped one gave nothing). Each slot is written once, so it is the key.
func mapLotteryWinner(c store.Change) []Event {
	w := c.New.LotteryWinner
	if c.Event != store.Insert || w == nil || w.Status != store.WinnerGranted {
		return nil
	}
	slot := w.Slot
	r := reward{Points: w.Points, RewardID: w.RewardID, CouponPool: w.CouponPool, CouponCode: w.CouponCode, Prize: w.PrizeName, PrizeSlot: &slot}
	if r.empty() {
		return nil
	}
	key := "W#" + w.CampaignID + "#" + strconv.Itoa(w.Prize) + "#" + strconv.Itoa(w.Slot)
	return []Event{NewEvent(c.Tenant, CampaignRewardGranted, key, w.GrantedAt,
		rewardData{Campaign: w.CampaignID, MemberID: w.MemberID, Reward: r})}
}

// mapCouponCode: coupon.issued when a code becomes issued (its old image has
// no issue time). A code is issued once, so pool and code are the key.
func mapCouponCode(c store.Change) []Event {
	n, o := c.New.CouponCode, c.Old.CouponCode
	if n == nil || n.IssuedAt.IsZero() || n.MemberID == "" || (o != nil && !o.IssuedAt.IsZero()) {
		return nil
	}
	return []Event{NewEvent(c.Tenant, CouponIssued, n.Pool+"#"+n.Code, n.IssuedAt,
		couponData{Pool: n.Pool, Code: n.Code, MemberID: n.MemberID, Ref: n.Ref})}
}

// RegisterCampaignMappers registers campaign.message, campaign.reward_granted
// and coupon.issued by their items; the eventsout catalogue entry lists them.
func RegisterCampaignMappers(r *Registry) {
	r.Register(table.TypeCampaignParticipation, mapParticipation)
	r.Register(table.TypeLotteryWinner, mapLotteryWinner)
	r.Register(table.TypeCouponCode, mapCouponCode)
}
