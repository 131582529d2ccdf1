// Command broadcasts is the stream consumer that sends each group's share of a broadcast.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("broadcasts", consumers.Broadcasts) }
