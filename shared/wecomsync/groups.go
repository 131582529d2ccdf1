package wecomsync

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/wecom"
)

// Settings gives a tenant's settings (settings.Reader): the base tier a member
// created on first sight starts in.
type Settings interface {
	Get(ctx context.Context, t *store.Tenant) (settings.Settings, error)
}

// Syncer reconciles a tenant's WeCom customer groups with Tribe's groups.
type Syncer struct {
	clients  *wecom.Clients
	settings Settings
	log      *slog.Logger
}

// New returns a syncer calling WeCom through clients.
func New(clients *wecom.Clients, set Settings, log *slog.Logger) (*Syncer, error) {
	if clients == nil || set == nil || log == nil {
		return nil, errors.New("wecomsync: need WeCom clients, tenant settings and a logger")
	}
	return &Syncer{clients: clients, settings: set, log: log}, nil
}

// Clients is the syncer's WeCom clients factory.
func (s *Syncer) Clients() *wecom.Clients { return s.clients }

// ChatResult is what syncing one group changed.
type ChatResult struct {
	GroupID string `json:"group_id"`
	Created bool   `json:"created"`
	Renamed bool   `json:"renamed"`
	Joined  int    `json:"joined"`
	Left    int    `json:"left"`
	Roles   int    `json:"roles"`
	// Skipped counts WeCom members Tribe keeps no member for (erased people).
	Skipped int `json:"skipped"`
}

// Changed reports whether the sync changed anything.
func (r ChatResult) Changed() bool {
	return r.Created || r.Renamed || r.Joined+r.Left+r.Roles > 0
}

// capacityFor is a new group's capacity: WeCom customer groups hold 500 (more
// for some corps), so a synced group is never refused a member WeCom let in.
func capacityFor(members int) int { return max(500, members) }

// SyncChat makes the Tribe group of one WeCom customer group match it exactly:
// the group is created (by chat id) or renamed, every WeCom member (staff and
// customers, resolved by their WeCom user id as the callbacks do, created on
// first sight, linked by unionid when the tenant's rules say so) is in it with
// the owner (群主) as owner and WeCom's admins as admins, and every member WeCom
// no longer lists is taken out. Roles Tribe gave that WeCom does not know (kol,
// head, active) are kept. A repeat with nothing changed at WeCom writes nothing.
func (s *Syncer) SyncChat(ctx context.Context, t *store.Tenant, cl *wecom.Client, chatID string, now time.Time) (ChatResult, error) {
	gc, err := cl.GetGroupChat(ctx, chatID)
	if err != nil {
		return ChatResult{}, err
	}
	var res ChatResult
	g, err := t.GroupByChat(ctx, store.PlatformWeCom, chatID)
	name := gc.Name
	if name == "" {
		name = "群聊 " + chatID // WeCom leaves a group unnamed until someone names it
	}
	switch {
	case problem.Is(err, problem.NotFound):
		g, err = t.CreateGroup(ctx, store.Group{Platform: store.PlatformWeCom, ExternalChatID: chatID, Name: name,
			Capacity: capacityFor(len(gc.MemberList))})
		if problem.Is(err, problem.Conflict) {
			g, err = t.GroupByChat(ctx, store.PlatformWeCom, chatID) // created meanwhile
		} else if err == nil {
			res.Created = true
		}
	case err == nil && (g.Name != name || g.Capacity < len(gc.MemberList)):
		g, err = t.UpdateGroup(ctx, g.ID, func(next *store.Group) error {
			res.Renamed = next.Name != name
			next.Name = name
			next.Capacity = max(next.Capacity, len(gc.MemberList))
			return nil
		})
	}
	if err != nil {
		return res, err
	}
	res.GroupID = g.ID
	set, err := s.settings.Get(ctx, t)
	if err != nil {
		return res, err
	}
	admins := map[string]bool{}
	for _, a := range gc.AdminList {
		admins[a.UserID] = true
	}
	want := map[string]wecom.GroupChatMember{}
	role := map[string]string{}
	for _, m := range gc.MemberList {
		name := m.GroupNickname
		if name == "" {
			name = m.Name
		}
		id, err := t.ResolveMember(ctx, store.Contact{Provider: store.PlatformWeCom, ExternalID: m.UserID, Name: name}, set.BaseTier())
		if _, erased := store.Erased(err); erased {
			res.Skipped++
			continue
		}
		if err != nil {
			return res, fmt.Errorf("member %s: %w", m.UserID, err)
		}
		if m.UnionID != "" {
			if id, err = LinkUnionID(ctx, t, id, m.UnionID, now); err != nil {
				return res, err
			}
		}
		want[id] = m
		switch {
		case m.UserID == gc.Owner:
			role[id] = store.RoleOwner
		case admins[m.UserID] && role[id] != store.RoleOwner:
			role[id] = store.RoleAdmin
		}
	}
	have := map[string]store.Membership{}
	cursor := ""
	for {
		page, err := t.GroupMembers(ctx, g.ID, 1000, cursor)
		if err != nil {
			return res, err
		}
		for _, m := range page.Items {
			have[m.MemberID] = m
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	for _, id := range sortedKeys(want) {
		m := want[id]
		cur, in := have[id]
		wantRole := role[id]
		if !in {
			if wantRole == "" {
				wantRole = store.RoleNormal
			}
			at := now
			if m.JoinTime > 0 {
				at = time.Unix(m.JoinTime, 0).UTC()
			}
			fresh, err := t.JoinGroup(ctx, g.ID, id, wantRole, at)
			if err != nil {
				return res, fmt.Errorf("join %s: %w", id, err)
			}
			if fresh {
				res.Joined++
			}
			continue
		}
		if wantRole == "" && (cur.Role == store.RoleOwner || cur.Role == store.RoleAdmin) {
			wantRole = store.RoleNormal // no longer owner or admin at WeCom
		}
		if wantRole != "" && wantRole != cur.Role {
			if err := t.SetRole(ctx, g.ID, id, wantRole); err != nil {
				return res, err
			}
			res.Roles++
		}
	}
	for _, id := range sortedKeys(have) {
		if _, keep := want[id]; keep {
			continue
		}
		gone, err := t.LeaveGroup(ctx, g.ID, id)
		if err != nil {
			return res, fmt.Errorf("leave %s: %w", id, err)
		}
		if gone {
			res.Left++
		}
	}
	return res, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Totals is what a sync of many groups did.
type Totals struct {
	Groups  int `json:"groups"`
	Created int `json:"created"`
	Changed int `json:"changed"`
	Joined  int `json:"joined"`
	Left    int `json:"left"`
	Roles   int `json:"roles"`
}

func (t *Totals) add(r ChatResult) {
	t.Groups++
	if r.Created {
		t.Created++
	}
	if r.Changed() {
		t.Changed++
	}
	t.Joined += r.Joined
	t.Left += r.Left
	t.Roles += r.Roles
}

// pageSize is how many groups groupchat/list returns a page (its maximum is 1000);
// a step syncs at most stepGroups of them.
const (
	pageSize   = 1000
	stepGroups = 20
)

// position is where a sync of all groups goes on: the integration, WeCom's list
// cursor of the page, and the index in that page.
type position struct {
	Integration string `json:"ig"`
	Cursor      string `json:"c,omitempty"`
	Index       int    `json:"i,omitempty"`
}

func (p position) encode() string {
	b, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePosition(s string) (position, error) {
	var p position
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	return p, err
}

// Step syncs up to stepGroups groups of the tenant from cursor ("" at the
// start) and says where the next step starts; done when every WeCom integration
// with an app secret has had all its groups synced. A tenant without one is done
// at once. A group that fails is counted and logged, and the sync goes on.
func (s *Syncer) Step(ctx context.Context, t *store.Tenant, cursor string, now time.Time, tot *Totals) (next string, done bool, failed int, err error) {
	igs, err := wecom.APIIntegrations(ctx, t)
	if err != nil || len(igs) == 0 {
		return "", true, 0, err
	}
	pos := position{Integration: igs[0]}
	if cursor != "" {
		if pos, err = decodePosition(cursor); err != nil {
			return "", true, 0, fmt.Errorf("wecomsync: bad cursor: %w", err)
		}
	}
	cl, _, err := s.clients.For(ctx, t, pos.Integration)
	if err != nil {
		return "", false, 0, err
	}
	refs, nextCursor, err := cl.ListGroupChats(ctx, pos.Cursor, pageSize)
	if err != nil {
		return "", false, 0, err
	}
	end := min(pos.Index+stepGroups, len(refs))
	for _, ref := range refs[min(pos.Index, len(refs)):end] {
		r, err := s.SyncChat(ctx, t, cl, ref.ChatID, now)
		if err != nil {
			if ctx.Err() != nil {
				return "", false, failed, ctx.Err()
			}
			failed++
			s.log.ErrorContext(ctx, "wecomsync: group not synced", "tenant", t.ID(), "chat", ref.ChatID, "err", err)
			continue
		}
		tot.add(r)
	}
	switch {
	case end < len(refs):
		pos.Index = end
	case nextCursor != "":
		pos.Cursor, pos.Index = nextCursor, 0
	default:
		i := indexOf(igs, pos.Integration)
		if i < 0 || i+1 >= len(igs) {
			return "", true, failed, nil
		}
		pos = position{Integration: igs[i+1]}
	}
	return pos.encode(), false, failed, nil
}

func indexOf(list []string, v string) int {
	for i, s := range list {
		if s == v {
			return i
		}
	}
	return -1
}

// SyncChatOf syncs one group of the integration that reported it (a
// change_external_chat member change). An integration without an app secret
// syncs nothing and is no error.
func (s *Syncer) SyncChatOf(ctx context.Context, t *store.Tenant, integrationID, chatID string, now time.Time) (ChatResult, error) {
	cl, _, err := s.clients.For(ctx, t, integrationID)
	if problem.Is(err, problem.Invalid) {
		return ChatResult{}, nil
	}
	if err != nil {
		return ChatResult{}, err
	}
	return s.SyncChat(ctx, t, cl, chatID, now)
}
