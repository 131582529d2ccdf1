// Command campaignrunner is invoked by campaign schedules and pages each occurrence's audience into run batches.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("campaignrunner", consumers.CampaignRunner) }
