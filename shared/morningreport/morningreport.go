// Package morningreport sends each tenant's morning report (早报): at 09:00
// tenant-local, yesterday's key numbers with week-over-week growth, to the
// connector the tenant picked (setting morning_report_connector), once per day.
//
// One catalogue schedule runs at the top of every hour and picks the tenants whose
// local time is 09:xx then (so zones with half-hour offsets get theirs at 09:30);
// per-tenant schedules would be one scheduler resource per tenant to create, move
// with the tenant's zone and delete, for the same effect. Exactly once per tenant
// and day: a marker is written conditionally before sending, so a retried run (or
// a run delivered twice) finds it and sends nothing. A crash between the marker
// and the send loses that day's report rather than risk sending it twice.
package morningreport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/counters"
	"github.com/tribehq/tribe/shared/money"
	"github.com/tribehq/tribe/shared/store"
)

// Hour is the local hour the report goes out.
const Hour = 9

// Sender sends through a tenant's connector and logs the delivery
// (delivery.Sender).
type Sender interface {
	Send(ctx context.Context, t *store.Tenant, connectorID, target, ref string, m connector.Message) (store.Delivery, error)
}

// Reporter is the hourly run.
type Reporter struct {
	store *store.Store
	send  Sender
	log   *slog.Logger
}

// New returns the reporter.
func New(st *store.Store, send Sender, log *slog.Logger) (*Reporter, error) {
	if st == nil || send == nil || log == nil {
		return nil, errors.New("morningreport: need a store, a sender and a logger")
	}
	return &Reporter{store: st, send: send, log: log}, nil
}

// Result is what a run did.
type Result struct {
	Due     int `json:"due"`
	Sent    int `json:"sent"`
	Already int `json:"already_sent"`
	Failed  int `json:"failed"`
}

// parallel is how many tenants' reports go out at once.
const parallel = 8

// Run is the scheduled target: every tenant whose local hour is Hour now and has a
// connector gets yesterday's report, unless it had it. A tenant that fails is
// logged and makes the run fail, so the scheduler's retry sends what is missing.
func (r *Reporter) Run(ctx context.Context, _ json.RawMessage) (Result, error) {
	now := r.store.Now()
	var (
		res  Result
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, parallel)
	err := r.store.ForEachTenant(ctx, func(t *store.Tenant, info store.TenantInfo) error {
		loc, err := time.LoadLocation(info.Timezone)
		if err != nil || now.In(loc).Hour() != Hour {
			return nil
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sent, due, err := r.Report(ctx, t, now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				res.Failed++
				errs = append(errs, fmt.Errorf("tenant %s: %w", t.ID(), err))
				r.log.ErrorContext(ctx, "morningreport: not sent", "tenant", t.ID(), "err", err)
			case sent:
				res.Due++
				res.Sent++
			case due:
				res.Due++
				res.Already++
			}
		}()
		return nil
	})
	wg.Wait()
	r.log.InfoContext(ctx, "morningreport: run", "due", res.Due, "sent", res.Sent, "already_sent", res.Already, "failed", res.Failed)
	return res, errors.Join(append(errs, err)...)
}

// Report sends the tenant's report of the local day before now, once: sent says
// this call sent it, due that the tenant has a connector for it.
func (r *Reporter) Report(ctx context.Context, t *store.Tenant, now time.Time) (sent, due bool, err error) {
	info, err := t.Info(ctx)
	if err != nil || info.MorningReportConnector == "" {
		return false, false, err
	}
	loc, err := time.LoadLocation(info.Timezone)
	if err != nil {
		return false, false, err
	}
	local := now.In(loc)
	yesterday := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	day, weekBefore := yesterday.Format(time.DateOnly), yesterday.AddDate(0, 0, -7).Format(time.DateOnly)
	days, err := t.StatDays(ctx, store.TenantScope, weekBefore, day)
	if err != nil {
		return false, true, err
	}
	var cur, prev map[string]int64
	for _, d := range days {
		switch d.Day {
		case day:
			cur = d.Counts
		case weekBefore:
			prev = d.Counts
		}
	}
	claimed, err := t.ClaimMorningReport(ctx, day)
	if err != nil || !claimed {
		return false, true, err
	}
	text := Text(info, day, cur, prev)
	if _, err := r.send.Send(ctx, t, info.MorningReportConnector, "morning_report", "morning:"+day, connector.Message{Title: "早报 " + day, Text: text}); err != nil {
		// The delivery log holds the failure; the marker stays, so no retry
		// sends a second report.
		r.log.WarnContext(ctx, "morningreport: delivery failed", "tenant", t.ID(), "day", day, "err", err)
	}
	return true, true, nil
}

// lines are the report's numbers, in order.
var lines = []struct{ counter, label string }{
	{counters.MembersCreated, "新会员 New members"},
	{counters.ActiveMembers, "活跃会员 Active members"},
	{counters.GroupJoins, "入群 Group joins"},
	{counters.GroupLeaves, "退群 Group leaves"},
	{counters.Messages, "消息 Messages"},
	{counters.CheckIns, "签到 Check-ins"},
	{counters.Orders, "订单 Orders"},
	{counters.FirstOrders, "首单 First orders"},
	{counters.RepeatOrders, "复购 Repeat orders"},
	{counters.GMVMinor, "GMV"},
	{counters.Refunds, "退款 Refunds"},
	{counters.PointsIssued, "发放积分 Points issued"},
	{counters.PointsRedeemed, "兑换积分 Points redeemed"},
	{counters.Violations, "违规 Violations"},
	{counters.Churned, "流失 Churned"},
	{counters.WonBack, "召回 Won back"},
}

// Text is the report: each number of day with its week-over-week change.
func Text(info store.TenantInfo, day string, cur, prev map[string]int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "【早报】%s %s\n", info.Name, day)
	for _, l := range lines {
		v, p := cur[l.counter], prev[l.counter]
		val := fmt.Sprint(v)
		if l.counter == counters.GMVMinor {
			val = amount(v, info.Currency)
		}
		fmt.Fprintf(&b, "%s: %s（周环比 %s）\n", l.label, val, Growth(v, p))
	}
	return strings.TrimRight(b.String(), "\n")
}

// Growth is week-over-week change as a signed percentage, "—" when last week had
// none.
func Growth(cur, prev int64) string {
	if prev == 0 {
		return "—"
	}
	return fmt.Sprintf("%+.1f%%", float64(cur-prev)*100/float64(prev))
}

// amount is minor units as a decimal with the currency's code.
func amount(minor int64, currency string) string {
	exp, err := money.Exponent(currency)
	if err != nil || exp == 0 {
		return fmt.Sprintf("%d %s", minor, currency)
	}
	r := new(big.Rat).SetFrac(big.NewInt(minor), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil))
	return r.FloatString(exp) + " " + currency
}
