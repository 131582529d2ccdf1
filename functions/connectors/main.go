// Command connectors is the connectors Lambda: the catalogue's connectors routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

func main() { lambdamain.Run("connectors", routes.Connectors) }
