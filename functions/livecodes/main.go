// Command livecodes is the livecodes Lambda: the catalogue's livecodes routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/qrwire"
)

// It seals or opens secrets, so it links the KMS client; no other function does.
func main() { lambdamain.Run("livecodes", qrwire.LiveCodes, config.WithKMS(kmsclient.FromConfig)) }
