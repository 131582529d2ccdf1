package api

import (
	"time"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/metrics"
	"github.com/tribehq/tribe/shared/store"
)

// requestMetrics is the EMF record of one finished request: the stack alarms on its
// Errors, which count the 500s handlers answer for errors and panics.
func requestMetrics(function string, rt catalogue.Route, c *call, status int, elapsed time.Duration, consumed *store.Capacity) metrics.Request {
	m := metrics.Request{
		Function:  function,
		Route:     rt.Pattern(),
		Status:    status,
		Latency:   elapsed,
		RequestID: c.requestID,
		RCU:       consumed.RCU(),
		WCU:       consumed.WCU(),
	}
	if c.tenant != nil {
		m.Tenant = c.tenant.ID()
	}
	return m
}
