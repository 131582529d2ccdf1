package catalogue_test

import (
	"slices"
	"testing"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/table"
)

// record is a stream record as Lambda's event filtering sees it.
func record(event, oldType, newType, newStatus string) map[string]any {
	ddb := map[string]any{}
	if oldType != "" {
		ddb["OldImage"] = map[string]any{table.Type: map[string]any{"S": oldType}}
	}
	if newType != "" {
		img := map[string]any{table.Type: map[string]any{"S": newType}}
		if newStatus != "" {
			img[table.Status] = map[string]any{"S": newStatus}
		}
		ddb["NewImage"] = img
	}
	return map[string]any{"eventName": event, "dynamodb": ddb}
}

func matches(s catalogue.Stream, doc map[string]any) bool {
	return slices.ContainsFunc(s.Patterns(), func(p map[string]any) bool { return catalogue.MatchPattern(p, doc) })
}

func TestStreamPatternsSelectEventNames(t *testing.T) {
	t.Parallel()
	counters := catalogue.MustLookup("counters").Stream
	community := catalogue.MustLookup("community").Stream
	ledger := catalogue.MustLookup("ledger").Stream
	eventsout := catalogue.MustLookup("eventsout").Stream
	m := table.TypeMember
	for _, c := range []struct {
		name   string
		stream *catalogue.Stream
		record map[string]any
		want   bool
	}{
		// GIVEN each consumer's catalogue stream and a record
		{"counters: member created", counters, record("INSERT", "", m, store.StatusActive), true},
		{"counters: points posted to a member (check-ins, activity, stage)", counters, record("MODIFY", m, m, store.StatusActive), true},
		{"counters: member erased", counters, record("MODIFY", m, m, store.StatusErased), true},
		{"counters: member merged", counters, record("MODIFY", m, m, store.StatusMerged), true},
		{"counters: member deleted", counters, record("REMOVE", m, "", ""), false},
		{"counters: order (GMV per currency)", counters, record("INSERT", "", table.TypeOrder, ""), true},
		{"counters: order marked posted", counters, record("MODIFY", table.TypeOrder, table.TypeOrder, ""), false},
		{"counters: chat event expired", counters, record("REMOVE", table.TypeChatEvent, "", ""), false},
		{"counters: group membership removed (a leave)", counters, record("REMOVE", table.TypeGroupMember, "", ""), true},
		{"counters: ledger posting", counters, record("INSERT", "", table.TypeLedger, ""), true},
		{"community: chat event stored", community, record("INSERT", "", table.TypeChatEvent, ""), true},
		{"community: chat event expired", community, record("REMOVE", table.TypeChatEvent, "", ""), false},
		{"ledger: order", ledger, record("INSERT", "", table.TypeOrder, ""), true},
		{"ledger: refund", ledger, record("INSERT", "", table.TypeRefund, ""), true},
		{"ledger: order updated", ledger, record("MODIFY", table.TypeOrder, table.TypeOrder, ""), false},
		{"ledger: order expired", ledger, record("REMOVE", table.TypeOrder, "", ""), false},
		{"eventsout: coupon code uploaded", eventsout, record("INSERT", "", table.TypeCouponCode, ""), false},
		{"eventsout: coupon code issued", eventsout, record("MODIFY", table.TypeCouponCode, table.TypeCouponCode, store.CouponIssued), true},
		{"eventsout: campaign participation", eventsout, record("INSERT", "", table.TypeCampaignParticipation, store.ParticipationRewarded), true},
		{"eventsout: participation converted", eventsout, record("MODIFY", table.TypeCampaignParticipation, table.TypeCampaignParticipation, store.ParticipationRewarded), false},
		{"eventsout: lottery winner", eventsout, record("INSERT", "", table.TypeLotteryWinner, store.WinnerGranted), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			// WHEN its patterns are applied THEN only the events it acts on pass
			if got := matches(*c.stream, c.record); got != c.want {
				t.Errorf("matches = %v, want %v (patterns %v)", got, c.want, c.stream.Patterns())
			}
		})
	}
}

func TestRemovePatternsMatchTheOldImage(t *testing.T) {
	t.Parallel()
	// GIVEN a stream taking removals of members
	s := catalogue.Stream{ItemTypes: []string{table.TypeMember}, Events: []string{catalogue.EventRemove}}

	// WHEN a member is deleted, and when one is created
	// THEN only the deletion passes, matched on its old image
	if !matches(s, record("REMOVE", table.TypeMember, "", "")) {
		t.Error("removal of a member filtered out")
	}
	if matches(s, record("INSERT", "", table.TypeMember, "")) {
		t.Error("insert of a member passed a REMOVE-only filter")
	}
}
