// Command referrals is the referrals Lambda: the catalogue's referrals routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/qrwire"
)

func main() { lambdamain.Run("referrals", qrwire.Referrals) }
