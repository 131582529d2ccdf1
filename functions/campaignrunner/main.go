// Command campaignrunner is invoked by campaign schedules and pages each occurrence's audience into run batches.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

// A lottery's draw opens its sealed seed, so it links the KMS client.
func main() {
	lambdamain.Run("campaignrunner", consumers.CampaignRunner, config.WithKMS(kmsclient.FromConfig))
}
