package routes

import (
	"context"

	"github.com/tribehq/tribe/shared/api"
	"github.com/tribehq/tribe/shared/staffpool"
	"github.com/tribehq/tribe/shared/wire"
)

// staffRoutes is routes with the staff user pool: only the staff function links
// the Cognito client. Without a pool configured the staff routes answer that
// staff accounts are not configured (listing still works).
func staffRoutes(d wire.Deps) (wire.Function, error) {
	var opts []api.Option
	if pool, endpoint := d.StaffPoolAndEndpoint(); pool.Enabled() {
		p, err := staffpool.New(context.Background(), pool, endpoint)
		if err != nil {
			return wire.Function{}, err
		}
		opts = append(opts, api.WithStaffDirectory(p))
	}
	return routes("staff", api.StaffHandlers, d, opts...)
}
