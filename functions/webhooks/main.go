// Command webhooks is the webhooks Lambda: the catalogue's webhooks routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

func main() { lambdamain.Run("webhooks", routes.Webhooks) }
