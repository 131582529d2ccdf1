package store

import (
	"context"
	"time"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/table"
)

// morningReportTTL keeps the markers well past any retry of their day.
const morningReportTTL = 30 * 24 * time.Hour

// ClaimMorningReport writes the marker of the tenant's morning report for day
// (YYYY-MM-DD, the day reported) only if it is new: true means this caller sends
// the report, false that it was claimed before (a retried run sends nothing).
// Key: T#<tenant>#MORNING#<day> / REPORT.
func (t *Tenant) ClaimMorningReport(ctx context.Context, day string) (bool, error) {
	return t.recordOnce(ctx, t.table.Put(keyed{t.pk("MORNING", day), "REPORT", table.TypeMorningReport, t.s.Now().Add(morningReportTTL).Unix()}))
}

// ConnectorExists checks that the tenant has a connector id without opening its
// sealed settings (a setting naming it needs no key); problem.NotFound if not.
func (t *Tenant) ConnectorExists(ctx context.Context, id string) error {
	if !ids.Valid(ConnectorPrefix, id) {
		return connectorNotFound()
	}
	pk, sk := t.connectorKey(id)
	var it connectorItem
	return t.getItem(ctx, pk, sk, false, &it, "connector")
}
