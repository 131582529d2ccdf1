package lambdamain

import (
	"context"
	"testing"

	"github.com/tribehq/tribe/shared/wire"
)

// TestBuildGivesNoAdminKey builds with a constructor that records its Deps: a
// function built here never sees the platform admin key, and the authorizer, which
// loads it lazily in its own main.go, is refused.
func TestBuildGivesNoAdminKey(t *testing.T) {
	t.Setenv("TRIBE_TABLE", "unused")
	t.Setenv("TRIBE_DYNAMO_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("TRIBE_ADMIN_KEY", "tribe_admin_test")
	var got wire.Deps
	if _, err := Build(context.Background(), "groups", func(d wire.Deps) (wire.Function, error) {
		got = d
		return wire.Function{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got.Store == nil || got.Log == nil {
		t.Error("built without a store or a logger")
	}
	if got.AdminKey != "" || got.AdminKeyLoader != nil {
		t.Errorf("groups got the admin key (%q, loader %v)", got.AdminKey, got.AdminKeyLoader != nil)
	}
	called := false
	if _, err := Build(context.Background(), "authorizer", func(wire.Deps) (wire.Function, error) {
		called = true
		return wire.Function{}, nil
	}); err == nil || called {
		t.Errorf("authorizer: err = %v, constructor called %v; want a refusal before building", err, called)
	}
}

func TestBuildRefusesANameOutsideTheCatalogue(t *testing.T) {
	t.Setenv("TRIBE_TABLE", "unused")
	called := false
	_, err := Build(context.Background(), "nosuch", func(wire.Deps) (wire.Function, error) {
		called = true
		return wire.Function{}, nil
	})
	if err == nil || called {
		t.Errorf("err = %v, constructor called %v; want an error before building", err, called)
	}
}
