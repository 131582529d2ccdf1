// Command members is the members Lambda: the catalogue's members routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

func main() { lambdamain.Run("members", routes.Members) }
