// Command rfm is the daily RFM scoring's planner; the jobworker scores.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("rfm", consumers.RFM) }
