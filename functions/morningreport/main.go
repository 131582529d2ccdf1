// Command morningreport is the hourly job sending each tenant's morning report.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

// It opens the connector's sealed URL, so it links the KMS client.
func main() {
	lambdamain.Run("morningreport", consumers.MorningReport, config.WithKMS(kmsclient.FromConfig))
}
