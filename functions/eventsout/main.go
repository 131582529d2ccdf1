// Command eventsout is the stream consumer that turns committed changes into the tenants' webhook events and sends them.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

// It seals or opens secrets, so it links the KMS client; no other function does.
func main() { lambdamain.Run("eventsout", consumers.EventsOut, config.WithKMS(kmsclient.FromConfig)) }
