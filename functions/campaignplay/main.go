// Command campaignplay is the campaignplay Lambda: lottery entries and draws and flash sale claims behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/routes"
)

// The draw opens the lottery's sealed seed, so it links the KMS client.
func main() {
	lambdamain.Run("campaignplay", routes.CampaignPlay, config.WithKMS(kmsclient.FromConfig))
}
