// Command channels is the channels Lambda: the catalogue's channels routes behind API Gateway.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
	"github.com/tribehq/tribe/shared/wire/qrwire"
)

// It opens the WeCom app secret and seals the access token it caches.
func main() { lambdamain.Run("channels", qrwire.Channels, config.WithKMS(kmsclient.FromConfig)) }
