// Command loyalty is the loyalty Lambda: the catalogue's loyalty routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

func main() { lambdamain.Run("loyalty", routes.Loyalty) }
