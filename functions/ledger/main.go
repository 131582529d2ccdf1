// Command ledger is the stream consumer that posts points for orders and refunds.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("ledger", consumers.Ledger) }
