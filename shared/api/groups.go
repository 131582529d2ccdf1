package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/moderation"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/wecom"
	"github.com/tribehq/tribe/shared/wecomsync"
)

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
			return problem.FromFields(err, "moderation.")
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

// listInGroup answers a list inside the path's group (its members, its
// violations); the group must exist.
func listInGroup[T any](w http.ResponseWriter, r *http.Request, t *store.Tenant, read func(ctx context.Context, id string, limit int, cursor string) (store.Page[T], error)) error {
	id, err := groupID(r)
	if err != nil {
		return err
	}
	return listPage(w, r, func(ctx context.Context, limit int, cursor string) (store.Page[T], error) {
		if _, err := t.Group(ctx, id); err != nil {
			return store.Page[T]{}, err
		}
		return read(ctx, id, limit, cursor)
	})
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	return byPathID(w, r, groupID, c.tenant.Group)
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
	return byPathID(w, r, groupID, func(ctx context.Context, id string) (store.Group, error) {
		return c.tenant.UpdateGroup(ctx, id, func(g *store.Group) error { g.Status = store.GroupArchived; return nil })
	})
}

func (s *Server) listGroupMembers(w http.ResponseWriter, r *http.Request, c *call) error {
	return listInGroup(w, r, c.tenant, c.tenant.GroupMembers)
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

func (s *Server) listViolations(w http.ResponseWriter, r *http.Request, c *call) error {
	return listInGroup(w, r, c.tenant, c.tenant.Violations)
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
		return problem.FromFields(err, "")
	}
	if err := c.tenant.PutModerationRules(r.Context(), in); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, in)
}

// syncGroups asks for a sync of the tenant's WeCom customer groups with Tribe's
// groups (shared/wecomsync): a task the jobworker takes off the stream and works
// a slice of groups at a time. It answers 202 with the run, whose progress
// GET /v1/group-syncs/{run} shows.
func (s *Server) syncGroups(w http.ResponseWriter, r *http.Request, c *call) error {
	igs, err := wecom.APIIntegrations(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	if len(igs) == 0 {
		return problem.Field("integration_id", "no WeCom integration with a corp_secret: add the app's secret (PATCH /v1/integrations/{id}) first")
	}
	run := "api-" + s.store.Now().Format("20060102T150405") + "-" + ids.Random(8)
	if _, err := c.tenant.PutJobTask(r.Context(), wecomsync.Job, run, 0); err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/group-syncs/"+run)
	return writeJSON(w, http.StatusAccepted, map[string]any{"run": run, "status": store.JobPending})
}

// getGroupSync shows a group sync run: pending, running, continued, done (or
// skipped when another sync held the tenant), with the groups synced (seen),
// those it changed and those that failed.
func (s *Server) getGroupSync(w http.ResponseWriter, r *http.Request, c *call) error {
	run := r.PathValue("run")
	if len(run) > 64 || strings.ContainsAny(run, "#/") || run == "" {
		return problem.New(problem.NotFound, "sync run not found")
	}
	task, err := c.tenant.JobTaskOf(r.Context(), wecomsync.Job, run, 0)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"run": task.Run, "status": task.Status, "groups": task.Seen,
		"changed": task.Changed, "failed": task.Failed, "last_error": task.LastError, "created_at": task.CreatedAt, "updated_at": task.UpdatedAt})
}
