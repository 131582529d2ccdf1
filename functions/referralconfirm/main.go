// Command referralconfirm is the hourly job that confirms referrals and releases
// commission whose refund window closed.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("referralconfirm", consumers.ReferralConfirm) }
