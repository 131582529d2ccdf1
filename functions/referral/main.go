// Command referral is the stream consumer that attributes, qualifies and reverses
// referrals and accrues distributor commission.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("referral", consumers.Referral) }
