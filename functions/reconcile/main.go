// Command reconcile is the 15-minute job re-driving lost ledger postings.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("reconcile", consumers.Reconcile) }
