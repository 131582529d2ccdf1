// Command counters is the stream consumer keeping daily member counters.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("counters", consumers.Counters) }
