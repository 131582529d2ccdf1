package api

// The stats function (数据监测, 复盘): day counters by day, ISO week and month with
// week-over-week and month-over-month growth, per tenant, group or channel; the
// channel funnels; groups' active ratios; the summary (repurchase rate, points
// ROI, fission). Every route answers text/csv too (UTF-8 with a BOM, so Excel
// reads Chinese).

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/counters"
	"github.com/tribehq/tribe/shared/money"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/referral"
	"github.com/tribehq/tribe/shared/store"
)

// Period kinds.
const (
	periodDay   = "daily"
	periodWeek  = "weekly"
	periodMonth = "monthly"
)

// statsRow is one day, ISO week or month of a scope's counters.
type statsRow struct {
	Period string           `json:"period"`
	Day    string           `json:"day,omitempty"`
	Start  string           `json:"start"`
	End    string           `json:"end"`
	Counts map[string]int64 `json:"counts"`
	// Previous is the same counters a week (daily, weekly) or a month (monthly)
	// before; Growth is (this − previous) ÷ previous per counter, absent when
	// previous is zero.
	Previous map[string]int64   `json:"previous"`
	Growth   map[string]float64 `json:"growth"`
	// Group scope: members at the end of the period and the average daily active
	// members ÷ those members.
	MembersEnd  *int64   `json:"members_end,omitempty"`
	ActiveRatio *float64 `json:"active_ratio,omitempty"`
}

func (s *Server) dailyStats(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.periodStats(w, r, c, periodDay)
}

func (s *Server) weeklyStats(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.periodStats(w, r, c, periodWeek)
}

func (s *Server) monthlyStats(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.periodStats(w, r, c, periodMonth)
}

// span is one period: its name and first and last day.
type span struct{ name, start, end string }

// periods cuts from..to into days, ISO weeks (Monday to Sunday) or calendar
// months, widened to whole periods; prev returns the period compared with.
func periods(kind, from, to string) (out []span, prev func(span) span) {
	f, t := mustDate(from), mustDate(to)
	switch kind {
	case periodWeek:
		f = f.AddDate(0, 0, -((int(f.Weekday()) + 6) % 7))
		for d := f; !d.After(t); d = d.AddDate(0, 0, 7) {
			y, wk := d.ISOWeek()
			out = append(out, span{fmt.Sprintf("%d-W%02d", y, wk), day(d), day(d.AddDate(0, 0, 6))})
		}
		return out, func(p span) span {
			d := mustDate(p.start).AddDate(0, 0, -7)
			y, wk := d.ISOWeek()
			return span{fmt.Sprintf("%d-W%02d", y, wk), day(d), day(d.AddDate(0, 0, 6))}
		}
	case periodMonth:
		month := func(d time.Time) span {
			first := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
			return span{first.Format("2006-01"), day(first), day(first.AddDate(0, 1, -1))}
		}
		for d := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, time.UTC); !d.After(t); d = d.AddDate(0, 1, 0) {
			out = append(out, month(d))
		}
		return out, func(p span) span { return month(mustDate(p.start).AddDate(0, -1, 0)) }
	}
	for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
		out = append(out, span{day(d), day(d), day(d)})
	}
	return out, func(p span) span { d := day(mustDate(p.start).AddDate(0, 0, -7)); return span{d, d, d} }
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

// statsScope reads ?scope= and checks the group or channel exists.
func statsScope(r *http.Request, c *call) (store.Scope, error) {
	sc, err := store.ParseScope(r.URL.Query().Get("scope"))
	if err != nil {
		return sc, err
	}
	switch sc.Kind {
	case store.ScopeGroup:
		_, err = c.tenant.Group(r.Context(), sc.ID)
	case store.ScopeChannel:
		_, err = c.tenant.Channel(r.Context(), sc.ID)
	}
	return sc, err
}

// statsRange is the request's local from..to, at most a year.
func (s *Server) statsRange(r *http.Request, c *call) (string, string, error) {
	from, to, err := s.localRange(r, c)
	if err != nil {
		return "", "", err
	}
	if mustDate(from).AddDate(1, 0, 1).Before(mustDate(to)) {
		return "", "", problem.Field("from", "at most one year at a time")
	}
	return from, to, nil
}

func (s *Server) periodStats(w http.ResponseWriter, r *http.Request, c *call, kind string) error {
	sc, err := statsScope(r, c)
	if err != nil {
		return err
	}
	from, to, err := s.statsRange(r, c)
	if err != nil {
		return err
	}
	set, err := s.settings.Get(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	spans, prev := periods(kind, from, to)
	first := prev(spans[0]).start
	last := spans[len(spans)-1].end
	today := set.Day(s.store.Now())
	readTo := last
	if sc.Kind == store.ScopeGroup && today > readTo {
		readTo = today // members at the end of a day count back from today's
	}
	days, err := c.tenant.StatDays(r.Context(), sc, first, readTo)
	if err != nil {
		return err
	}
	byDay := map[string]map[string]int64{}
	for _, d := range days {
		byDay[d.Day] = d.Counts
	}
	sum := func(p span) map[string]int64 {
		out := map[string]int64{}
		for d := mustDate(p.start); day(d) <= p.end; d = d.AddDate(0, 0, 1) {
			for k, v := range byDay[day(d)] {
				out[k] += v
			}
		}
		return out
	}
	var membersEnd func(string) int64
	if sc.Kind == store.ScopeGroup {
		g, err := c.tenant.Group(r.Context(), sc.ID)
		if err != nil {
			return err
		}
		membersEnd = func(end string) int64 {
			n := int64(g.Members)
			for d, counts := range byDay {
				if d > end {
					n -= counts[counters.GroupJoins] - counts[counters.GroupLeaves]
				}
			}
			return max(n, 0)
		}
	}
	rows := make([]statsRow, 0, len(spans))
	for _, p := range spans {
		row := statsRow{Period: p.name, Start: p.start, End: p.end, Counts: sum(p), Previous: sum(prev(p)), Growth: map[string]float64{}}
		if kind == periodDay {
			row.Day = p.start
		}
		for k, v := range row.Counts {
			if pv := row.Previous[k]; pv != 0 {
				row.Growth[k] = round4(float64(v-pv) / float64(pv))
			}
		}
		if membersEnd != nil {
			n := membersEnd(p.end)
			row.MembersEnd = &n
			if n > 0 {
				days := mustDate(p.end).Sub(mustDate(p.start)).Hours()/24 + 1
				ratio := round4(float64(row.Counts[counters.ActiveMembers]) / days / float64(n))
				row.ActiveRatio = &ratio
			}
		}
		rows = append(rows, row)
	}
	basis := "week_over_week"
	if kind == periodMonth {
		basis = "month_over_month"
	}
	if wantsCSV(r) {
		return writeCSV(w, "stats-"+kind+"-"+from+"-"+to, periodCSV(rows))
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"scope": sc.String(), "period": kind, "from": from, "to": to, "timezone": set.Location.String(),
		"currency": set.Currency, "growth_basis": basis, "data": rows, "next_cursor": nil,
	})
}

func round4(f float64) float64 { return math.Round(f*10000) / 10000 }

// ratio is a ÷ b to four places, nil when b is zero.
func ratio(a, b int64) *float64 {
	if b == 0 {
		return nil
	}
	f := round4(float64(a) / float64(b))
	return &f
}

func wantsCSV(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/csv") || r.URL.Query().Get("format") == "csv"
}

// utf8BOM starts every CSV: Excel reads the file as UTF-8 only with it.
const utf8BOM = "\ufeff"

func writeCSV(w http.ResponseWriter, name string, rows [][]string) error {
	var buf bytes.Buffer
	buf.WriteString(utf8BOM)
	cw := csv.NewWriter(&buf)
	_ = cw.WriteAll(rows)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

func periodCSV(rows []statsRow) [][]string {
	names := map[string]bool{}
	for _, r := range rows {
		for k := range r.Counts {
			names[k] = true
		}
	}
	cols := make([]string, 0, len(names))
	for k := range names {
		cols = append(cols, k)
	}
	sort.Strings(cols)
	head := append([]string{"period", "start", "end"}, cols...)
	for _, k := range cols {
		head = append(head, k+"_growth")
	}
	head = append(head, "members_end", "active_ratio")
	out := [][]string{head}
	for _, r := range rows {
		line := []string{r.Period, r.Start, r.End}
		for _, k := range cols {
			line = append(line, strconv.FormatInt(r.Counts[k], 10))
		}
		for _, k := range cols {
			g, ok := r.Growth[k]
			line = append(line, optFloat(&g, ok))
		}
		var m string
		if r.MembersEnd != nil {
			m = strconv.FormatInt(*r.MembersEnd, 10)
		}
		line = append(line, m, optFloat(r.ActiveRatio, r.ActiveRatio != nil))
		out = append(out, line)
	}
	return out
}

func optFloat(f *float64, ok bool) string {
	if !ok || f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// funnel is one channel's acquisition funnel over a period.
type funnel struct {
	ChannelID    string `json:"channel_id"`
	Name         string `json:"name"`
	Code         string `json:"code"`
	Scans        int64  `json:"scans"`
	Contacts     int64  `json:"contacts"`
	GroupJoins   int64  `json:"group_joins"`
	FirstOrders  int64  `json:"first_orders"`
	RepeatOrders int64  `json:"repeat_orders"`
	GMVMinor     int64  `json:"gmv_minor"`
	// TrafficConversion (引流转换率) is contacts ÷ scans; GroupRate group joins ÷
	// contacts; PurchaseConversion (成交转化率) first orders ÷ contacts;
	// RepurchaseRate (复购率) repeat orders ÷ all orders.
	TrafficConversion  *float64 `json:"traffic_conversion"`
	GroupRate          *float64 `json:"group_rate"`
	PurchaseConversion *float64 `json:"purchase_conversion"`
	RepurchaseRate     *float64 `json:"repurchase_rate"`
}

// maxFunnelChannels bounds one funnel answer (each channel is a read of its
// counters' shares).
const maxFunnelChannels = 100

func (s *Server) statsFunnels(w http.ResponseWriter, r *http.Request, c *call) error {
	from, to, err := s.statsRange(r, c)
	if err != nil {
		return err
	}
	var chans []store.Channel
	cursor := ""
	for len(chans) < maxFunnelChannels {
		p, err := c.tenant.Channels(r.Context(), 100, cursor)
		if err != nil {
			return err
		}
		chans = append(chans, p.Items...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	out := make([]funnel, 0, len(chans))
	for _, ch := range chans[:min(len(chans), maxFunnelChannels)] {
		days, err := c.tenant.ChannelStats(r.Context(), ch.ID, from, to)
		if err != nil {
			return err
		}
		f := funnel{ChannelID: ch.ID, Name: ch.Name, Code: ch.Code}
		for _, d := range days {
			f.Scans += d.Scans
			f.Contacts += d.MembersAdded
			f.GroupJoins += d.JoinedGroup
			f.FirstOrders += d.FirstOrders
			f.RepeatOrders += d.RepeatOrders
			f.GMVMinor += d.GMVMinor
		}
		f.TrafficConversion = ratio(f.Contacts, f.Scans)
		f.GroupRate = ratio(f.GroupJoins, f.Contacts)
		f.PurchaseConversion = ratio(f.FirstOrders, f.Contacts)
		f.RepurchaseRate = ratio(f.RepeatOrders, f.FirstOrders+f.RepeatOrders)
		out = append(out, f)
	}
	if wantsCSV(r) {
		rows := [][]string{{"channel_id", "name", "code", "scans", "contacts", "group_joins", "first_orders", "repeat_orders", "gmv_minor",
			"traffic_conversion", "group_rate", "purchase_conversion", "repurchase_rate"}}
		for _, f := range out {
			rows = append(rows, []string{f.ChannelID, f.Name, f.Code, i64(f.Scans), i64(f.Contacts), i64(f.GroupJoins), i64(f.FirstOrders),
				i64(f.RepeatOrders), i64(f.GMVMinor), optFloat(f.TrafficConversion, true), optFloat(f.GroupRate, true),
				optFloat(f.PurchaseConversion, true), optFloat(f.RepurchaseRate, true)})
		}
		return writeCSV(w, "funnels-"+from+"-"+to, rows)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "data": out})
}

// groupStats is one group's numbers over a period.
type groupStats struct {
	GroupID    string `json:"group_id"`
	Name       string `json:"name"`
	Members    int64  `json:"members"`
	Joins      int64  `json:"joins"`
	Leaves     int64  `json:"leaves"`
	Messages   int64  `json:"messages"`
	Violations int64  `json:"violations"`
	// ActiveRatio is the period's average daily active members ÷ members now.
	ActiveRatio *float64 `json:"active_ratio"`
}

func (s *Server) statsGroups(w http.ResponseWriter, r *http.Request, c *call) error {
	from, to, err := s.statsRange(r, c)
	if err != nil {
		return err
	}
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	page, err := c.tenant.Groups(r.Context(), min(limit, 50), cursor)
	if err != nil {
		return err
	}
	ndays := int64(mustDate(to).Sub(mustDate(from)).Hours()/24) + 1
	out := make([]groupStats, 0, len(page.Items))
	for _, g := range page.Items {
		days, err := c.tenant.StatDays(r.Context(), store.GroupScope(g.ID), from, to)
		if err != nil {
			return err
		}
		gs := groupStats{GroupID: g.ID, Name: g.Name, Members: int64(g.Members)}
		var active int64
		for _, d := range days {
			gs.Joins += d.Counts[counters.GroupJoins]
			gs.Leaves += d.Counts[counters.GroupLeaves]
			gs.Messages += d.Counts[counters.Messages]
			gs.Violations += d.Counts[counters.Violations]
			active += d.Counts[counters.ActiveMembers]
		}
		gs.ActiveRatio = ratio(active, ndays*gs.Members)
		out = append(out, gs)
	}
	if wantsCSV(r) {
		rows := [][]string{{"group_id", "name", "members", "joins", "leaves", "messages", "violations", "active_ratio"}}
		for _, g := range out {
			rows = append(rows, []string{g.GroupID, g.Name, i64(g.Members), i64(g.Joins), i64(g.Leaves), i64(g.Messages), i64(g.Violations), optFloat(g.ActiveRatio, true)})
		}
		return writeCSV(w, "groups-"+from+"-"+to, rows)
	}
	res := map[string]any{"from": from, "to": to, "data": out}
	if page.NextCursor != "" {
		res["next_cursor"] = page.NextCursor
	}
	return writeJSON(w, http.StatusOK, res)
}

// summary is the period's headline numbers.
type summary struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Currency string `json:"currency"`
	Orders   int64  `json:"orders"`
	First    int64  `json:"first_orders"`
	Repeat   int64  `json:"repeat_orders"`
	GMVMinor int64  `json:"gmv_minor"`
	// RepurchaseRate (复购率) is repeat orders ÷ orders.
	RepurchaseRate *float64     `json:"repurchase_rate"`
	Points         pointsROI    `json:"points"`
	Referrals      fissionStats `json:"referrals"`
}

// pointsROI: the points program's cost and what it brought.
type pointsROI struct {
	Issued   int64 `json:"issued"`
	Redeemed int64 `json:"redeemed"`
	Expired  int64 `json:"expired"`
	Reversed int64 `json:"reversed"`
	// RedemptionRate is redeemed ÷ issued.
	RedemptionRate *float64 `json:"redemption_rate"`
	// PointValue is the tenant's value of one point in its currency (tenant
	// setting point_value); CostMinor is issued points at that value.
	PointValue string `json:"point_value,omitempty"`
	CostMinor  *int64 `json:"cost_minor"`
	// GMVMinor is the spend of orders that earned points; ROI is it ÷ the cost.
	GMVMinor int64    `json:"gmv_minor"`
	ROI      *float64 `json:"roi"`
}

// fissionStats are the referral program's numbers (shared/referral).
type fissionStats struct {
	Referrers   int64   `json:"referrers"`
	FissionRate float64 `json:"fission_rate"`
	KFactor     float64 `json:"k_factor"`
}

func (s *Server) statsSummary(w http.ResponseWriter, r *http.Request, c *call) error {
	from, to, err := s.statsRange(r, c)
	if err != nil {
		return err
	}
	sum, err := s.summarize(r.Context(), c.tenant, from, to)
	if err != nil {
		return err
	}
	if wantsCSV(r) {
		p := sum.Points
		cost := ""
		if p.CostMinor != nil {
			cost = i64(*p.CostMinor)
		}
		return writeCSV(w, "summary-"+from+"-"+to, [][]string{
			{"from", "to", "currency", "orders", "first_orders", "repeat_orders", "gmv_minor", "repurchase_rate",
				"points_issued", "points_redeemed", "points_expired", "redemption_rate", "points_cost_minor", "points_gmv_minor", "points_roi",
				"referrers", "fission_rate", "k_factor"},
			{sum.From, sum.To, sum.Currency, i64(sum.Orders), i64(sum.First), i64(sum.Repeat), i64(sum.GMVMinor), optFloat(sum.RepurchaseRate, true),
				i64(p.Issued), i64(p.Redeemed), i64(p.Expired), optFloat(p.RedemptionRate, true), cost, i64(p.GMVMinor), optFloat(p.ROI, true),
				i64(sum.Referrals.Referrers), optFloat(&sum.Referrals.FissionRate, true), optFloat(&sum.Referrals.KFactor, true)},
		})
	}
	return writeJSON(w, http.StatusOK, sum)
}

// summarize reads the tenant's counters and referrals of from..to.
func (s *Server) summarize(ctx context.Context, t *store.Tenant, from, to string) (summary, error) {
	set, err := s.settings.Get(ctx, t)
	if err != nil {
		return summary{}, err
	}
	info, err := t.Info(ctx)
	if err != nil {
		return summary{}, err
	}
	days, err := t.StatDays(ctx, store.TenantScope, from, to)
	if err != nil {
		return summary{}, err
	}
	n := map[string]int64{}
	for _, d := range days {
		for k, v := range d.Counts {
			n[k] += v
		}
	}
	out := summary{From: from, To: to, Currency: set.Currency, Orders: n[counters.Orders], First: n[counters.FirstOrders],
		Repeat: n[counters.RepeatOrders], GMVMinor: n[counters.GMVMinor]}
	out.RepurchaseRate = ratio(out.Repeat, out.Orders)
	p := pointsROI{Issued: n[counters.PointsIssued], Redeemed: n[counters.PointsRedeemed], Expired: n[counters.PointsExpired],
		Reversed: n[counters.PointsReversed], GMVMinor: n[counters.PointsGMVMinor], PointValue: info.PointValue}
	p.RedemptionRate = ratio(p.Redeemed, p.Issued)
	if cost, ok := pointsCost(p.Issued, info.PointValue, set.Currency); ok {
		p.CostMinor = &cost
		p.ROI = ratio(p.GMVMinor, cost)
	}
	out.Points = p
	start := mustDate(from)
	fromT := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, set.Location)
	end := mustDate(to)
	toT := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, set.Location).AddDate(0, 0, 1)
	var refs []store.Referral
	if err := t.ReferralsJoined(ctx, fromT, toT, func(ref store.Referral) error {
		refs = append(refs, ref)
		return nil
	}); err != nil {
		return summary{}, err
	}
	prog, err := t.ReferralProgram(ctx)
	if err != nil {
		return summary{}, err
	}
	rs := referral.Tally(refs, "day", set.Location, set.Currency, programPoints(prog))
	out.Referrals = fissionStats{Referrers: rs.Referrers, FissionRate: rs.FissionRate, KFactor: rs.KFactor}
	return out, nil
}

// pointsCost is points at value (major units of currency per point) in minor
// units, rounded half up; false without a value.
func pointsCost(points int64, value, currency string) (int64, bool) {
	if value == "" {
		return 0, false
	}
	v, ok := new(big.Rat).SetString(value)
	exp, err := money.Exponent(currency)
	if !ok || err != nil {
		return 0, false
	}
	c := new(big.Rat).Mul(v, new(big.Rat).SetInt64(points))
	c.Mul(c, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil)))
	f, _ := c.Float64()
	return int64(math.Round(f)), true
}

// validPointValue accepts a point value as money.ParseRate reads it ("0.01").
func validPointValue(v string) bool {
	_, err := money.ParseRate(v)
	return err == nil && !slices.Contains([]string{"", "0"}, v)
}

// checkStatsSettings validates PATCH /v1/tenant's point_value (a positive
// decimal, or "" to clear) and morning_report_connector (a connector of the
// tenant, or "" for no report).
func checkStatsSettings(r *http.Request, c *call, pointValue, connector *string) error {
	if pointValue != nil && *pointValue != "" && !validPointValue(*pointValue) {
		return problem.Field("point_value", "point_value is a positive decimal, e.g. \"0.01\"")
	}
	if connector != nil && *connector != "" {
		if err := c.tenant.ConnectorExists(r.Context(), *connector); err != nil {
			if problem.Is(err, problem.NotFound) {
				return problem.Field("morning_report_connector", "morning_report_connector is not a connector of this tenant")
			}
			return err
		}
	}
	return nil
}
