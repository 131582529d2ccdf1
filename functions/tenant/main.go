// Command tenant is the tenant Lambda: the catalogue's tenant routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

func main() { lambdamain.Run("tenant", routes.Tenant) }
