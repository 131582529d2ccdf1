package settings_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

func TestDayAndBaseTier(t *testing.T) {
	t.Parallel()
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	s := settings.Settings{Location: sh}
	at := time.Date(2026, 11, 27, 16, 30, 0, 0, time.UTC) // 00:30 on the 28th in Shanghai
	if got, want := s.Day(at), "2026-11-28"; got != want {
		t.Errorf("day: got %s, want %s", got, want)
	}
	if got := s.BaseTier(); got != "" {
		t.Errorf("base tier without a ladder: got %q, want none", got)
	}
	s.Loyalty.Tiers = []store.Tier{{Name: "silver"}, {Name: "gold"}}
	if got, want := s.BaseTier(), "silver"; got != want {
		t.Errorf("base tier: got %q, want %q", got, want)
	}
}

func TestReaderCachesUntilForgetOrTTL(t *testing.T) {
	t.Parallel()
	_, name := dynamotest.Table(t)
	st, err := store.New(dynamo.New(dynamolocal.Config(dynamotest.Endpoint(t))), name)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)
	st.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ctx := context.Background()
	info := store.TenantInfo{ID: ids.New(ids.Tenant), Name: "T", Timezone: "Asia/Shanghai", Currency: "CNY", Lifecycle: store.DefaultLifecycle}
	_, hash := auth.NewKey(info.ID)
	if err := st.CreateTenant(ctx, info, store.APIKey{ID: ids.New(ids.APIKey), Scopes: []catalogue.Scope{catalogue.ScopeAdmin}, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	tn, err := st.Tenant(info.ID)
	if err != nil {
		t.Fatal(err)
	}
	r, err := settings.New(st)
	if err != nil {
		t.Fatal(err)
	}
	get := func(tb testing.TB) settings.Settings {
		tb.Helper()
		s, err := r.Get(ctx, tn)
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	s := get(t)
	if s.Currency != "CNY" || s.Location.String() != "Asia/Shanghai" || !s.Now.Equal(now) {
		t.Fatalf("settings: %+v", s)
	}
	if _, err := tn.UpdateInfo(ctx, func(i *store.TenantInfo) error { i.Currency = "USD"; return nil }); err != nil {
		t.Fatal(err)
	}
	advance(30 * time.Second)
	for _, tc := range []struct {
		name    string
		step    func()
		want    string
		wantNow bool
	}{
		{"cached within the ttl, Now current", func() {}, "CNY", true},
		{"read again after Forget", func() { r.Forget(tn.ID()) }, "USD", true},
		{"read again after the ttl", func() {
			if _, err := tn.UpdateInfo(ctx, func(i *store.TenantInfo) error { i.Currency = "EUR"; return nil }); err != nil {
				t.Fatal(err)
			}
			advance(settings.TTL)
		}, "EUR", true},
	} {
		tc.step()
		s := get(t)
		if s.Currency != tc.want || s.Now.Equal(now) != tc.wantNow {
			t.Errorf("%s: currency %s now %v, want %s now %v", tc.name, s.Currency, s.Now, tc.want, now)
		}
	}
	if _, err := tn.UpdateInfo(ctx, func(i *store.TenantInfo) error { i.Timezone = "Mars/Olympus"; return nil }); err != nil {
		t.Skipf("the store refuses an unknown zone itself: %v", err)
	}
	r.Forget(tn.ID())
	if _, err := r.Get(ctx, tn); err == nil {
		t.Error("an unknown time zone was accepted")
	}
}

func TestNewRejectsNil(t *testing.T) {
	t.Parallel()
	if _, err := settings.New(nil); err == nil {
		t.Error("settings.New(nil) succeeded")
	}
}
