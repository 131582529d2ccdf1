// Command community is the stream consumer that applies chat events.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("community", consumers.Community) }
