// Command landing is the landing Lambda: the live codes' public landing pages behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/qrwire"
)

// It opens connector secrets to tell the operator, so it links the KMS client.
func main() { lambdamain.Run("landing", qrwire.Landing, config.WithKMS(kmsclient.FromConfig)) }
