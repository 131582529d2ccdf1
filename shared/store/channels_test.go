package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

func TestChannels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	ten, other := newTenant(t, st), newTenant(t, st)
	c, err := ten.CreateChannel(ctx, store.Channel{Name: "Poster in store 12", Code: "store-12"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func() error
		want problem.Code
	}{
		{"duplicate code", func() error {
			_, err := ten.CreateChannel(ctx, store.Channel{Name: "again", Code: "store-12"})
			return err
		}, problem.Conflict},
		{"another tenant may use the code", func() error {
			_, err := other.CreateChannel(ctx, store.Channel{Name: "theirs", Code: "store-12"})
			return err
		}, ""},
		{"a code with '#'", func() error {
			_, err := ten.CreateChannel(ctx, store.Channel{Name: "x", Code: "a#b"})
			return err
		}, problem.Invalid},
		{"unknown code", func() error { _, err := ten.ChannelByCode(ctx, "nope"); return err }, problem.NotFound},
		{"another tenant cannot read the channel", func() error { _, err := other.Channel(ctx, c.ID); return err }, problem.NotFound},
		{"unknown counter", func() error { return ten.RecordChannelEvent(ctx, c.ID, "2026-03-01", "clicks", 1) }, problem.Invalid},
	} {
		got := problem.Code("")
		if err := tc.run(); err != nil {
			got = problem.CodeOf(err)
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if got, err := ten.ChannelByCode(ctx, "store-12"); err != nil || got.ID != c.ID {
		t.Errorf("by code: %+v %v", got, err)
	}
	if page, err := ten.Channels(ctx, 10, ""); err != nil || len(page.Items) != 1 || page.Items[0].Code != "store-12" {
		t.Errorf("list: %+v %v", page, err)
	}

	events := []struct {
		day, counter string
		delta        int64
	}{
		{"2026-03-01", store.ChannelScans, 1},
		{"2026-03-01", store.ChannelScans, 1},
		{"2026-03-01", store.ChannelMembersAdded, 1},
		{"2026-03-02", store.ChannelScans, 1},
		{"2026-03-02", store.ChannelFirstOrders, 1},
		{"2026-03-02", store.ChannelGMVMinor, 12900},
		{"2026-03-02", store.ChannelGMVMinor, 100},
		{"2026-03-02", store.ChannelJoinedGroup, 1},
		{"2026-03-04", store.ChannelScans, 1},
	}
	var wg sync.WaitGroup
	for _, e := range events {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ten.RecordChannelEvent(ctx, c.ID, e.day, e.counter, e.delta); err != nil {
				t.Errorf("record: %v", err)
			}
		}()
	}
	wg.Wait()
	got, err := ten.ChannelStats(ctx, c.ID, "2026-03-01", "2026-03-02")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ChannelDay{
		{Day: "2026-03-01", Scans: 2, MembersAdded: 1},
		{Day: "2026-03-02", Scans: 1, FirstOrders: 1, GMVMinor: 13000, JoinedGroup: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stats\n got %+v\nwant %+v", got, want)
	}
}
