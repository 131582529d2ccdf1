// Package lambdamain is the whole of functions/<name>/main.go: build the catalogue
// function from the environment with its wire constructor and hand its handler to
// lambda.Start. Every main.go is one call, so the functions cannot drift apart in
// how they start. The authorizer is the one exception: it loads the platform admin
// key lazily through Secrets Manager (shared/config/adminkey), and only its own
// main.go links that client.
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

// Run starts the catalogue function name built by build, reading the environment
// with config.Load and opts (config.WithKMS for the functions that seal or open
// secrets), and meters a stream consumer's batches (wire.Function.Metered), which
// the stack's RecordFailures alarm reads. It panics at cold start when name is not
// in the catalogue, is the authorizer, or cannot be built; otherwise it never
// returns.
func Run(name string, build wire.Constructor, opts ...config.Option) {
	fn, err := Build(context.Background(), name, build, opts...)
	if err != nil {
		panic(err)
	}
	lambda.Start(fn.Handler())
}

// Build is Run without lambda.Start: the function name as it will serve.
func Build(ctx context.Context, name string, build wire.Constructor, opts ...config.Option) (wire.Function, error) {
	entry, ok := catalogue.Lookup(name)
	if !ok {
		return wire.Function{}, fmt.Errorf("lambdamain: no catalogue function %q", name)
	}
	if entry.Authorizer {
		return wire.Function{}, fmt.Errorf("lambdamain: %s loads the admin key itself (functions/%s/main.go)", name, name)
	}
	deps, err := config.Load(ctx, opts...)
	if err != nil {
		return wire.Function{}, err
	}
	fn, err := build(wire.Deps{Store: deps.Store, Log: deps.Log, AWS: deps.AWS})
	if err != nil {
		return wire.Function{}, err
	}
	return fn.Metered(name, metrics.Default()), nil
}
