// Command integrations is the integrations Lambda: the catalogue's integrations routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

func main() { lambdamain.Run("integrations", routes.Integrations) }
