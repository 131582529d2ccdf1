// Command qrexpiry is the daily job reminding operators of group QR images about to expire.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

// It opens connector secrets to send, so it links the KMS client.
func main() { lambdamain.Run("qrexpiry", consumers.QRExpiry, config.WithKMS(kmsclient.FromConfig)) }
