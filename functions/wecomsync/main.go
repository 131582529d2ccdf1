// Command wecomsync is the daily WeCom group sync, fired by EventBridge Scheduler:
// it plans one task per tenant for the jobworker.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("wecomsync", consumers.WeComSync) }
