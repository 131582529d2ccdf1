// Package reconcilewire builds the reconcile function: the reconciler reading the
// table's stream with the DynamoDB Streams client. It is its own package so that
// only the reconcile function links that client (a package's imports are linked
// into every binary that imports it).
package reconcilewire

import (
	"errors"
	"os"

	"github.com/tribehq/tribe/shared/streamread"
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/consumers"
)

// Reconcile is the 15-minute job re-driving orders and refunds whose ledger
// posting was lost. It reads the stream the stack names (TRIBE_STREAM_ARN), or,
// locally, the table's latest stream, with the store's client's region,
// credentials and endpoint.
func Reconcile(d wire.Deps) (wire.Function, error) {
	if err := d.Check(); err != nil {
		return wire.Function{}, err
	}
	db := d.Store.BaseClient()
	if db == nil {
		return wire.Function{}, errors.New("reconcilewire: the store has no DynamoDB client to reach the stream with")
	}
	r, err := streamread.New(db, d.Store.TableName(), os.Getenv(streamread.EnvStreamARN))
	if err != nil {
		return wire.Function{}, err
	}
	return consumers.ReconcileWith(d, r)
}
