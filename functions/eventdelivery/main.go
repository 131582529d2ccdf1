// Command eventdelivery is the every-minute sweep making the webhook retries that are due.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

// It seals or opens secrets, so it links the KMS client; no other function does.
func main() {
	lambdamain.Run("eventdelivery", consumers.EventDelivery, config.WithKMS(kmsclient.FromConfig))
}
