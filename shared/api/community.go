package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/moderation"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

func init() { opSets = append(opSets, (*Server).communityOps) }

func (s *Server) communityOps() map[string]op {
	return map[string]op{
		"createGroup":        s.createGroup,
		"listGroups":         s.listGroups,
		"getGroup":           s.getGroup,
		"updateGroup":        s.updateGroup,
		"archiveGroup":       s.archiveGroup,
		"listGroupMembers":   s.listGroupMembers,
		"putGroupMember":     s.putGroupMember,
		"removeGroupMember":  s.removeGroupMember,
		"memberGroups":       s.memberGroups,
		"createLiveCode":     s.createLiveCode,
		"listLiveCodes":      s.listLiveCodes,
		"getLiveCode":        s.getLiveCode,
		"updateLiveCode":     s.updateLiveCode,
		"liveCodeStats":      s.liveCodeStats,
		"resolveLiveCode":    s.resolveLiveCode,
		"createChannel":      s.createChannel,
		"listChannels":       s.listChannels,
		"getChannel":         s.getChannel,
		"channelStats":       s.channelStats,
		"listViolations":     s.listViolations,
		"getModerationRules": s.getModerationRules,
		"putModerationRules": s.putModerationRules,
	}
}

// groupIn is what a client sets on a group; on create, Naming builds the name from
// the seeds' pattern when Name is empty: region + category + type + number.
type groupIn struct {
	Platform        *string `json:"platform"`
	ExternalChatID  *string `json:"external_chat_id"`
	Name            *string `json:"name"`
	Type            *string `json:"type"`
	Level           *string `json:"level"`
	Capacity        *int    `json:"capacity"`
	QRJoinCap       *int    `json:"qr_join_cap"`
	Rules           *string `json:"rules"`
	WelcomeTemplate *string `json:"welcome_template"`
	MinTier         *string `json:"min_tier"`
	Status          *string `json:"status"`
	ConnectorID     *string `json:"connector_id"`
	JoinURL         *string `json:"join_url"`
	Naming          *naming `json:"naming"`
	// Moderation overrides the tenant's rules in this group; null clears it.
	Moderation *moderation.Rules `json:"moderation"`
}

type naming struct {
	Region   string `json:"region"`
	Category string `json:"category"`
	Number   int    `json:"number"`
}

var typeLabels = map[string]string{store.GroupProspect: "潜在群", store.GroupCategory: "品类群", store.GroupBrand: "品专群"}

// GroupName builds a group name the way the playbooks do: 上海 + 咖啡 + 品专群 + 3
// → "上海咖啡品专3群".
func GroupName(region, category, groupType string, number int) string {
	label := strings.TrimSuffix(typeLabels[groupType], "群")
	return fmt.Sprintf("%s%s%s%d群", strings.TrimSpace(region), strings.TrimSpace(category), label, number)
}

func (in groupIn) apply(g *store.Group) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&g.Platform, in.Platform)
	set(&g.ExternalChatID, in.ExternalChatID)
	set(&g.Name, in.Name)
	set(&g.Type, in.Type)
	set(&g.Level, in.Level)
	set(&g.Rules, in.Rules)
	set(&g.WelcomeTemplate, in.WelcomeTemplate)
	set(&g.MinTier, in.MinTier)
	set(&g.Status, in.Status)
	if in.Capacity != nil {
		g.Capacity = *in.Capacity
	}
	if in.QRJoinCap != nil {
		g.QRJoinCap = *in.QRJoinCap
	}
	if in.ConnectorID != nil {
		if *in.ConnectorID != "" && !ids.Valid("con", *in.ConnectorID) {
			return problem.Field("connector_id", "connector_id is a connector id")
		}
		g.ConnectorID = *in.ConnectorID
	}
	if in.Moderation != nil {
		if err := in.Moderation.Validate(); err != nil {
			return problem.Wrap(problem.Invalid, err, "moderation: %v", err)
		}
		g.Moderation = in.Moderation
	}
	if in.JoinURL != nil {
		if u, err := url.Parse(*in.JoinURL); *in.JoinURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "weixin") || len(*in.JoinURL) > 2000) {
			return problem.Field("join_url", "join_url is an https (or weixin://) link of at most 2000 characters")
		}
		g.JoinURL = *in.JoinURL
	}
	return nil
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	var in groupIn
	if err := decode(r, &in); err != nil {
		return err
	}
	g := store.Group{Type: store.GroupProspect, Level: store.LevelBasic, Status: store.GroupOpen}
	if err := in.apply(&g); err != nil {
		return err
	}
	if g.Name == "" && in.Naming != nil {
		if in.Naming.Region == "" || in.Naming.Category == "" || in.Naming.Number < 1 {
			return problem.Field("naming", "naming needs region, category and a number from 1")
		}
		g.Name = GroupName(in.Naming.Region, in.Naming.Category, g.Type, in.Naming.Number)
	}
	g.CreatedAt, g.UpdatedAt = s.store.Now(), s.store.Now()
	g, err := c.tenant.CreateGroup(r.Context(), g)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/groups/"+g.ID)
	return writeJSON(w, http.StatusCreated, g)
}

func groupID(r *http.Request) (string, error) { return pathID(r, "id", store.GroupPrefix, "group") }

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := groupID(r)
	if err != nil {
		return err
	}
	g, err := c.tenant.Group(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, c *call) error {
	return listPage(w, r, c.tenant.Groups)
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := groupID(r)
	if err != nil {
		return err
	}
	var in groupIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Naming != nil {
		return problem.Field("naming", "naming is for creation; set name instead")
	}
	g, err := c.tenant.UpdateGroup(r.Context(), id, in.apply)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

func (s *Server) archiveGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := groupID(r)
	if err != nil {
		return err
	}
	g, err := c.tenant.UpdateGroup(r.Context(), id, func(g *store.Group) error { g.Status = store.GroupArchived; return nil })
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

func (s *Server) listGroupMembers(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := groupID(r)
	if err != nil {
		return err
	}
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	if _, err := c.tenant.Group(r.Context(), id); err != nil {
		return err
	}
	page, err := c.tenant.GroupMembers(r.Context(), id, limit, cursor)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(page))
}

// putGroupMember puts a member in a group with a role: it joins if not there yet
// (counted exactly), or changes the role.
func (s *Server) putGroupMember(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := groupID(r)
	if err != nil {
		return err
	}
	mid, err := pathID(r, "member_id", ids.Member, "member")
	if err != nil {
		return err
	}
	var in struct {
		Role string `json:"role"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Role == "" {
		in.Role = store.RoleNormal
	}
	m, err := c.tenant.Member(r.Context(), mid)
	if err != nil {
		return err
	}
	if m.Status != store.StatusActive {
		return problem.New(problem.Conflict, "member %s is %s", mid, m.Status)
	}
	joined, err := c.tenant.JoinGroup(r.Context(), id, mid, in.Role, s.store.Now())
	if err != nil {
		return err
	}
	if !joined {
		if err := c.tenant.SetRole(r.Context(), id, mid, in.Role); err != nil {
			return err
		}
	}
	status := http.StatusOK
	if joined {
		status = http.StatusCreated
	}
	return writeJSON(w, status, map[string]any{"group_id": id, "member_id": mid, "role": in.Role, "joined": joined})
}

func (s *Server) removeGroupMember(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := groupID(r)
	if err != nil {
		return err
	}
	mid, err := pathID(r, "member_id", ids.Member, "member")
	if err != nil {
		return err
	}
	left, err := c.tenant.LeaveGroup(r.Context(), id, mid)
	if err != nil {
		return err
	}
	if !left {
		return problem.New(problem.NotFound, "member %s is not in group %s", mid, id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) memberGroups(w http.ResponseWriter, r *http.Request, c *call) error {
	m, err := pathMember(r, c)
	if err != nil {
		return err
	}
	list, err := c.tenant.MemberGroups(r.Context(), m.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(store.Page[store.Membership]{Items: list}))
}

type liveCodeIn struct {
	Name              *string            `json:"name"`
	Pool              *[]store.PoolEntry `json:"pool"`
	NotifyConnectorID *string            `json:"notify_connector_id"`
}

func (in liveCodeIn) apply(lc *store.LiveCode) error {
	if in.Name != nil {
		lc.Name = strings.TrimSpace(*in.Name)
	}
	if in.Pool != nil {
		lc.Pool = *in.Pool
	}
	if in.NotifyConnectorID != nil {
		if *in.NotifyConnectorID != "" && !ids.Valid("con", *in.NotifyConnectorID) {
			return problem.Field("notify_connector_id", "notify_connector_id is a connector id")
		}
		lc.NotifyConnectorID = *in.NotifyConnectorID
	}
	return nil
}

func (s *Server) createLiveCode(w http.ResponseWriter, r *http.Request, c *call) error {
	var in liveCodeIn
	if err := decode(r, &in); err != nil {
		return err
	}
	lc := store.LiveCode{Code: store.NewLiveCode(c.tenant.ID()), CreatedAt: s.store.Now(), UpdatedAt: s.store.Now()}
	if err := in.apply(&lc); err != nil {
		return err
	}
	lc, err := c.tenant.CreateLiveCode(r.Context(), lc)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/live-codes/"+lc.Code)
	return writeJSON(w, http.StatusCreated, liveCodeView(r, lc))
}

// liveCodeOut adds the public URL to print as the QR code.
type liveCodeOut struct {
	store.LiveCode
	ResolveURL string `json:"resolve_url"`
}

func liveCodeView(r *http.Request, lc store.LiveCode) liveCodeOut {
	scheme := "https"
	if r.TLS == nil && isLocal(r.Host) {
		scheme = "http"
	}
	return liveCodeOut{LiveCode: lc, ResolveURL: scheme + "://" + r.Host + "/v1/live-codes/" + lc.Code + "/resolve"}
}

func (s *Server) ownLiveCode(r *http.Request, c *call) (string, error) {
	code := r.PathValue("id")
	if tenantID, ok := store.TenantOfLiveCode(code); !ok || tenantID != c.tenant.ID() {
		return "", problem.New(problem.NotFound, "live code not found")
	}
	return code, nil
}

func (s *Server) getLiveCode(w http.ResponseWriter, r *http.Request, c *call) error {
	code, err := s.ownLiveCode(r, c)
	if err != nil {
		return err
	}
	lc, err := c.tenant.LiveCode(r.Context(), code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, liveCodeView(r, lc))
}

func (s *Server) listLiveCodes(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	page, err := c.tenant.LiveCodes(r.Context(), limit, cursor)
	if err != nil {
		return err
	}
	out := store.Page[liveCodeOut]{NextCursor: page.NextCursor}
	for _, lc := range page.Items {
		out.Items = append(out.Items, liveCodeView(r, lc))
	}
	return writeJSON(w, http.StatusOK, listOf(out))
}

func (s *Server) updateLiveCode(w http.ResponseWriter, r *http.Request, c *call) error {
	code, err := s.ownLiveCode(r, c)
	if err != nil {
		return err
	}
	var in liveCodeIn
	if err := decode(r, &in); err != nil {
		return err
	}
	lc, err := c.tenant.UpdateLiveCode(r.Context(), code, in.apply)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, liveCodeView(r, lc))
}

// localRange is dateRange on the tenant's calendar: counters are kept per local day.
func (s *Server) localRange(r *http.Request, c *call) (string, string, error) {
	st, err := s.points.Settings(r.Context(), c.tenant)
	if err != nil {
		return "", "", err
	}
	return dateRange(r, s.store.Now().In(st.Location))
}

// dateRange reads from/to (YYYY-MM-DD), by default the last 30 days up to now's
// date.
func dateRange(r *http.Request, now time.Time) (string, string, error) {
	q := r.URL.Query()
	from, to := now.AddDate(0, 0, -30).Format(time.DateOnly), now.Format(time.DateOnly)
	for name, dst := range map[string]*string{"from": &from, "to": &to} {
		if v := q.Get(name); v != "" {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				return "", "", problem.Field(name, "%s is a date YYYY-MM-DD", name)
			}
			*dst = v
		}
	}
	if from > to {
		return "", "", problem.Field("from", "from is after to")
	}
	return from, to, nil
}

func (s *Server) liveCodeStats(w http.ResponseWriter, r *http.Request, c *call) error {
	code, err := s.ownLiveCode(r, c)
	if err != nil {
		return err
	}
	from, to, err := s.localRange(r, c)
	if err != nil {
		return err
	}
	st, err := c.tenant.LiveCodeStats(r.Context(), code, from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

// resolveLiveCode is the public scan: the first group of the pool with room, its
// scan counted exactly, or a clear "no group available" — and, the first time the
// pool runs dry, a note to the tenant through the live code's connector.
func (s *Server) resolveLiveCode(w http.ResponseWriter, r *http.Request, c *call) error {
	if !s.scans.allow(clientIP(r), time.Now()) {
		w.Header().Set("Retry-After", "1")
		return problem.New(problem.RateLimited, "too many scans from this address; retry in a second")
	}
	code := r.PathValue("id")
	tenantID, ok := store.TenantOfLiveCode(code)
	if !ok {
		return problem.New(problem.NotFound, "live code not found")
	}
	t, err := s.store.Tenant(tenantID)
	if err != nil {
		return problem.New(problem.NotFound, "live code not found")
	}
	c.log = c.log.With("tenant", tenantID, "live_code", code)
	st, err := s.points.Settings(r.Context(), t)
	if err != nil {
		return err
	}
	res, err := t.ResolveLiveCode(r.Context(), code, st.Day(s.store.Now()), nil)
	if errors.Is(err, store.ErrNoGroup) {
		if res.NeedsGroupFlipped {
			s.notifyNeedsGroup(r, c, t, code)
		}
		return problem.New(problem.NoGroupAvailable, "every group of this live code is full; the operator has been told")
	}
	if err != nil {
		return err
	}
	g := res.Group
	return writeJSON(w, http.StatusOK, map[string]any{
		"group_id": g.ID, "name": g.Name, "platform": g.Platform, "join_url": g.JoinURL,
	})
}

// notifyNeedsGroup tells the tenant, once per dry spell, that a live code needs a
// new group.
func (s *Server) notifyNeedsGroup(r *http.Request, c *call, t *store.Tenant, code string) {
	lc, err := t.LiveCode(r.Context(), code)
	if err != nil || lc.NotifyConnectorID == "" {
		c.log.WarnContext(r.Context(), "live code needs a group; no connector to tell", "err", err)
		return
	}
	msg := fmt.Sprintf("活码「%s」的所有群已满，请新建群并加入活码。Live code %q needs a new group: every group in its pool is full.", lc.Name, lc.Name)
	if _, err := s.notify(r.Context(), t, lc.NotifyConnectorID, "live_code:"+code, "needs_group", msg); err != nil {
		c.log.WarnContext(r.Context(), "live code needs a group; notify failed", "err", err)
	}
}

func (s *Server) createChannel(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Name string `json:"name"`
		Code string `json:"code"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	name, err := validName("name", in.Name, 100)
	if err != nil {
		return err
	}
	if !store.ValidChannelCode(in.Code) || len(in.Code) > 30 {
		return problem.Field("code", "code is 1-30 letters, digits, - or _ (WeCom's state parameter allows 30)")
	}
	ch, err := c.tenant.CreateChannel(r.Context(), store.Channel{ID: ids.New(store.ChannelPrefix), Name: name, Code: in.Code, CreatedAt: s.store.Now()})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/channels/"+ch.ID)
	return writeJSON(w, http.StatusCreated, ch)
}

func channelID(r *http.Request) (string, error) {
	return pathID(r, "id", store.ChannelPrefix, "channel")
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	ch, err := c.tenant.Channel(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ch)
}

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request, c *call) error {
	return listPage(w, r, c.tenant.Channels)
}

// channelStats is the channel funnel (引流转换率): per day scans, members added,
// members who joined a group, first orders and GMV.
func (s *Server) channelStats(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	if _, err := c.tenant.Channel(r.Context(), id); err != nil {
		return err
	}
	from, to, err := s.localRange(r, c)
	if err != nil {
		return err
	}
	days, err := c.tenant.ChannelStats(r.Context(), id, from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(store.Page[store.ChannelDay]{Items: days}))
}

// limiter is a per-address token bucket for public routes, per process: API
// Gateway's route throttling bounds the total, this keeps one scanner from using it
// all.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	rate    float64
	burst   float64
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate, burst float64) *limiter {
	return &limiter{buckets: map[string]*bucket{}, rate: rate, burst: burst}
}

func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buckets) > 50000 {
		l.buckets = map[string]*bucket{} // bounded memory; forgetting is harmless
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func clientIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		return strings.TrimSpace(strings.Split(xff, ",")[0])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// notify sends a text to a tenant through one of its connectors, logged as a
// delivery.
func (s *Server) notify(ctx context.Context, t *store.Tenant, connectorID, target, ref, text string) (store.Delivery, error) {
	return s.Send(ctx, t, connectorID, target, ref, connector.Message{Text: text})
}

func (s *Server) listViolations(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := groupID(r)
	if err != nil {
		return err
	}
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	if _, err := c.tenant.Group(r.Context(), id); err != nil {
		return err
	}
	page, err := c.tenant.Violations(r.Context(), id, limit, cursor)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(page))
}

func (s *Server) getModerationRules(w http.ResponseWriter, r *http.Request, c *call) error {
	rules, err := c.tenant.ModerationRules(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rules)
}

func (s *Server) putModerationRules(w http.ResponseWriter, r *http.Request, c *call) error {
	var in moderation.Rules
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return problem.Wrap(problem.Invalid, err, "%v", err)
	}
	if err := c.tenant.PutModerationRules(r.Context(), in); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, in)
}
