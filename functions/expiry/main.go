// Command expiry is the hourly job that expires due points lots.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("expiry", consumers.Expiry) }
