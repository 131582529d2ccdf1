package store_test

import (
	"context"
	"testing"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/envelope/envelopetest"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/store"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// newStore returns a store on a fresh table.
func newStore(tb testing.TB) *store.Store {
	tb.Helper()
	_, name := dynamotest.Table(tb)
	st, err := store.New(dynamo.New(dynamolocal.Config(dynamotest.Endpoint(tb))), name, store.WithSealer(envelopetest.Sealer(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// newTenant returns a fresh tenant's handle on st.
func newTenant(tb testing.TB, st *store.Store) *store.Tenant {
	tb.Helper()
	t, err := st.Tenant(ids.New(ids.Tenant))
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func mustGroup(tb testing.TB, t *store.Tenant, g store.Group) store.Group {
	tb.Helper()
	if g.Name == "" {
		g.Name = "group"
	}
	if g.Platform == "" {
		g.Platform = store.PlatformWeCom
	}
	out, err := t.CreateGroup(context.Background(), g)
	if err != nil {
		tb.Fatalf("create group: %v", err)
	}
	return out
}

func mustGroupOf(tb testing.TB, t *store.Tenant, id string) store.Group {
	tb.Helper()
	g, err := t.Group(context.Background(), id)
	if err != nil {
		tb.Fatalf("group %s: %v", id, err)
	}
	return g
}

// allMembers returns every membership of a group, page by page.
func allMembers(tb testing.TB, t *store.Tenant, groupID string) []store.Membership {
	tb.Helper()
	var out []store.Membership
	cursor := ""
	for {
		page, err := t.GroupMembers(context.Background(), groupID, 7, cursor)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}
