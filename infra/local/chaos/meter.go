package chaos

import "github.com/aws/smithy-go/middleware"

// Meter is the hot run's per-partition write meter for other tests (the
// counters' burst test): add Option to a client's APIOptions, then Report.
type Meter struct{ m *meter }

// NewMeter returns an empty meter.
func NewMeter() *Meter { return &Meter{newMeter()} }

// Option installs the meter on an SDK client.
func (m *Meter) Option(s *middleware.Stack) error { return m.m.option(s) }

// Report is the load per partition key for orders orders, heaviest first.
func (m *Meter) Report(orders int) []KeyLoad { return m.m.report(orders) }
