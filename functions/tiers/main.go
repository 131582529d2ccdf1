// Command tiers is the daily tier downgrade evaluation.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("tiers", consumers.Tiers) }
