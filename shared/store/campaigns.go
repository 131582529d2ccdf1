package store

// Campaigns (活动策划, issue 10): the campaign item and its list. Runs, batches,
// budgets, results and participations are in campaignruns.go.

import (
	"context"
	"time"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// CampaignPrefix is the id prefix of campaigns.
const CampaignPrefix = "cmp"

// Campaign kinds.
const (
	KindBroadcast        = "broadcast"
	KindPointsMultiplier = "points_multiplier"
	KindLottery          = "lottery"
	KindFlashSale        = "flash_sale"
	KindFirstOrder       = "first_order"
	KindBirthday         = "birthday"
	KindWinBack          = "win_back"
	KindCheckInDrive     = "check_in_drive"
)

// Campaign statuses: draft → scheduled → running → completed | cancelled, and
// paused between scheduled/running and activation again.
const (
	CampaignDraft     = "draft"
	CampaignScheduled = "scheduled"
	CampaignRunning   = "running"
	CampaignPaused    = "paused"
	CampaignCompleted = "completed"
	CampaignCancelled = "cancelled"
)

// Campaign is one marketing campaign. Settings is the kind's settings as the JSON
// object the API received (a string attribute, per the contract other engineers
// read it by).
type Campaign struct {
	ID       string    `dynamo:"id" json:"id"`
	Name     string    `dynamo:"name" json:"name"`
	Kind     string    `dynamo:"kind" json:"kind"`
	Status   string    `dynamo:"status" json:"status"`
	StartsAt time.Time `dynamo:"starts_at" json:"starts_at"`
	EndsAt   time.Time `dynamo:"ends_at" json:"ends_at"`
	Settings string    `dynamo:"settings" json:"-"`
	Version  int64     `dynamo:"version" json:"version"`

	Schedule CampaignSchedule `dynamo:"schedule" json:"schedule"`
	Audience Audience         `dynamo:"audience" json:"audience"`
	Budget   Budget           `dynamo:"budget" json:"budget"`
	Reward   CampaignReward   `dynamo:"reward" json:"reward"`
	Message  *Message         `dynamo:"message,omitempty" json:"message,omitempty"`
	// AttributionDays is how long after taking part a paid order counts as a
	// conversion.
	AttributionDays int `dynamo:"attribution_days" json:"attribution_days"`
	// PointValueMinor is what 100 points cost the brand, in minor units of the
	// tenant's currency, for the results' cost.
	PointValueMinor int64 `dynamo:"point_value_minor" json:"point_value_minor"`
	// ScheduleName is the EventBridge Scheduler schedule of an active campaign.
	ScheduleName string    `dynamo:"schedule_name,omitempty" json:"-"`
	CreatedAt    time.Time `dynamo:"created_at" json:"created_at"`
	UpdatedAt    time.Time `dynamo:"updated_at" json:"updated_at"`
}

// CampaignSchedule is when a campaign runs: once At (tenant-local wall clock), or
// on Cron (EventBridge Scheduler's six fields) in Timezone.
type CampaignSchedule struct {
	At       string `dynamo:"at,omitempty" json:"at,omitempty"`
	Cron     string `dynamo:"cron,omitempty" json:"cron,omitempty"`
	Timezone string `dynamo:"timezone,omitempty" json:"timezone,omitempty"`
}

// Audience is who a run reaches: every member, or a segment.
type Audience struct {
	All     bool     `dynamo:"all,omitempty" json:"all,omitempty"`
	Segment *Segment `dynamo:"segment,omitempty" json:"segment,omitempty"`
}

// Segment is a member filter; empty fields match everything, and a member must
// match every field set.
type Segment struct {
	Tiers            []string `dynamo:"tiers,omitempty" json:"tiers,omitempty"`
	Tags             []string `dynamo:"tags,omitempty" json:"tags,omitempty"`
	Stages           []string `dynamo:"stages,omitempty" json:"stages,omitempty"`
	Channels         []string `dynamo:"channels,omitempty" json:"channels,omitempty"`
	Group            string   `dynamo:"group,omitempty" json:"group,omitempty"`
	JoinedWithinDays int      `dynamo:"joined_within_days,omitempty" json:"joined_within_days,omitempty"`
	BirthdayToday    bool     `dynamo:"birthday_today,omitempty" json:"birthday_today,omitempty"`
	Spend            *Range   `dynamo:"spend,omitempty" json:"spend,omitempty"`
	Orders           *Range   `dynamo:"orders,omitempty" json:"orders,omitempty"`
	RFM              string   `dynamo:"rfm,omitempty" json:"rfm,omitempty"`
}

// Range is an inclusive range; a nil bound is open.
type Range struct {
	Min *int64 `dynamo:"min,omitempty" json:"min,omitempty"`
	Max *int64 `dynamo:"max,omitempty" json:"max,omitempty"`
}

// Has reports whether v is in r.
func (r *Range) Has(v int64) bool {
	return r == nil || ((r.Min == nil || v >= *r.Min) && (r.Max == nil || v <= *r.Max))
}

// Budget caps what a campaign gives: points, and money (minor units: points at
// the campaign's point value, coupons at face value). Zero means no cap.
type Budget struct {
	Points     int64 `dynamo:"points,omitempty" json:"points,omitempty"`
	MoneyMinor int64 `dynamo:"money_minor,omitempty" json:"money_minor,omitempty"`
}

// Capped reports whether the budget caps anything.
func (b Budget) Capped() bool { return b.Points > 0 || b.MoneyMinor > 0 }

// CampaignReward is what a participant gets: points through the ledger, a reward
// from the catalogue, or a coupon from a pool (FaceValueMinor is its cost).
type CampaignReward struct {
	Points         int64  `dynamo:"points,omitempty" json:"points,omitempty"`
	RewardID       string `dynamo:"reward_id,omitempty" json:"reward_id,omitempty"`
	CouponPool     string `dynamo:"coupon_pool,omitempty" json:"coupon_pool,omitempty"`
	FaceValueMinor int64  `dynamo:"face_value_minor,omitempty" json:"face_value_minor,omitempty"`
}

// Message is what a campaign says to a member (campaign.message events).
type Message struct {
	Text string `dynamo:"text" json:"text"`
	Link string `dynamo:"link,omitempty" json:"link,omitempty"`
}

type campaignItem struct {
	keyed
	GSI1PK string `dynamo:"GSI1PK,omitempty"`
	GSI1SK string `dynamo:"GSI1SK,omitempty"`
	Campaign
}

// ValidCampaignID reports whether s is a campaign id.
func ValidCampaignID(s string) bool { return ids.Valid(CampaignPrefix, s) }

func (t *Tenant) campaignPK(id string) string { return t.pk("CAMPAIGN", id) }

func (t *Tenant) campaignKey(id string) (string, string) { return t.campaignPK(id), "CAMPAIGN" }

func (t *Tenant) campaignItem(c Campaign) campaignItem {
	pk, sk := t.campaignKey(c.ID)
	return campaignItem{keyed: keyed{PK: pk, SK: sk, Type: table.TypeCampaign}, GSI1PK: t.pk("CAMPAIGNS"), GSI1SK: c.ID, Campaign: c}
}

// CreateCampaign stores a new campaign.
func (t *Tenant) CreateCampaign(ctx context.Context, c Campaign) error {
	if !ValidCampaignID(c.ID) {
		return problem.Field("id", "id is not a campaign id")
	}
	err := t.table.Put(t.campaignItem(c)).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "campaign")
}

// Campaign reads one campaign.
func (t *Tenant) Campaign(ctx context.Context, id string) (Campaign, error) {
	if !ValidCampaignID(id) {
		return Campaign{}, problem.New(problem.NotFound, "campaign not found")
	}
	pk, sk := t.campaignKey(id)
	var it campaignItem
	err := t.getItem(ctx, pk, sk, true, &it, "campaign")
	return it.Campaign, err
}

// UpdateCampaign applies fn to the stored campaign and writes it if nobody changed
// it meanwhile (version), retrying a few times.
func (t *Tenant) UpdateCampaign(ctx context.Context, id string, fn func(*Campaign) error) (Campaign, error) {
	return update(5, "campaign", func() (Campaign, error) { return t.Campaign(ctx, id) }, fn,
		func(cur Campaign, next *Campaign) error {
			next.ID, next.CreatedAt = cur.ID, cur.CreatedAt
			next.Version, next.UpdatedAt = cur.Version+1, t.s.Now()
			return t.table.Put(t.campaignItem(*next)).If("version = ?", cur.Version).ConsumedCapacity(wcc(ctx)).Run(ctx)
		})
}

func campaignByID(it campaignItem) (string, Campaign) { return it.ID, it.Campaign }

// Campaigns lists the tenant's campaigns by id (creation order).
func (t *Tenant) Campaigns(ctx context.Context, limit int, cursor string) (Page[Campaign], error) {
	return indexPage(ctx, t, t.pk("CAMPAIGNS"), limit, cursor, "campaigns", t.campaignKey, campaignByID)
}

// LiveCampaigns returns the tenant's scheduled and running campaigns of the kinds
// given, for the engines that apply campaigns as events arrive (multipliers,
// first-order gifts, check-in drives). It reads the whole list: callers cache it.
func (t *Tenant) LiveCampaigns(ctx context.Context, kinds ...string) ([]Campaign, error) {
	var out []Campaign
	cursor := ""
	for {
		page, err := t.Campaigns(ctx, 100, cursor)
		if err != nil {
			return nil, err
		}
		for _, c := range page.Items {
			if c.Status != CampaignScheduled && c.Status != CampaignRunning {
				continue
			}
			for _, k := range kinds {
				if c.Kind == k {
					out = append(out, c)
				}
			}
		}
		if page.NextCursor == "" {
			return out, nil
		}
		cursor = page.NextCursor
	}
}
