// Command openapi is the openapi Lambda: the catalogue's openapi routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

func main() { lambdamain.Run("openapi", routes.OpenAPI) }
