// Command connectors is the connectors Lambda: the catalogue's connectors routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

// It seals or opens secrets, so it links the KMS client; no other function does.
func main() { lambdamain.Run("connectors", routes.Connectors, config.WithKMS(kmsclient.FromConfig)) }
