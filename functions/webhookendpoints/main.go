// Command webhookendpoints is the webhook endpoints Lambda: the catalogue's webhookendpoints routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

// It seals or opens secrets, so it links the KMS client; no other function does.
func main() {
	lambdamain.Run("webhookendpoints", routes.WebhookEndpoints, config.WithKMS(kmsclient.FromConfig))
}
