// Command reconcile is the 15-minute job re-driving lost ledger postings.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/reconcilewire"
)

func main() { lambdamain.Run("reconcile", reconcilewire.Reconcile) }
