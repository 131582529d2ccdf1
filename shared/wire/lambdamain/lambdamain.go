// Package lambdamain is the whole of functions/<name>/main.go: build the catalogue
// function from the environment with its wire constructor and hand its handler to
// lambda.Start. Every main.go is one call, so the functions cannot drift apart in
// how they start.
package lambdamain

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/metrics"
	"github.com/tribehq/tribe/shared/wire"
)

// Run starts the catalogue function name built by build. It reads the environment
// (config.Load), gives the platform admin key only to the catalogue's authorizer,
// and meters a stream consumer's batches (wire.Function.Metered), which the stack's
// RecordFailures alarm reads. It panics at cold start when name is not in the
// catalogue or the function cannot be built, and otherwise never returns.
func Run(name string, build wire.Constructor) {
	fn, err := Build(context.Background(), name, build)
	if err != nil {
		panic(err)
	}
	lambda.Start(fn.Handler())
}

// Build is Run without lambda.Start: the function name as it will serve.
func Build(ctx context.Context, name string, build wire.Constructor) (wire.Function, error) {
	entry, ok := catalogue.Lookup(name)
	if !ok {
		return wire.Function{}, fmt.Errorf("lambdamain: no catalogue function %q", name)
	}
	deps, err := config.Load(ctx)
	if err != nil {
		return wire.Function{}, err
	}
	d := wire.Deps{Store: deps.Store, Log: deps.Log}
	if entry.Authorizer {
		if d.AdminKey, err = config.AdminKey(ctx, deps.AWS); err != nil {
			return wire.Function{}, err
		}
	}
	fn, err := build(d)
	if err != nil {
		return wire.Function{}, err
	}
	return fn.Metered(name, metrics.Default()), nil
}
