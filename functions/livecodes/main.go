// Command livecodes is the livecodes Lambda: the catalogue's livecodes routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

func main() { lambdamain.Run("livecodes", routes.LiveCodes) }
