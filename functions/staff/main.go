// Command staff is the staff Lambda: staff accounts and console login behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/staffwire"
)

func main() { lambdamain.Run("staff", staffwire.Staff) }
