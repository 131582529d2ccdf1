package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/referral"
	"github.com/tribehq/tribe/shared/store"
)

// The referrals function: invite codes, referrals, the referral program,
// distributors and payouts, the numbers.

type inviteOut struct {
	Code     string `json:"code"`
	State    string `json:"state"`
	URL      string `json:"url"`
	QRPNGURL string `json:"qr_png_url"`
}

// inviteURL is where an invite link points: the program's landing page with
// ?ref=CODE, or Tribe's own public invite page.
func (s *Server) inviteURL(r *http.Request, tenantID, code string, prog store.ReferralProgram) string {
	if prog.LandingURL != "" {
		u, err := url.Parse(prog.LandingURL)
		if err == nil {
			q := u.Query()
			q.Set("ref", code)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return s.publicURL(r, "/v1/invites/"+tenantID+"/"+code)
}

func (s *Server) getInvite(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := memberID(r)
	if err != nil {
		return err
	}
	inv, err := s.referral.Invite(r.Context(), c.tenant, id)
	if err != nil {
		return err
	}
	prog, err := c.tenant.ReferralProgram(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, inviteOut{Code: inv.Code, State: referral.State(inv.Code),
		URL:      s.inviteURL(r, c.tenant.ID(), inv.Code, prog),
		QRPNGURL: s.publicURL(r, "/v1/invites/"+c.tenant.ID()+"/"+inv.Code+"/qr.png")})
}

// publicInvite reads the {tenant_id}/{code} of a public invite route; anything
// malformed or unknown is not found.
func (s *Server) publicInvite(r *http.Request) (*store.Tenant, store.Invite, error) {
	t, err := s.store.Tenant(r.PathValue("tenant_id"))
	if err != nil {
		return nil, store.Invite{}, problem.New(problem.NotFound, "invite not found")
	}
	code, ok := referral.ParseCode(r.PathValue("code"))
	if !ok {
		return nil, store.Invite{}, problem.New(problem.NotFound, "invite not found")
	}
	inv, err := t.InviteByCode(r.Context(), code)
	return t, inv, err
}

// resolveInvite is the public invite page's data: the code and how to use it.
func (s *Server) resolveInvite(w http.ResponseWriter, r *http.Request, c *call) error {
	_, inv, err := s.publicInvite(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"code": inv.Code, "state": referral.State(inv.Code), "referral_code": inv.Code})
}

func (s *Server) inviteQR(w http.ResponseWriter, r *http.Request, c *call) error {
	t, inv, err := s.publicInvite(r)
	if err != nil {
		return err
	}
	prog, err := t.ReferralProgram(r.Context())
	if err != nil {
		return err
	}
	return s.writeQR(w, s.inviteURL(r, t.ID(), inv.Code, prog))
}

func (s *Server) liveCodeQR(w http.ResponseWriter, r *http.Request, c *call) error {
	code, err := s.ownLiveCode(r, c)
	if err != nil {
		return err
	}
	lc, err := c.tenant.LiveCode(r.Context(), code)
	if err != nil {
		return err
	}
	if jw, found, err := c.tenant.LiveCodeWeCom(r.Context(), code); err != nil {
		return err
	} else if found && jw.QRCode != "" {
		// Backed by a WeCom join way: WeCom's own QR image is the code to print.
		http.Redirect(w, r, jw.QRCode, http.StatusFound)
		return nil
	}
	return s.writeQR(w, s.liveCodeView(r, lc).LandingURL)
}

func (s *Server) channelQR(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	ch, err := c.tenant.Channel(r.Context(), id)
	if err != nil {
		return err
	}
	prog, err := c.tenant.ReferralProgram(r.Context())
	if err != nil {
		return err
	}
	// The channel's code is its state: on the landing page as ?channel=, in WeCom
	// contact ways as state.
	target := s.publicURL(r, "/v1/channels/"+ch.ID+"?channel="+url.QueryEscape(ch.Code))
	if prog.LandingURL != "" {
		if u, err := url.Parse(prog.LandingURL); err == nil {
			q := u.Query()
			q.Set("channel", ch.Code)
			u.RawQuery = q.Encode()
			target = u.String()
		}
	}
	return s.writeQR(w, target)
}

type referralView struct {
	store.Referral
	History []store.ReferralEvent `json:"history,omitempty"`
}

func (s *Server) memberReferrals(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := memberID(r)
	if err != nil {
		return err
	}
	return listPage(w, r, func(ctx context.Context, limit int, cursor string) (store.Page[store.Referral], error) {
		return c.tenant.ReferralsBy(ctx, id, limit, cursor)
	})
}

var referralStatuses = map[string]bool{store.ReferralJoined: true, store.ReferralQualified: true, store.ReferralConfirmed: true, store.ReferralReversed: true, store.ReferralHeld: true}

// period reads from/to (RFC 3339 or YYYY-MM-DD, to exclusive when a time), by
// default the last 30 days, at most 366 days.
func (s *Server) period(r *http.Request) (time.Time, time.Time, error) {
	q := r.URL.Query()
	now := s.store.Now()
	from, to := now.AddDate(0, 0, -30), now.Add(time.Second)
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			d, derr := time.Parse(time.DateOnly, v)
			if derr != nil {
				return time.Time{}, time.Time{}, problem.Field(name, "%s is a date YYYY-MM-DD or an RFC 3339 time", name)
			}
			t = d
			if name == "to" {
				t = d.AddDate(0, 0, 1)
			}
		}
		*dst = t.UTC()
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, problem.Field("from", "from is not before to")
	}
	if to.Sub(from) > 367*24*time.Hour {
		return time.Time{}, time.Time{}, problem.Field("from", "the period is at most a year")
	}
	return from, to, nil
}

func (s *Server) listReferrals(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && !referralStatuses[status] {
		return problem.Field("status", "status is joined, qualified, confirmed, reversed or held")
	}
	referrer := q.Get("referrer")
	if referrer != "" && !ids.Valid(ids.Member, referrer) {
		return problem.Field("referrer", "referrer is a member id")
	}
	from, to, err := s.period(r)
	if err != nil {
		return err
	}
	f := store.ReferralFilter{Status: status, ReferrerID: referrer, From: from, To: to}
	return listPage(w, r, func(ctx context.Context, limit int, cursor string) (store.Page[store.Referral], error) {
		return c.tenant.ListReferrals(ctx, f, limit, cursor)
	})
}

func referralID(r *http.Request) (string, error) {
	return pathID(r, "id", store.ReferralPrefix, "referral")
}

func (s *Server) getReferral(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := referralID(r)
	if err != nil {
		return err
	}
	ref, err := c.tenant.Referral(r.Context(), store.InviteeOf(id))
	if err != nil {
		return err
	}
	h, err := c.tenant.ReferralHistory(r.Context(), ref.InviteeID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, referralView{Referral: ref, History: h})
}

func (s *Server) releaseReferral(w http.ResponseWriter, r *http.Request, c *call) error {
	return byPathID(w, r, referralID, func(ctx context.Context, id string) (store.Referral, error) {
		return s.referral.Release(ctx, c.tenant, id)
	})
}

func (s *Server) rejectReferral(w http.ResponseWriter, r *http.Request, c *call) error {
	return byPathID(w, r, referralID, func(ctx context.Context, id string) (store.Referral, error) {
		return s.referral.Reject(ctx, c.tenant, id)
	})
}

func (s *Server) getReferralProgram(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := c.tenant.ReferralProgram(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

type programIn struct {
	Enabled             *bool             `json:"enabled"`
	ReferrerJoinPoints  int64             `json:"referrer_join_points"`
	InviteeJoinPoints   int64             `json:"invitee_join_points"`
	ReferrerOrderPoints int64             `json:"referrer_order_points"`
	InviteeOrderPoints  int64             `json:"invitee_order_points"`
	Milestones          []store.Milestone `json:"milestones"`
	MonthlyCap          int64             `json:"monthly_cap"`
	RefundWindowDays    *int              `json:"refund_window_days"`
	DailyLimit          int64             `json:"daily_limit"`
	LandingURL          string            `json:"landing_url"`
	Commission          store.Commission  `json:"commission"`
}

func (s *Server) putReferralProgram(w http.ResponseWriter, r *http.Request, c *call) error {
	var in programIn
	if err := decode(r, &in); err != nil {
		return err
	}
	p := store.ReferralProgram{Enabled: true, ReferrerJoinPoints: in.ReferrerJoinPoints, InviteeJoinPoints: in.InviteeJoinPoints,
		ReferrerOrderPoints: in.ReferrerOrderPoints, InviteeOrderPoints: in.InviteeOrderPoints, Milestones: in.Milestones,
		MonthlyCap: in.MonthlyCap, RefundWindowDays: 7, DailyLimit: in.DailyLimit, LandingURL: in.LandingURL, Commission: in.Commission,
		UpdatedAt: s.store.Now()}
	if in.Enabled != nil {
		p.Enabled = *in.Enabled
	}
	if in.RefundWindowDays != nil {
		p.RefundWindowDays = *in.RefundWindowDays
	}
	if p.Milestones == nil {
		p.Milestones = []store.Milestone{}
	}
	if err := problem.FromFields(referral.CheckProgram(&p), ""); err != nil {
		return err
	}
	if err := c.tenant.PutReferralProgram(r.Context(), p); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// programPoints is the referral points a referral costs: join rewards, order
// rewards pending or paid (milestones are per referrer: Stats.AddMilestones).
func programPoints(p store.ReferralProgram) func(store.Referral) int64 {
	return func(r store.Referral) int64 {
		n := r.PendingReferrer + r.PendingInvitee
		if r.Via != store.ViaOrder && r.Status != store.ReferralHeld {
			n += p.ReferrerJoinPoints + p.InviteeJoinPoints
		}
		return n
	}
}

func (s *Server) referralStats(w http.ResponseWriter, r *http.Request, c *call) error {
	group := r.URL.Query().Get("group_by")
	switch group {
	case "":
		group = "day"
	case "day", "channel", "referrer":
	default:
		return problem.Field("group_by", "group_by is day, channel or referrer")
	}
	from, to, err := s.period(r)
	if err != nil {
		return err
	}
	set, err := s.settings.Get(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	prog, err := c.tenant.ReferralProgram(r.Context())
	if err != nil {
		return err
	}
	refs, err := joinedReferrals(r, c, from, to)
	if err != nil {
		return err
	}
	st := referral.Tally(refs, group, set.Location, set.Currency, programPoints(prog))
	paid, err := c.tenant.MilestonesPaid(r.Context(), from, to)
	if err != nil {
		return err
	}
	st.AddMilestones(paid, group, set.Location)
	// Commission cost: accrued net of reversals and adjustments in the period.
	if err := s.eachDistributor(r, c, func(d store.Distributor) error {
		es, err := c.tenant.CommissionEntries(r.Context(), d.ID, from, to)
		for _, e := range es {
			if e.Kind == store.CommissionAccrue || e.Kind == store.CommissionReverse || e.Kind == store.CommissionAdjust {
				st.CommissionCostMinor += e.Pending + e.Available
			}
		}
		return err
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "group_by": group, "currency": set.Currency, "stats": st})
}

func (s *Server) referralLeaderboard(w http.ResponseWriter, r *http.Request, c *call) error {
	from, to, err := s.period(r)
	if err != nil {
		return err
	}
	limit, _, err := pageParams(r)
	if err != nil {
		return err
	}
	refs, err := joinedReferrals(r, c, from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "data": referral.Leaderboard(refs, limit)})
}

// joinedReferrals collects what ReferralsJoined reads for from and to.
func joinedReferrals(r *http.Request, c *call, from, to time.Time) ([]store.Referral, error) {
	var refs []store.Referral
	err := c.tenant.ReferralsJoined(r.Context(), from, to, func(ref store.Referral) error {
		refs = append(refs, ref)
		return nil
	})
	return refs, err
}

// Distributors.

func (s *Server) createDistributor(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		MemberID string `json:"member_id"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if !ids.Valid(ids.Member, in.MemberID) {
		return problem.Field("member_id", "member_id is a member id")
	}
	now := s.store.Now()
	d := store.Distributor{ID: in.MemberID, MemberID: in.MemberID, Status: store.DistributorPending, CreatedAt: now, UpdatedAt: now}
	if err := c.tenant.CreateDistributor(r.Context(), d); err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/distributors/"+d.ID)
	return writeJSON(w, http.StatusCreated, d)
}

func distributorID(r *http.Request) (string, error) {
	return pathID(r, "id", ids.Member, "distributor")
}

func (s *Server) getDistributor(w http.ResponseWriter, r *http.Request, c *call) error {
	return byPathID(w, r, distributorID, c.tenant.Distributor)
}

func (s *Server) listDistributors(w http.ResponseWriter, r *http.Request, c *call) error {
	return listPage(w, r, c.tenant.Distributors)
}

func (s *Server) updateDistributor(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := distributorID(r)
	if err != nil {
		return err
	}
	var in struct {
		Status string `json:"status"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	switch in.Status {
	case store.DistributorPending, store.DistributorApproved, store.DistributorSuspended:
	default:
		return problem.Field("status", "status is pending, approved or suspended")
	}
	d, err := c.tenant.SetDistributorStatus(r.Context(), id, in.Status)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) approveDistributor(w http.ResponseWriter, r *http.Request, c *call) error {
	return byPathID(w, r, distributorID, func(ctx context.Context, id string) (store.Distributor, error) {
		return c.tenant.SetDistributorStatus(ctx, id, store.DistributorApproved)
	})
}

func (s *Server) eachDistributor(r *http.Request, c *call, fn func(store.Distributor) error) error {
	cursor := ""
	for {
		page, err := c.tenant.Distributors(r.Context(), 100, cursor)
		if err != nil {
			return err
		}
		for _, d := range page.Items {
			if err := fn(d); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		cursor = page.NextCursor
	}
}

// payoutLine is one distributor's statement for a period.
type payoutLine struct {
	DistributorID  string `json:"distributor_id"`
	Status         string `json:"status"`
	AccruedMinor   int64  `json:"accrued_minor"`
	ReversedMinor  int64  `json:"reversed_minor"`
	ReleasedMinor  int64  `json:"released_minor"`
	AdjustedMinor  int64  `json:"adjusted_minor"`
	PaidMinor      int64  `json:"paid_minor"`
	PendingMinor   int64  `json:"pending_minor"`
	AvailableMinor int64  `json:"available_minor"`
}

func monthPeriod(v string) (time.Time, time.Time, error) {
	t, err := time.Parse("2006-01", v)
	if err != nil {
		return time.Time{}, time.Time{}, problem.Field("period", "period is a month YYYY-MM")
	}
	return t, t.AddDate(0, 1, 0), nil
}

func (s *Server) listPayouts(w http.ResponseWriter, r *http.Request, c *call) error {
	period := r.URL.Query().Get("period")
	if period == "" {
		period = s.store.Now().Format("2006-01")
	}
	from, to, err := monthPeriod(period)
	if err != nil {
		return err
	}
	set, err := s.settings.Get(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	lines := []payoutLine{}
	if err := s.eachDistributor(r, c, func(d store.Distributor) error {
		es, err := c.tenant.CommissionEntries(r.Context(), d.ID, from, to)
		if err != nil {
			return err
		}
		l := payoutLine{DistributorID: d.ID, Status: d.Status, PendingMinor: d.PendingMinor, AvailableMinor: d.AvailableMinor}
		for _, e := range es {
			switch e.Kind {
			case store.CommissionAccrue:
				l.AccruedMinor += e.Pending
			case store.CommissionReverse:
				l.ReversedMinor -= e.Pending
			case store.CommissionRelease:
				l.ReleasedMinor += e.Available
			case store.CommissionAdjust:
				l.AdjustedMinor += e.Available
			case store.CommissionPayout:
				l.PaidMinor -= e.Available
			}
		}
		lines = append(lines, l)
		return nil
	}); err != nil {
		return err
	}
	payouts, err := c.tenant.Payouts(r.Context(), period)
	if err != nil {
		return err
	}
	if strings.Contains(r.Header.Get("Accept"), "text/csv") || r.URL.Query().Get("format") == "csv" {
		var buf bytes.Buffer
		cw := csv.NewWriter(&buf)
		_ = cw.Write([]string{"period", "currency", "distributor_id", "status", "accrued_minor", "reversed_minor", "released_minor", "adjusted_minor", "paid_minor", "pending_minor", "available_minor"})
		for _, l := range lines {
			_ = cw.Write([]string{period, set.Currency, l.DistributorID, l.Status, i64(l.AccruedMinor), i64(l.ReversedMinor), i64(l.ReleasedMinor),
				i64(l.AdjustedMinor), i64(l.PaidMinor), i64(l.PendingMinor), i64(l.AvailableMinor)})
		}
		cw.Flush()
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="payouts-`+period+`.csv"`)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
		return nil
	}
	if payouts == nil {
		payouts = []store.Payout{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"period": period, "currency": set.Currency, "data": lines, "payouts": payouts})
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func (s *Server) createPayout(w http.ResponseWriter, r *http.Request, c *call) error {
	key, _, err := requireKey(r, c)
	if err != nil {
		return err
	}
	var in struct {
		DistributorID string `json:"distributor_id"`
		AmountMinor   *int64 `json:"amount_minor"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if !ids.Valid(ids.Member, in.DistributorID) {
		return problem.Field("distributor_id", "distributor_id is a distributor (member) id")
	}
	d, err := c.tenant.Distributor(r.Context(), in.DistributorID)
	if problem.Is(err, problem.NotFound) {
		return problem.Field("distributor_id", "no such distributor")
	}
	if err != nil {
		return err
	}
	amount := d.AvailableMinor
	if in.AmountMinor != nil {
		amount = *in.AmountMinor
		if amount <= 0 {
			return problem.Field("amount_minor", "amount_minor is positive")
		}
		if amount > d.AvailableMinor {
			return problem.Field("amount_minor", "amount_minor is more than the %d available", d.AvailableMinor)
		}
	}
	if amount <= 0 {
		return problem.Field("distributor_id", "the distributor has no available commission")
	}
	now := s.store.Now()
	// The payout id derives from the Idempotency-Key: a retry that gets past the
	// key's record (expired, or a crash before it was written) still pays once.
	sum := sha256.Sum256([]byte(key))
	p := store.Payout{ID: "po_" + hex.EncodeToString(sum[:12]), DistributorID: d.ID, AmountMinor: amount, Period: now.Format("2006-01"), At: now}
	got, err := c.tenant.CreatePayout(r.Context(), p)
	switch {
	case errors.Is(err, store.ErrAlreadyPosted):
		return writeJSON(w, http.StatusOK, got)
	case errors.Is(err, store.ErrInsufficient):
		return problem.Field("amount_minor", "more than the available commission")
	case err != nil:
		return err
	}
	return writeJSON(w, http.StatusCreated, got)
}
