package system_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/envelope/envelopetest"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/wire"
)

func TestEveryCatalogueFunctionHasAConstructor(t *testing.T) {
	t.Parallel()
	var want, got []string
	for _, fn := range catalogue.All() {
		want = append(want, fn.Name)
	}
	for name := range system.Constructors() {
		got = append(got, name)
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("constructors for %v, want one for each of %v", got, want)
	}
}

// TestMainsCallTheirConstructor reads each functions/<name>/main.go: it must start
// the catalogue function <name> (lambdamain.Run) with the constructor the local
// system uses for that function.
func TestMainsCallTheirConstructor(t *testing.T) {
	t.Parallel()
	for name, build := range system.Constructors() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			full := runtime.FuncForPC(reflect.ValueOf(build).Pointer()).Name() // …/shared/wire/routes.Groups
			pkgPath, fn := full[:strings.LastIndex(full, ".")], full[strings.LastIndex(full, ".")+1:]
			src, err := os.ReadFile(filepath.Join("..", "..", "..", "functions", name, "main.go"))
			if err != nil {
				t.Fatal(err)
			}
			ctor := pkgPath[strings.LastIndex(pkgPath, "/")+1:] + "." + fn
			call := `lambdamain.Run("` + name + `", ` + ctor
			if e, _ := catalogue.Lookup(name); e.Authorizer {
				// The authorizer loads the admin key lazily in its own main.go.
				call = ctor + "("
			}
			if !strings.Contains(string(src), `"`+pkgPath+`"`) || !strings.Contains(string(src), call) {
				t.Errorf("main.go does not call %s with %s from %s", call, fn, pkgPath)
			}
		})
	}
}

// TestHandlerMatchesTrigger builds every function (nothing reaches the table at
// construction) and checks it is the handler its catalogue trigger calls for.
func TestHandlerMatchesTrigger(t *testing.T) {
	t.Parallel()
	st, err := store.New(dynamo.New(dynamolocal.Config("http://127.0.0.1:1")), "unused", store.WithSealer(envelopetest.Sealer(t)))
	if err != nil {
		t.Fatal(err)
	}
	d := wire.Deps{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cons := system.Constructors()
	for _, fn := range catalogue.All() {
		t.Run(fn.Name, func(t *testing.T) {
			build, ok := cons[fn.Name]
			if !ok {
				t.Fatal("no constructor")
			}
			f, err := build(d)
			if err != nil {
				t.Fatal(err)
			}
			set := 0
			for _, h := range []bool{f.HTTP != nil, f.Stream != nil, f.Target != nil, f.Authorizer != nil} {
				if h {
					set++
				}
			}
			for _, c := range []struct {
				name      string
				got, want bool
			}{
				{"one handler", set == 1, true},
				{"http", f.HTTP != nil, len(fn.Routes) > 0},
				{"stream", f.Stream != nil, fn.Stream != nil},
				{"target", f.Target != nil, fn.Schedule != nil || fn.ScheduleTarget},
				{"authorizer", f.Authorizer != nil, fn.Authorizer},
				{"lambda handler", f.Handler() != nil, true},
			} {
				if c.got != c.want {
					t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
				}
			}
		})
	}
}

// TestSecretsFunctionsNeedASealer: a function the catalogue marks Secrets does not
// start on a store that cannot seal (its key's environment variable is missing);
// the others do.
func TestSecretsFunctionsNeedASealer(t *testing.T) {
	t.Parallel()
	st, err := store.New(dynamo.New(dynamolocal.Config("http://127.0.0.1:1")), "unused")
	if err != nil {
		t.Fatal(err)
	}
	d := wire.Deps{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, fn := range catalogue.All() {
		_, err := system.Constructors()[fn.Name](d)
		if (err != nil) != (fn.Secrets != 0) {
			t.Errorf("%s (Secrets %d) built without a sealer: err = %v", fn.Name, fn.Secrets, err)
		}
	}
}

func TestConstructorsRejectMissingDeps(t *testing.T) {
	t.Parallel()
	for name, build := range system.Constructors() {
		if _, err := build(wire.Deps{}); err == nil {
			t.Errorf("%s: built without a store and a logger", name)
		}
	}
}
