// Command authorizer is the API Gateway Lambda authorizer: bearer key → tenant and
// scopes.
package main

import (
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("authorizer", wire.Authorizer) }
