// Command groups is the groups Lambda: the catalogue's groups routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/qrwire"
)

func main() { lambdamain.Run("groups", qrwire.Groups) }
