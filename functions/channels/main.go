// Command channels is the channels Lambda: the catalogue's channels routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

func main() { lambdamain.Run("channels", routes.Channels) }
