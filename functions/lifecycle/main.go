// Command lifecycle is the daily lifecycle-stage evaluation, fired by EventBridge
// Scheduler.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("lifecycle", consumers.Lifecycle) }
