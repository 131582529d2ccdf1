package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/table"
)

func TestDecodeChange(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, newStore(t))
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ord := store.OrderRecord{Provider: "shopify", IntegrationID: "int_x", Order: order.Order{ExternalID: "o1", Currency: "CNY",
		TotalMinor: 599, PaidAt: at, Customer: order.Customer{ExternalID: "c1"}}}
	chat := store.ChatEventRecord{IntegrationID: "int_x", Platform: "telegram", Kind: "message", UserID: "42", Text: "签到", At: at, DedupeKey: "d1"}
	tests := []struct {
		name  string
		rec   any
		typ   string
		check func(store.Image) bool
	}{
		{"order", ord, table.TypeOrder, func(im store.Image) bool {
			return im.Order != nil && im.Order.Customer.ExternalID == "c1" && im.Order.PaidAt.Equal(at) && im.ChatEvent == nil
		}},
		{"refund", store.RefundRecord{Provider: "shopify", IntegrationID: "int_x", Refund: order.Refund{ExternalID: "r1", OrderExternalID: "o1", AmountMinor: 100}},
			table.TypeRefund, func(im store.Image) bool { return im.Refund != nil && im.Refund.AmountMinor == 100 }},
		{"customer", store.CustomerRecord{Provider: "shopify", Customer: order.Customer{ExternalID: "c1", Email: "a@b.c"}},
			table.TypeCustomer, func(im store.Image) bool { return im.Customer != nil && im.Customer.Email == "a@b.c" }},
		{"chat event", chat, table.TypeChatEvent, func(im store.Image) bool { return im.ChatEvent != nil && im.ChatEvent.Text == "签到" }},
		{"participation", store.Participation{Campaign: "cmp_x", Occurrence: "2026-11-23", Member: "mem_x", Status: store.ParticipationRewarded,
			Reward: &store.ParticipationReward{Points: 50}, Message: &store.Message{Text: "hi"}, At: at}, table.TypeCampaignParticipation,
			func(im store.Image) bool {
				return im.Participation != nil && im.Participation.Reward.Points == 50 && im.Participation.Message.Text == "hi"
			}},
		{"lottery winner", store.LotteryWinner{CampaignID: "cmp_x", Prize: 1, Slot: 2, MemberID: "mem_x", Status: store.WinnerGranted, RewardID: "rwd_x", GrantedAt: at},
			table.TypeLotteryWinner, func(im store.Image) bool {
				return im.LotteryWinner != nil && im.LotteryWinner.CampaignID == "cmp_x" && im.LotteryWinner.Slot == 2 && im.LotteryWinner.GrantedAt.Equal(at)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tn.InsertRecord("e1", "1", tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			c, err := store.DecodeChange(r)
			if err != nil {
				t.Fatal(err)
			}
			if c.Event != store.Insert || c.Tenant != tn.ID() || c.Type != tt.typ || c.Partition == "" {
				t.Errorf("change = %+v", c)
			}
			if !tt.check(c.New) || c.Old != (store.Image{}) {
				t.Errorf("new %+v, old %+v", c.New, c.Old)
			}
		})
	}
}

// A member's modification decodes both sides; an item of no tenant is refused.
func TestDecodeChangeOfMembers(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	tn := newTenant(t, st)
	ctx := context.Background()
	if _, err := tn.ResolveMember(ctx, store.Contact{Provider: "telegram", ExternalID: "42", Name: "小明"}, ""); err != nil {
		t.Fatal(err)
	}
	id, err := tn.FindMember(ctx, store.Contact{Provider: "telegram", ExternalID: "42"})
	if err != nil || id == "" {
		t.Fatalf("find: %q %v", id, err)
	}
	m, err := tn.Member(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	img := func(status string) map[string]events.DynamoDBAttributeValue {
		return map[string]events.DynamoDBAttributeValue{
			table.PK: events.NewStringAttribute("T#" + tn.ID() + "#M#" + m.ID), table.Type: events.NewStringAttribute(table.TypeMember),
			"status": events.NewStringAttribute(status), "name": events.NewStringAttribute(m.Name),
		}
	}
	c, err := store.DecodeChange(events.DynamoDBEventRecord{EventName: "MODIFY", Change: events.DynamoDBStreamRecord{
		OldImage: img(store.StatusActive), NewImage: img(store.StatusErased)}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Old.Member == nil || c.New.Member == nil || c.Old.Member.Status != store.StatusActive || c.New.Member.Status != store.StatusErased || c.New.Member.Name != "小明" {
		t.Errorf("change = %+v", c)
	}
	_, err = store.DecodeChange(events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{
		NewImage: map[string]events.DynamoDBAttributeValue{table.PK: events.NewStringAttribute("nobody")}}})
	if !errors.Is(err, store.ErrNotTenantItem) {
		t.Errorf("no tenant: %v", err)
	}
}

// FindMember creates nobody; ResolveMember creates once and finds by verified email
// after; an unverified email finds no one and becomes no identity.
func TestResolveMember(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, newStore(t))
	ctx := context.Background()
	c := store.Contact{Provider: "shopify", ExternalID: "c9", Email: " Li@Example.com ", EmailVerified: true, Name: "Li"}
	if id, err := tn.FindMember(ctx, c); id != "" || err != nil {
		t.Fatalf("find before: %q %v", id, err)
	}
	if id, err := tn.FindMember(ctx, c); id != "" || err != nil {
		t.Fatalf("find created someone: %q %v", id, err)
	}
	id, err := tn.ResolveMember(ctx, c, "")
	if err != nil || id == "" {
		t.Fatalf("resolve: %q %v", id, err)
	}
	again, err := tn.ResolveMember(ctx, store.Contact{Provider: "woocommerce", Email: "li@example.com", EmailVerified: true}, "")
	if err != nil || again != id {
		t.Errorf("by email: %q %v, want %q", again, err, id)
	}
	if guest, err := tn.ResolveMember(ctx, store.Contact{Provider: "woocommerce", Email: "li@example.com"}, ""); guest != "" || err != nil {
		t.Errorf("unverified email: %q %v, want no one", guest, err)
	}
	other, err := tn.ResolveMember(ctx, store.Contact{Provider: "woocommerce", ExternalID: "w1", Email: "li@example.com", Phone: "+8613800000000"}, "")
	if err != nil || other == "" || other == id {
		t.Errorf("unverified email with a shop id: %q %v, want a member of its own", other, err)
	}
	if idents, _ := tn.Identities(ctx, other); len(idents) != 1 {
		t.Errorf("unverified contacts became identities: %+v", idents)
	}
	if guest, err := tn.ResolveMember(ctx, store.Contact{Provider: "shopify", Name: "guest"}, ""); guest != "" || err != nil {
		t.Errorf("guest: %q %v", guest, err)
	}
}
