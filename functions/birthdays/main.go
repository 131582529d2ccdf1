// Command birthdays is the hourly job paying tiers' birthday points.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("birthdays", consumers.Birthdays) }
