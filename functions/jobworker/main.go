// Command jobworker is the stream consumer that works the scheduled jobs' tasks.
package main

import (
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

// The WeCom group sync opens the app's secret and seals the token it caches.
func main() { lambdamain.Run("jobworker", consumers.JobWorker, config.WithKMS(kmsclient.FromConfig)) }
