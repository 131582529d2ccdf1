// Command stats is the stats Lambda: the numbers routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

func main() { lambdamain.Run("stats", routes.Stats) }
