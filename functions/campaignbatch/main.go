// Command campaignbatch is the stream consumer working campaign run batches.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("campaignbatch", consumers.CampaignBatch) }
