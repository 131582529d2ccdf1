// Command jobworker is the stream consumer that works the scheduled jobs' tasks.
package main

import (
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

func main() { lambdamain.Run("jobworker", consumers.JobWorker) }
