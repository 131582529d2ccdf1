// Command campaigns is the campaigns Lambda: the catalogue's campaigns routes behind API Gateway, scheduling on EventBridge Scheduler.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/scheduling"
)

func main() { lambdamain.Run("campaigns", scheduling.Campaigns) }
