// Package qrexpiry is the daily job that reminds operators a day before a group's
// uploaded QR image expires (WeChat group QR codes last 7 days), through the
// notify connector of each live code whose pool holds the group.
//
// It reads only what expires: each tenant's expiry list for the UTC days the
// next Window touches (store.GroupQRsExpiring), never every group. Each reminder
// is claimed with a marker per image version and connector before it is sent, so
// a run repeated or retried reminds once; a send that fails gives its claim back
// for the retry.
package qrexpiry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// Window is how far ahead a run looks: a daily run reminds each image once, in
// the last day before it expires.
const Window = 24 * time.Hour

// maxLiveCodePages bounds the live codes read per tenant with something expiring.
const maxLiveCodePages = 20

// Sender sends through a tenant's connector and logs the delivery.
type Sender interface {
	Send(ctx context.Context, t *store.Tenant, connectorID, target, ref string, m connector.Message) (store.Delivery, error)
}

// Job is the reminder job.
type Job struct {
	store *store.Store
	send  Sender
	log   *slog.Logger
}

// New returns the job.
func New(st *store.Store, send Sender, log *slog.Logger) (*Job, error) {
	if st == nil || send == nil || log == nil {
		return nil, errors.New("qrexpiry: need a store, a sender and a logger")
	}
	return &Job{store: st, send: send, log: log}, nil
}

// Result is what a run did.
type Result struct {
	Tenants     int `json:"tenants"`
	Expiring    int `json:"expiring"`
	Reminded    int `json:"reminded"`
	AlreadySent int `json:"already_sent"`
	NoConnector int `json:"no_connector"`
	Failed      int `json:"failed"`
	// Retryable failed for a reason a later try may not meet (the platform was
	// unavailable): their claims are given back and the run fails, for the
	// scheduler to retry.
	Retryable     int `json:"retryable"`
	FailedTenants int `json:"failed_tenants"`
}

// Run reminds about every image expiring within Window of now, in every tenant.
// A tenant that fails is logged and counted, and the run goes on; the run fails
// (and the scheduler retries it) when a reminder met an unavailable platform.
func (j *Job) Run(ctx context.Context, _ json.RawMessage) (Result, error) {
	var out Result
	now := j.store.Now()
	err := j.store.ForEachTenant(ctx, func(t *store.Tenant, info store.TenantInfo) error {
		out.Tenants++
		if err := j.tenant(ctx, t, info, now, &out); err != nil {
			out.FailedTenants++
			j.log.ErrorContext(ctx, "qrexpiry: tenant", "tenant", t.ID(), "err", err)
		}
		return nil
	})
	j.log.InfoContext(ctx, "qrexpiry: run", "tenants", out.Tenants, "expiring", out.Expiring, "reminded", out.Reminded,
		"already_sent", out.AlreadySent, "no_connector", out.NoConnector, "failed", out.Failed, "failed_tenants", out.FailedTenants)
	if err == nil && (out.Retryable > 0 || out.FailedTenants > 0) {
		err = fmt.Errorf("qrexpiry: %d reminders and %d tenants failed and may be retried", out.Retryable, out.FailedTenants)
	}
	return out, err
}

// days are the UTC days from..to touches.
func days(from, to time.Time) []string {
	var out []string
	for d := from.UTC().Truncate(24 * time.Hour); !d.After(to); d = d.Add(24 * time.Hour) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

func (j *Job) tenant(ctx context.Context, t *store.Tenant, info store.TenantInfo, now time.Time, out *Result) error {
	var due []store.GroupQRExpiry
	for _, day := range days(now, now.Add(Window)) {
		list, err := t.GroupQRsExpiring(ctx, day)
		if err != nil {
			return err
		}
		for _, e := range list {
			if e.ExpiresAt.After(now) && !e.ExpiresAt.After(now.Add(Window)) {
				due = append(due, e)
			}
		}
	}
	if len(due) == 0 {
		return nil
	}
	pools, err := livePools(ctx, t)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(info.Timezone)
	if err != nil {
		loc = time.UTC
	}
	for _, e := range due {
		g, err := t.Group(ctx, e.GroupID)
		if problem.Is(err, problem.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if g.QRVersion != e.Version || g.Status == store.GroupArchived {
			continue // replaced since, or no longer in use
		}
		out.Expiring++
		// One reminder per connector, naming the live codes it serves.
		byConnector := map[string][]string{}
		for _, lc := range pools[g.ID] {
			if lc.NotifyConnectorID != "" && !slices.Contains(byConnector[lc.NotifyConnectorID], lc.Name) {
				byConnector[lc.NotifyConnectorID] = append(byConnector[lc.NotifyConnectorID], lc.Name)
			}
		}
		if len(byConnector) == 0 {
			out.NoConnector++
			continue
		}
		for connectorID, names := range byConnector {
			j.remind(ctx, t, g, e, connectorID, names, loc, out)
		}
	}
	return nil
}

func (j *Job) remind(ctx context.Context, t *store.Tenant, g store.Group, e store.GroupQRExpiry, connectorID string, names []string, loc *time.Location, out *Result) {
	claimed, err := t.ClaimQRReminder(ctx, g.ID, e.Version, connectorID, e.ExpiresAt)
	if err != nil {
		out.Failed++
		j.log.ErrorContext(ctx, "qrexpiry: claim", "tenant", t.ID(), "group", g.ID, "err", err)
		return
	}
	if !claimed {
		out.AlreadySent++
		return
	}
	at := e.ExpiresAt.In(loc).Format("2006-01-02 15:04")
	lcs := strings.Join(names, "」「")
	text := fmt.Sprintf("群「%s」的二维码将于 %s 过期（活码「%s」）。请重新获取群二维码并上传：PUT /v1/groups/%s/qr。"+
		" The QR code of group %s expires at %s (live code %s); upload a new one.", g.Name, at, lcs, g.ID, g.Name, at, strings.Join(names, ", "))
	ref := fmt.Sprintf("qr_expiry:%s:%d", g.ID, e.Version)
	if _, err := j.send.Send(ctx, t, connectorID, "group:"+g.ID, ref, connector.Message{Text: text}); err != nil {
		out.Failed++
		j.log.WarnContext(ctx, "qrexpiry: reminder not delivered", "tenant", t.ID(), "group", g.ID, "connector", connectorID, "err", err)
		if !errors.Is(err, connector.ErrUnavailable) {
			return // rejected or misconfigured: a retry would fail the same way
		}
		out.Retryable++
		if rerr := t.ReleaseQRReminder(ctx, g.ID, e.Version, connectorID); rerr != nil {
			j.log.ErrorContext(ctx, "qrexpiry: release claim", "tenant", t.ID(), "group", g.ID, "err", rerr)
		}
		return
	}
	out.Reminded++
}

// livePools maps each group to the live codes whose pool holds it.
func livePools(ctx context.Context, t *store.Tenant) (map[string][]store.LiveCode, error) {
	out := map[string][]store.LiveCode{}
	cursor := ""
	for range maxLiveCodePages {
		page, err := t.LiveCodes(ctx, 100, cursor)
		if err != nil {
			return nil, err
		}
		for _, lc := range page.Items {
			for _, e := range lc.Pool {
				out[e.GroupID] = append(out[e.GroupID], lc)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	return out, nil
}
