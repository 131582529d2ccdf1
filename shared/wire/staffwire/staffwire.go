// Package staffwire builds the staff function: the staff routes with the staff
// user pool. It is its own package so that only the staff function links the
// Cognito client and the AWS config it loads (a package's imports are linked into
// every binary that imports it).
package staffwire

import (
	"context"

	"github.com/tribehq/tribe/shared/api"
	"github.com/tribehq/tribe/shared/staffpool"
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/routes"
)

// Staff serves staff accounts and console login with the staff user pool.
// Without a pool configured the staff routes answer that staff accounts are not
// configured (listing still works).
func Staff(d wire.Deps) (wire.Function, error) {
	var opts []api.Option
	if pool, endpoint := d.StaffPoolAndEndpoint(); pool.Enabled() {
		p, err := staffpool.New(context.Background(), pool, endpoint, d.AWS)
		if err != nil {
			return wire.Function{}, err
		}
		opts = append(opts, api.WithStaffDirectory(p))
	}
	return routes.Serve("staff", api.StaffHandlers, d, opts...)
}
