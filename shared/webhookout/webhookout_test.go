package webhookout_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/table"
	"github.com/tribehq/tribe/shared/webhookout"
)

// TestSignMatchesTheStandardWebhooksVector: the test vector the Standard Webhooks
// reference libraries use.
func TestSignMatchesTheStandardWebhooksVector(t *testing.T) {
	t.Parallel()
	got, err := webhookout.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

// TestSignatureHeaderCarriesEverySecret: during a rotation both signatures go
// out, space-separated, each verifiable on its own.
func TestSignatureHeaderCarriesEverySecret(t *testing.T) {
	t.Parallel()
	a, _ := webhookout.NewSecret()
	b, _ := webhookout.NewSecret()
	if !strings.HasPrefix(a, "whsec_") || a == b {
		t.Fatalf("secrets %q %q", a, b)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if err != nil || len(key) < 24 || len(key) > 64 {
		t.Fatalf("secret key: %d bytes, %v", len(key), err)
	}
	ts := time.Unix(1795426200, 0)
	h, err := webhookout.SignatureHeader([]string{a, b}, "msg_x", ts, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, " ")
	if len(parts) != 2 {
		t.Fatalf("header %q", h)
	}
	for i, s := range []string{a, b} {
		k, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte("msg_x.1795426200.{}"))
		if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); parts[i] != want {
			t.Errorf("signature %d = %s, want %s", i, parts[i], want)
		}
	}
	if _, err := webhookout.Sign("whsec_%%%", "m", ts, nil); err == nil {
		t.Error("a malformed secret signed")
	}
}

// TestBackoffSpansAboutADay: retries at 5 s, 5 m, 30 m, 2 h, 5 h, 8 h, 8 h after
// each failure, eight attempts in all, the last about 24 h after the first.
func TestBackoffSpansAboutADay(t *testing.T) {
	t.Parallel()
	exact := func(d time.Duration) time.Duration { return d }
	start := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	at := start
	var waits []time.Duration
	for n := 1; ; n++ {
		next, ok := webhookout.NextAttempt(n, at, exact)
		if !ok {
			if n != webhookout.MaxAttempts {
				t.Errorf("gave up after attempt %d, want %d", n, webhookout.MaxAttempts)
			}
			break
		}
		waits = append(waits, next.Sub(at))
		at = next
	}
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 8 * time.Hour, 8 * time.Hour}
	if !slices.Equal(waits, want) {
		t.Errorf("waits = %v, want %v", waits, want)
	}
	if total := at.Sub(start); total < 23*time.Hour || total > 25*time.Hour {
		t.Errorf("last attempt %s after the first, want about 24 h", total)
	}
	for range 1000 {
		d := webhookout.DefaultJitter(time.Hour)
		if d < 54*time.Minute || d > 66*time.Minute {
			t.Fatalf("jitter of 1 h = %s, want within ±10 %%", d)
		}
	}
}

// TestRegistryMatchesTheCatalogue: every item type with a mapper reaches
// eventsout (its catalogue stream lists it), and the registry is open to new item
// types (the campaign participation items register here at merge).
func TestRegistryMatchesTheCatalogue(t *testing.T) {
	t.Parallel()
	fn := catalogue.MustLookup("eventsout")
	for _, typ := range webhookout.Default().ItemTypes() {
		if !slices.Contains(fn.Stream.ItemTypes, typ) {
			t.Errorf("item type %s has a mapper but eventsout does not take it", typ)
		}
	}
	for _, typ := range fn.Stream.ItemTypes {
		if typ != table.TypeWebhookDelivery && !slices.Contains(webhookout.Default().ItemTypes(), typ) {
			t.Errorf("eventsout takes %s but no mapper maps it", typ)
		}
	}
	r := webhookout.NewRegistry()
	webhookout.RegisterCampaignMappers(r)
	r.Register("campaign_participation", func(c store.Change) []webhookout.Event {
		return []webhookout.Event{webhookout.NewEvent(c.Tenant, webhookout.CampaignMessage, "p1", time.Unix(0, 0), map[string]string{"text": "hi"})}
	})
	got := r.Map(store.Change{Tenant: "ten_x", Type: "campaign_participation", Event: store.Insert})
	if len(got) != 1 || got[0].Type != webhookout.CampaignMessage || !webhookout.KnownType(got[0].Type) {
		t.Errorf("registered mapper: %+v", got)
	}
	if len(r.Map(store.Change{Type: table.TypeOrder})) != 0 {
		t.Error("an unmapped item type made events")
	}
}

func member(version int64, mod func(*store.Member)) *store.Member {
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	m := &store.Member{ID: "mem_01kq0000000000000000000000", Name: "王小明", Email: "x@example.com", Status: store.StatusActive,
		Stage: store.StageNew, Tier: "silver", Points: 10, Version: version, CreatedAt: at, UpdatedAt: at.Add(time.Duration(version) * time.Minute)}
	if mod != nil {
		mod(m)
	}
	return m
}

// TestMemberEventsAreMeaningfulAndLean: a points-only write is no member.updated;
// a profile change is, naming the field without its value; the same write
// always gives the same event id.
func TestMemberEventsAreMeaningfulAndLean(t *testing.T) {
	t.Parallel()
	reg := webhookout.Default()
	base := store.Change{Tenant: "ten_01kq0000000000000000000000", Type: table.TypeMember, Event: store.Modify}
	pointsOnly := base
	pointsOnly.Old.Member, pointsOnly.New.Member = member(1, nil), member(2, func(m *store.Member) { m.Points, m.OrderCount = 99, 3 })
	if evs := reg.Map(pointsOnly); len(evs) != 0 {
		t.Errorf("points-only change: %+v", evs)
	}
	renamed := base
	renamed.Old.Member, renamed.New.Member = member(2, nil), member(3, func(m *store.Member) { m.Name, m.Tier = "Li Lei", "gold" })
	evs := reg.Map(renamed)
	if len(evs) != 1 || evs[0].Type != webhookout.MemberUpdated {
		t.Fatalf("rename: %+v", evs)
	}
	body, _ := evs[0].Payload()
	if strings.Contains(string(body), "Li Lei") || strings.Contains(string(body), "example.com") || strings.Contains(string(body), "王") {
		t.Errorf("payload carries personal data: %s", body)
	}
	var p struct {
		Type string
		Data struct {
			Changes []string
			Tier    string
		}
	}
	_ = json.Unmarshal(body, &p)
	if p.Type != "member.updated" || !slices.Equal(p.Data.Changes, []string{"name", "tier"}) || p.Data.Tier != "gold" {
		t.Errorf("payload %s", body)
	}
	if again := reg.Map(renamed); again[0].ID != evs[0].ID || !strings.HasPrefix(evs[0].ID, "msg_") {
		t.Errorf("ids %s, %s", evs[0].ID, again[0].ID)
	}
}

// TestRedemptionIsAlsoAPosting: a redeem entry is points.posted and
// redemption.created, with distinct ids.
func TestRedemptionIsAlsoAPosting(t *testing.T) {
	t.Parallel()
	c := store.Change{Tenant: "ten_01kq0000000000000000000000", Type: table.TypeLedger, Event: store.Insert}
	c.New.Entry = &store.Entry{ID: "redeem:k1", MemberID: "mem_01kq0000000000000000000000", Type: store.EntryRedeem, Amount: -200,
		Balance: 50, Source: "redemption", SourceRef: "rwd_01kq0000000000000000000000 x2", PostedAt: time.Unix(1795426200, 0)}
	evs := webhookout.Default().Map(c)
	if len(evs) != 2 || evs[0].Type != webhookout.PointsPosted || evs[1].Type != webhookout.RedemptionCreated || evs[0].ID == evs[1].ID {
		t.Fatalf("events: %+v", evs)
	}
	body, _ := evs[1].Payload()
	if !strings.Contains(string(body), `"reward_id":"rwd_01kq0000000000000000000000","quantity":2,"points":200`) {
		t.Errorf("redemption payload %s", body)
	}
}
