// Command coupons is the coupons Lambda: the coupon pool routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

func main() { lambdamain.Run("coupons", routes.Coupons) }
