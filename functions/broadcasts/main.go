// Command broadcasts is the stream consumer that sends each group's share of a broadcast.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

// It seals or opens secrets, so it links the KMS client; no other function does.
func main() { lambdamain.Run("broadcasts", consumers.Broadcasts, config.WithKMS(kmsclient.FromConfig)) }
