// Command campaigns is the campaigns Lambda: the catalogue's campaigns routes behind API Gateway, scheduling on EventBridge Scheduler.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/scheduling"
)

// Activating a lottery seals its seed, so it links the KMS client.
func main() {
	lambdamain.Run("campaigns", scheduling.Campaigns, config.WithKMS(kmsclient.FromConfig))
}
