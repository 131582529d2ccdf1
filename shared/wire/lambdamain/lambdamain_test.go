package lambdamain

import (
	"context"
	"testing"

	"github.com/tribehq/tribe/shared/wire"
)

// TestBuildGivesTheAdminKeyOnlyToTheAuthorizer builds with a constructor that
// records its Deps: the authorizer sees TRIBE_ADMIN_KEY, a route function does not.
func TestBuildGivesTheAdminKeyOnlyToTheAuthorizer(t *testing.T) {
	t.Setenv("TRIBE_TABLE", "unused")
	t.Setenv("TRIBE_DYNAMO_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("TRIBE_ADMIN_KEY", "tribe_admin_test")
	for _, c := range []struct {
		name, want string
	}{
		{"authorizer", "tribe_admin_test"},
		{"groups", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got wire.Deps
			_, err := Build(context.Background(), c.name, func(d wire.Deps) (wire.Function, error) {
				got = d
				return wire.Function{}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.Store == nil || got.Log == nil {
				t.Error("built without a store or a logger")
			}
			if got.AdminKey != c.want {
				t.Errorf("admin key %q, want %q", got.AdminKey, c.want)
			}
		})
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
