package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/campaign"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// campaignView is a campaign as the API shows it: its settings as JSON, and a
// live campaign past its window as completed.
type campaignView struct {
	store.Campaign
	Status   string          `json:"status"`
	Settings json.RawMessage `json:"settings"`
}

func (s *Server) viewCampaign(c store.Campaign) campaignView {
	status := c.Status
	if (status == store.CampaignScheduled || status == store.CampaignRunning) && s.store.Now().After(c.EndsAt) {
		status = store.CampaignCompleted
	}
	settings := json.RawMessage(c.Settings)
	if !json.Valid(settings) {
		settings = json.RawMessage("{}")
	}
	return campaignView{Campaign: c, Status: status, Settings: settings}
}

func (s *Server) tenantZone(ctx context.Context, c *call) (string, error) {
	set, err := s.settings.Get(ctx, c.tenant)
	if err != nil {
		return "", err
	}
	return set.Location.String(), nil
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, c *call) error {
	var d campaign.Definition
	if err := decode(r, &d); err != nil {
		return err
	}
	tz, err := s.tenantZone(r.Context(), c)
	if err != nil {
		return err
	}
	cp, err := campaign.Validate(d, s.store.Now(), tz)
	if err != nil {
		return problem.FromFields(err, "")
	}
	now := s.store.Now()
	cp.ID, cp.Status, cp.Version, cp.CreatedAt, cp.UpdatedAt = ids.New(store.CampaignPrefix), store.CampaignDraft, 1, now, now
	if err := c.tenant.CreateCampaign(r.Context(), cp); err != nil {
		return err
	}
	c.note("campaign", cp.ID)
	w.Header().Set("Location", "/v1/campaigns/"+cp.ID)
	return writeJSON(w, http.StatusCreated, s.viewCampaign(cp))
}

func campaignID(r *http.Request) (string, error) {
	return pathID(r, "id", store.CampaignPrefix, "campaign")
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := campaignID(r)
	if err != nil {
		return err
	}
	cp, err := c.tenant.Campaign(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.viewCampaign(cp))
}

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, c *call) error {
	return listView(w, r, idCursor(store.CampaignPrefix, c.tenant.Campaigns), s.viewCampaign)
}

// definitionOf is the stored campaign as the API took it, for PATCH to merge over
// and activation to check again.
func definitionOf(c store.Campaign) campaign.Definition {
	d := campaign.Definition{
		Name: c.Name, Kind: c.Kind, StartsAt: c.StartsAt, EndsAt: c.EndsAt, Schedule: c.Schedule,
		Audience: campaign.AudienceInput{All: c.Audience.All}, Budget: c.Budget, Reward: c.Reward, Message: c.Message,
		Settings: json.RawMessage(c.Settings), AttributionDays: &c.AttributionDays, PointValueMinor: &c.PointValueMinor,
	}
	if c.Audience.Segment != nil {
		d.Audience.Segment, _ = json.Marshal(c.Audience.Segment)
	}
	return d
}

// updateCampaign merges the body's top-level fields over the campaign's
// definition and checks the whole again. A scheduled campaign's schedule is
// replaced; if that fails the campaign goes back to draft.
func (s *Server) updateCampaign(w http.ResponseWriter, r *http.Request, c *call) error {
	// Check-ins in this function see the change at once.
	defer campaign.ForgetLive(c.tenant.ID())
	var patch map[string]json.RawMessage
	if err := decode(r, &patch); err != nil {
		return err
	}
	cur, tz, err := s.campaignAndZone(r, c)
	if err != nil {
		return err
	}
	id := cur.ID
	switch cur.Status {
	case store.CampaignDraft, store.CampaignScheduled, store.CampaignPaused:
	default:
		return problem.New(problem.Conflict, "a %s campaign cannot be changed", cur.Status)
	}
	if k, ok := patch["kind"]; ok && string(k) != `"`+cur.Kind+`"` {
		return problem.Field("kind", "kind cannot be changed: create another campaign")
	}
	base, err := json.Marshal(definitionOf(cur))
	if err != nil {
		return err
	}
	var merged map[string]json.RawMessage
	if err := json.Unmarshal(base, &merged); err != nil {
		return err
	}
	for k, v := range patch {
		merged[k] = v
	}
	body, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	var d campaign.Definition
	if err := decodeBytes(body, &d); err != nil {
		return err
	}
	next, err := campaign.Validate(d, s.store.Now(), tz)
	if err != nil {
		return problem.FromFields(err, "")
	}
	updated, err := c.tenant.UpdateCampaign(r.Context(), id, func(cp *store.Campaign) error {
		if cp.Version != cur.Version {
			return problem.New(problem.Conflict, "campaign changed meanwhile; read it and retry")
		}
		next.ID, next.Status, next.ScheduleName, next.CreatedAt = cp.ID, cp.Status, cp.ScheduleName, cp.CreatedAt
		*cp = next
		return nil
	})
	if err != nil {
		return err
	}
	if updated.Status == store.CampaignScheduled {
		if err := s.putSchedule(r.Context(), c, updated, tz); err != nil {
			_ = s.scheduler.Delete(r.Context(), campaign.ScheduleName(c.tenant.ID(), id))
			if _, uerr := c.tenant.UpdateCampaign(r.Context(), id, func(cp *store.Campaign) error {
				cp.Status, cp.ScheduleName = store.CampaignDraft, ""
				return nil
			}); uerr != nil {
				c.log.Error("campaign: back to draft after a failed schedule update", "campaign", id, "err", uerr)
			}
			return err
		}
	}
	return writeJSON(w, http.StatusOK, s.viewCampaign(updated))
}

// putSchedule creates or replaces the campaign's schedule; it reports whether
// the campaign has one.
func (s *Server) putSchedule(ctx context.Context, c *call, cp store.Campaign, tz string) error {
	sc, ok, err := campaign.ScheduleOf(c.tenant.ID(), cp, s.store.Now(), tz)
	if err != nil || !ok {
		return err
	}
	if s.scheduler == nil {
		return problem.New(problem.Unavailable, "no scheduler is configured")
	}
	if err := s.scheduler.Put(ctx, sc); err != nil {
		return problem.Wrap(problem.Unavailable, err, "the scheduler did not take the campaign's schedule; the campaign stays %s", cp.Status)
	}
	return nil
}

// campaignAndZone reads the campaign of the request's path and the tenant's time
// zone.
func (s *Server) campaignAndZone(r *http.Request, c *call) (store.Campaign, string, error) {
	id, err := campaignID(r)
	if err != nil {
		return store.Campaign{}, "", err
	}
	tz, err := s.tenantZone(r.Context(), c)
	if err != nil {
		return store.Campaign{}, "", err
	}
	cur, err := c.tenant.Campaign(r.Context(), id)
	return cur, tz, err
}

func (s *Server) activateCampaign(w http.ResponseWriter, r *http.Request, c *call) error {
	// Check-ins in this function see the change at once.
	defer campaign.ForgetLive(c.tenant.ID())
	cur, tz, err := s.campaignAndZone(r, c)
	if err != nil {
		return err
	}
	id := cur.ID
	switch cur.Status {
	case store.CampaignDraft, store.CampaignPaused:
	case store.CampaignScheduled, store.CampaignRunning:
		return writeJSON(w, http.StatusOK, s.viewCampaign(cur))
	default:
		return problem.New(problem.Conflict, "a %s campaign cannot be activated", cur.Status)
	}
	// The definition is checked again: its window or schedule may have passed.
	if _, err := campaign.Validate(definitionOf(cur), s.store.Now(), tz); err != nil {
		return problem.FromFields(err, "")
	}
	if err := campaign.Activate(r.Context(), c.tenant, cur); err != nil {
		return err
	}
	sc, scheduled, err := campaign.ScheduleOf(c.tenant.ID(), cur, s.store.Now(), tz)
	if err != nil {
		return err
	}
	if scheduled {
		if err := s.putSchedule(r.Context(), c, cur, tz); err != nil {
			return err
		}
	}
	updated, err := c.tenant.UpdateCampaign(r.Context(), id, func(cp *store.Campaign) error {
		if cp.Status != cur.Status {
			return problem.New(problem.Conflict, "campaign changed meanwhile (%s)", cp.Status)
		}
		cp.Status, cp.ScheduleName = store.CampaignRunning, ""
		if scheduled {
			cp.Status, cp.ScheduleName = store.CampaignScheduled, sc.Name
		}
		return nil
	})
	if err != nil {
		if scheduled {
			// Never half-active: the schedule goes with the failed activation.
			_ = s.scheduler.Delete(r.Context(), sc.Name)
		}
		return err
	}
	c.note("campaign", id, "schedule", sc.Expression)
	return writeJSON(w, http.StatusOK, s.viewCampaign(updated))
}

func (s *Server) pauseCampaign(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.stopCampaign(w, r, c, store.CampaignPaused, store.CampaignScheduled, store.CampaignRunning)
}

func (s *Server) cancelCampaign(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.stopCampaign(w, r, c, store.CampaignCancelled, store.CampaignDraft, store.CampaignScheduled, store.CampaignRunning, store.CampaignPaused)
}

// stopCampaign deletes the campaign's schedule, then moves it to status from one
// of from; a failed delete changes nothing.
func (s *Server) stopCampaign(w http.ResponseWriter, r *http.Request, c *call, status string, from ...string) error {
	// Check-ins in this function see the change at once.
	defer campaign.ForgetLive(c.tenant.ID())
	id, err := campaignID(r)
	if err != nil {
		return err
	}
	cur, err := c.tenant.Campaign(r.Context(), id)
	if err != nil {
		return err
	}
	if cur.Status == status {
		return writeJSON(w, http.StatusOK, s.viewCampaign(cur))
	}
	allowed := false
	for _, f := range from {
		allowed = allowed || cur.Status == f
	}
	if !allowed {
		return problem.New(problem.Conflict, "a %s campaign cannot be %s", cur.Status, status)
	}
	if cur.ScheduleName != "" {
		if s.scheduler == nil {
			return problem.New(problem.Unavailable, "no scheduler is configured")
		}
		if err := s.scheduler.Delete(r.Context(), cur.ScheduleName); err != nil {
			return problem.Wrap(problem.Unavailable, err, "the scheduler did not delete the campaign's schedule; the campaign stays %s", cur.Status)
		}
	}
	updated, err := c.tenant.UpdateCampaign(r.Context(), id, func(cp *store.Campaign) error {
		cp.Status, cp.ScheduleName = status, ""
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.viewCampaign(updated))
}

// campaignResults is a campaign's review (复盘): per occurrence and in total.
type campaignResults struct {
	Campaign    string            `json:"campaign"`
	Currency    string            `json:"currency"`
	Total       resultLine        `json:"total"`
	Occurrences []resultLine      `json:"occurrences"`
	Budget      store.Budget      `json:"budget"`
	Spent       store.BudgetState `json:"spent"`
}

type resultLine struct {
	store.Result
	// CostTotalMinor is the points at the campaign's point value plus coupons
	// at face value; ROI is (GMV − cost) / cost, null without cost.
	CostTotalMinor int64    `json:"cost_total_minor"`
	ROI            *float64 `json:"roi"`
}

func line(r store.Result) resultLine {
	l := resultLine{Result: r, CostTotalMinor: r.CostMinor}
	if r.CostMinor > 0 {
		roi := float64(r.GMVMinor-r.CostMinor) / float64(r.CostMinor)
		l.ROI = &roi
	}
	return l
}

func (s *Server) campaignResults(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := campaignID(r)
	if err != nil {
		return err
	}
	cp, err := c.tenant.Campaign(r.Context(), id)
	if err != nil {
		return err
	}
	set, err := s.settings.Get(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	results, err := c.tenant.Results(r.Context(), id)
	if err != nil {
		return err
	}
	spent, err := c.tenant.Budget(r.Context(), id)
	if err != nil {
		return err
	}
	if cp.Kind == store.KindPointsMultiplier {
		if results, spent, err = campaign.MultiplierResults(r.Context(), c.tenant, cp, results); err != nil {
			return err
		}
	}
	out := campaignResults{Campaign: id, Currency: set.Currency, Occurrences: []resultLine{}, Budget: cp.Budget, Spent: spent}
	var total store.Result
	total.Occurrence = "total"
	for _, res := range results {
		out.Occurrences = append(out.Occurrences, line(res))
		total.Reached += res.Reached
		total.Participated += res.Participated
		total.Converted += res.Converted
		total.Orders += res.Orders
		total.GMVMinor += res.GMVMinor
		total.CostPoints += res.CostPoints
		total.CostMinor += res.CostMinor
	}
	out.Total = line(total)
	if !strings.Contains(r.Header.Get("Accept"), "text/csv") && r.URL.Query().Get("format") != "csv" {
		return writeJSON(w, http.StatusOK, out)
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"occurrence", "reached", "participated", "converted", "orders", "gmv_minor", "cost_points", "cost_minor", "roi", "currency"})
	for _, l := range append(out.Occurrences, out.Total) {
		roi := ""
		if l.ROI != nil {
			roi = strconv.FormatFloat(*l.ROI, 'f', 4, 64)
		}
		_ = cw.Write([]string{l.Occurrence, i64(l.Reached), i64(l.Participated), i64(l.Converted), i64(l.Orders), i64(l.GMVMinor), i64(l.CostPoints), i64(l.CostMinor), roi, set.Currency})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="campaign-`+id+`.csv"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// previewSegment counts the members a segment holds now, without running
// anything. It reads the member list, so on a very large tenant it answers the
// count of the members it could read in time, with complete false.
func (s *Server) previewSegment(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Segment json.RawMessage `json:"segment"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	var seg *store.Segment
	if len(bytes.TrimSpace(in.Segment)) > 0 && string(bytes.TrimSpace(in.Segment)) != "null" {
		parsed, errs := store.ParseSegment(in.Segment)
		if errs != nil {
			return problem.FromFields(errs, "segment.")
		}
		seg = parsed
	}
	set, err := s.settings.Get(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	count, scanned := 0, 0
	complete := true
	errStop := problem.New(problem.Internal, "stop")
	err = c.tenant.ForEachMember(ctx, func(m store.Member) error {
		if ctx.Err() != nil {
			return errStop
		}
		scanned++
		ok, err := c.tenant.InSegment(ctx, seg, m, set.Now, set.Location)
		if ok {
			count++
		}
		return err
	})
	if err == errStop || (err != nil && ctx.Err() != nil) {
		complete, err = false, nil
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"count": count, "scanned": scanned, "complete": complete})
}
