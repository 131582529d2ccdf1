// Package consumers builds the functions that run off the table's stream or a
// schedule rather than a request: the stream consumers (ledger, counters,
// community, broadcasts) and the scheduled jobs (expiry, tiers, lifecycle).
package consumers

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tribehq/tribe/shared/broadcast"
	"github.com/tribehq/tribe/shared/campaign"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/community"
	"github.com/tribehq/tribe/shared/counters"
	"github.com/tribehq/tribe/shared/delivery"
	"github.com/tribehq/tribe/shared/jobs"
	"github.com/tribehq/tribe/shared/lifecycle"
	"github.com/tribehq/tribe/shared/morningreport"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/qrexpiry"
	"github.com/tribehq/tribe/shared/referral"
	"github.com/tribehq/tribe/shared/rfm"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/webhookout"
	"github.com/tribehq/tribe/shared/wecomsync"
	"github.com/tribehq/tribe/shared/wire"
)

// Community is the stream consumer that applies chat events; it welcomes and
// warns through the tenants' connectors.
func Community(d wire.Deps) (wire.Function, error) {
	if err := d.Check(); err != nil {
		return wire.Function{}, err
	}
	if err := d.CheckSecrets("community"); err != nil {
		return wire.Function{}, err
	}
	set, err := settings.New(d.Store)
	if err != nil {
		return wire.Function{}, err
	}
	dlv, err := deliverySender(d)
	if err != nil {
		return wire.Function{}, err
	}
	sy, err := wecomsync.New(d.WeComClients(), set, d.Log)
	if err != nil {
		return wire.Function{}, err
	}
	c, err := community.New(d.Store, set, dlv, d.Log, community.WithWeCom(sy))
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Stream: c.Handle}, nil
}

// Broadcasts is the stream consumer that sends broadcasts, group by group, through
// the tenants' connectors.
func Broadcasts(d wire.Deps) (wire.Function, error) {
	if err := d.Check(); err != nil {
		return wire.Function{}, err
	}
	if err := d.CheckSecrets("broadcasts"); err != nil {
		return wire.Function{}, err
	}
	dlv, err := deliverySender(d)
	if err != nil {
		return wire.Function{}, err
	}
	c, err := broadcast.New(d.Store, dlv, d.Log)
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Stream: c.Handle}, nil
}

// Counters is the stream consumer keeping daily member counters.
func Counters(d wire.Deps) (wire.Function, error) {
	if err := d.Check(); err != nil {
		return wire.Function{}, err
	}
	set, err := settings.New(d.Store)
	if err != nil {
		return wire.Function{}, err
	}
	h, err := counters.New(d.Store, set, d.Log)
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Stream: h.Handle}, nil
}

// Ledger is the stream consumer that posts points for orders and refunds.
func Ledger(d wire.Deps) (wire.Function, error) {
	e, err := engine(d)
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Stream: e.Handle}, nil
}

// reconcileMargin is what the reconciler leaves of its function's timeout to
// write its checkpoints and report.
const reconcileMargin = time.Minute

// ReconcileWith is the 15-minute job re-driving orders and refunds whose ledger
// posting was lost, reading the table's stream through stream
// (wire/reconcilewire builds it: only the reconcile function links the Streams
// client).
func ReconcileWith(d wire.Deps, stream points.Stream) (wire.Function, error) {
	e, err := engine(d)
	if err != nil {
		return wire.Function{}, err
	}
	fn, ok := catalogue.Lookup("reconcile")
	if !ok {
		return wire.Function{}, errors.New("wire: no catalogue function reconcile")
	}
	r, err := e.NewReconciler(stream, points.ReconcileOptions{Budget: time.Duration(fn.TimeoutSeconds)*time.Second - reconcileMargin})
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Target: target(r.Reconcile)}, nil
}

// Expiry is the hourly job that expires due points lots: it plans one task per
// tenant and member shard for the jobworker.
func Expiry(d wire.Deps) (wire.Function, error) { return planner(d, JobExpiry) }

// Tiers is the daily tier downgrade evaluation (planned; the jobworker works it).
func Tiers(d wire.Deps) (wire.Function, error) { return planner(d, JobTiers) }

// Birthdays is the hourly job paying tiers' birthday points (planned; the
// jobworker works it).
func Birthdays(d wire.Deps) (wire.Function, error) { return planner(d, JobBirthdays) }

// Lifecycle is the daily lifecycle-stage evaluation (planned; the jobworker works
// it).
func Lifecycle(d wire.Deps) (wire.Function, error) { return planner(d, JobLifecycle) }

// ReferralConfirm is the hourly job that confirms referrals whose refund window
// has passed (planned; the jobworker works it).
func ReferralConfirm(d wire.Deps) (wire.Function, error) { return planner(d, JobReferralConfirm) }

// WeComSync is the daily sync of every tenant's WeCom customer groups (planned;
// the jobworker works it).
func WeComSync(d wire.Deps) (wire.Function, error) { return planner(d, wecomsync.Job) }

// JobWorker is the stream consumer that works the jobs' tasks.
func JobWorker(d wire.Deps) (wire.Function, error) {
	if err := d.Check(); err != nil {
		return wire.Function{}, err
	}
	if err := d.CheckSecrets("jobworker"); err != nil {
		return wire.Function{}, err
	}
	r, err := Jobs(d)
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Stream: r.Handle}, nil
}

// The scheduled jobs, by their catalogue function's name.
const (
	JobExpiry          = "expiry"
	JobTiers           = "tiers"
	JobBirthdays       = "birthdays"
	JobLifecycle       = "lifecycle"
	JobReferralConfirm = "referralconfirm"
	JobRFM             = "rfm"
)

// MorningReport is the hourly job sending each tenant its morning report at 09:00
// local, through the tenant's connector.
func MorningReport(d wire.Deps) (wire.Function, error) {
	if err := d.Check(); err != nil {
		return wire.Function{}, err
	}
	if err := d.CheckSecrets("morningreport"); err != nil {
		return wire.Function{}, err
	}
	dlv, err := deliverySender(d)
	if err != nil {
		return wire.Function{}, err
	}
	r, err := morningreport.New(d.Store, dlv, d.Log)
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Target: target(r.Run)}, nil
}

// RFM is the daily RFM scoring (planned: one task per tenant; the jobworker
// works it).
func RFM(d wire.Deps) (wire.Function, error) { return planner(d, JobRFM) }

// Jobs is the runner that knows every scheduled job: its tasks per tenant and its
// step.
func Jobs(d wire.Deps) (*jobs.Runner, error) {
	e, err := engine(d)
	if err != nil {
		return nil, err
	}
	re, err := referralEngine(d)
	if err != nil {
		return nil, err
	}
	lc, err := lifecycle.New(d.Store, d.Log)
	if err != nil {
		return nil, err
	}
	set, err := settings.New(d.Store)
	if err != nil {
		return nil, err
	}
	sy, err := wecomsync.New(d.WeComClients(), set, d.Log)
	if err != nil {
		return nil, err
	}
	rj, err := rfm.New(d.Store, d.Log)
	if err != nil {
		return nil, err
	}
	return jobs.New(d.Store, d.Log, map[string]jobs.Kind{
		wecomsync.Job:      {Shards: 1, Step: sy.JobStep(d.Store.Now)},
		JobExpiry:          {Shards: store.MemberShards, Step: e.ExpiryStep},
		JobTiers:           {Shards: store.MemberShards, Step: e.DowngradeStep},
		JobLifecycle:       {Shards: store.MemberShards, Step: lc.Step},
		JobBirthdays:       {Shards: 1, Step: e.BirthdayStep},
		JobReferralConfirm: {Shards: 1, Step: re.ConfirmStep},
		JobRFM:             {Shards: 1, Step: rj.Step},
	})
}

func planner(d wire.Deps, job string) (wire.Function, error) {
	r, err := Jobs(d)
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Target: target(r.Planner(job))}, nil
}

// deliverySender sends through the tenants' connectors and logs each delivery.
func deliverySender(d wire.Deps) (*delivery.Sender, error) {
	snd, err := d.ConnectorSender()
	if err != nil {
		return nil, err
	}
	return delivery.New(d.Store, snd, d.Log)
}

// engine is the points engine with its own settings cache.
func engine(d wire.Deps) (*points.Engine, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	set, err := settings.New(d.Store)
	if err != nil {
		return nil, err
	}
	e, err := points.New(d.Store, set, d.Log)
	if err != nil {
		return nil, err
	}
	// Points multiplier and first-order campaigns, and conversions.
	live, err := campaign.NewLive(d.Store.Now, d.Log)
	if err != nil {
		return nil, err
	}
	e.SetCampaigns(live)
	return e, nil
}

// CampaignRunner is invoked by each campaign's schedule: it pages the
// occurrence's audience into run batches.
func CampaignRunner(d wire.Deps) (wire.Function, error) {
	if err := d.Check(); err != nil {
		return wire.Function{}, err
	}
	// A lottery's firing at its end draws, which opens the sealed seed.
	if err := d.CheckSecrets("campaignrunner"); err != nil {
		return wire.Function{}, err
	}
	set, err := settings.New(d.Store)
	if err != nil {
		return wire.Function{}, err
	}
	r, err := campaign.NewRunner(d.Store, set, d.Log)
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Target: target(r.Handle)}, nil
}

// CampaignBatch is the stream consumer working campaign run batches.
func CampaignBatch(d wire.Deps) (wire.Function, error) {
	if err := d.Check(); err != nil {
		return wire.Function{}, err
	}
	set, err := settings.New(d.Store)
	if err != nil {
		return wire.Function{}, err
	}
	b, err := campaign.NewBatches(d.Store, set, d.Log)
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Stream: b.Handle}, nil
}

// target turns a job's typed result into the Target shape; Lambda serialises the
// result as before.
func target[R any](job func(context.Context, json.RawMessage) (R, error)) wire.Target {
	return func(ctx context.Context, in json.RawMessage) (any, error) { return job(ctx, in) }
}

// Referral is the stream consumer that attributes referrals and posts their
// rewards and commission.
func Referral(d wire.Deps) (wire.Function, error) {
	e, err := referralEngine(d)
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Stream: e.Handle}, nil
}

// referralEngine is the referral engine with its own settings cache.
func referralEngine(d wire.Deps) (*referral.Engine, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	set, err := settings.New(d.Store)
	if err != nil {
		return nil, err
	}
	return referral.New(d.Store, set, d.Log)
}

// EventsOut is the stream consumer that turns committed changes into the
// tenants' webhook events, fans them out to their endpoints and sends them.
func EventsOut(d wire.Deps) (wire.Function, error) {
	dlv, err := eventDeliverer(d, "eventsout")
	if err != nil {
		return wire.Function{}, err
	}
	c, err := webhookout.NewConsumer(d.Store, webhookout.Default(), dlv, d.Log)
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Stream: c.Handle}, nil
}

// EventDelivery is the every-minute sweep making the webhook retries that are due.
func EventDelivery(d wire.Deps) (wire.Function, error) {
	dlv, err := eventDeliverer(d, "eventdelivery")
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Target: target(dlv.Sweep)}, nil
}

// eventDeliverer sends webhooks through d.Guard.
func eventDeliverer(d wire.Deps, name string) (*webhookout.Deliverer, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	if err := d.CheckSecrets(name); err != nil {
		return nil, err
	}
	return webhookout.NewDeliverer(d.Store, d.Guard, d.Log, d.WebhookOptions...)
}

// QRExpiry is the daily job reminding operators of group QR images about to
// expire, through the live codes' connectors.
func QRExpiry(d wire.Deps) (wire.Function, error) {
	if err := d.Check(); err != nil {
		return wire.Function{}, err
	}
	if err := d.CheckSecrets("qrexpiry"); err != nil {
		return wire.Function{}, err
	}
	dlv, err := deliverySender(d)
	if err != nil {
		return wire.Function{}, err
	}
	j, err := qrexpiry.New(d.Store, dlv, d.Log)
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{Target: target(j.Run)}, nil
}
