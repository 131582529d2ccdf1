// Package webhookout is Tribe's events out: the committed change is the event.
// Mappers, one registry keyed by item type, turn each stream record into the
// events it means (events.go, mappers.go); the eventsout consumer fans each event
// out to the tenant's subscribed endpoints as one delivery item each, written
// only if new, and sends those deliveries off the stream (consumer.go); the
// eventdelivery sweep makes the retries the due list holds (sweep.go). Every
// request is signed the Standard Webhooks way (sign.go) and sent through the
// netguard client, so only public addresses are ever dialled.
package webhookout

import (
	"crypto/sha256"
	"encoding/json"
	"slices"
	"sort"
	"time"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/store"
)

// Event types.
const (
	MemberCreated     = "member.created"
	MemberUpdated     = "member.updated"
	PointsPosted      = "points.posted"
	TierChanged       = "tier.changed"
	RedemptionCreated = "redemption.created"
	ReferralConfirmed = "referral.confirmed"
	// Campaign events: their mappers are registered with the campaign items
	// (RegisterCampaignMappers).
	CampaignMessage       = "campaign.message"
	CampaignRewardGranted = "campaign.reward_granted"
	CouponIssued          = "coupon.issued"
)

// EventTypes are the types an endpoint may subscribe to ("*" is every one).
var EventTypes = []string{MemberCreated, MemberUpdated, PointsPosted, TierChanged, RedemptionCreated,
	ReferralConfirmed, CampaignMessage, CampaignRewardGranted, CouponIssued}

// KnownType reports whether typ is an event type.
func KnownType(typ string) bool { return slices.Contains(EventTypes, typ) }

// Event is one thing that happened in a tenant, as endpoints receive it.
type Event struct {
	// ID is the webhook-id: derived from the change, so a stream record
	// delivered again makes the same event.
	ID        string
	Type      string
	Timestamp time.Time
	// Data is the event's object: ids and what changed, no more personal data
	// than the receiver needs to act (it reads the rest through the API).
	Data any
}

// NewEvent makes the event of type typ that key names in tenant's change: the
// same tenant, type and key always give the same id.
func NewEvent(tenant, typ, key string, at time.Time, data any) Event {
	sum := sha256.Sum256([]byte(tenant + "\x00" + typ + "\x00" + key))
	return Event{ID: ids.FromHash(store.MessagePrefix, sum[:]), Type: typ, Timestamp: at.UTC(), Data: data}
}

// Payload is the body every endpoint receives: {type, timestamp, data}.
func (e Event) Payload() ([]byte, error) {
	return json.Marshal(struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      any       `json:"data"`
	}{e.Type, e.Timestamp, e.Data})
}

// Mapper turns one change into the events it means; none for most changes.
type Mapper func(store.Change) []Event

// Registry holds the mappers by item type.
type Registry struct{ mappers map[string][]Mapper }

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{mappers: map[string][]Mapper{}} }

// Register adds m for changes of items of itemType (a table.Type… constant). The
// eventsout catalogue entry must list the item type, or no record of it arrives.
func (r *Registry) Register(itemType string, m Mapper) {
	r.mappers[itemType] = append(r.mappers[itemType], m)
}

// ItemTypes are the item types with a mapper, sorted.
func (r *Registry) ItemTypes() []string {
	out := make([]string, 0, len(r.mappers))
	for t := range r.mappers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Map returns the events of c, in the order the mappers give them.
func (r *Registry) Map(c store.Change) []Event {
	var out []Event
	for _, m := range r.mappers[c.Type] {
		out = append(out, m(c)...)
	}
	return out
}

// Default is the registry of every event Tribe produces today.
func Default() *Registry {
	r := NewRegistry()
	registerCore(r)
	RegisterCampaignMappers(r)
	return r
}
