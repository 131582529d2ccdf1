// Package community is the stream consumer of chat events: a member who joins a
// group is found or created, placed in the group (counted exactly), attributed to
// the channel they came through and welcomed through the group's connector; a
// member who leaves is taken out; a message updates activity, can check in, and is
// moderated by the group's rules (群规).
package community

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/batch"
	"github.com/tribehq/tribe/shared/cache"
	"github.com/tribehq/tribe/shared/campaign"
	"github.com/tribehq/tribe/shared/chat"
	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/displayname"
	"github.com/tribehq/tribe/shared/moderation"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/wecomsync"
)

// Sender sends a message through a tenant's connector and logs the delivery.
type Sender interface {
	Send(ctx context.Context, t *store.Tenant, connectorID, target, ref string, m connector.Message) (store.Delivery, error)
}

// Settings gives a tenant's settings (settings.Reader, cached).
type Settings interface {
	Get(ctx context.Context, t *store.Tenant) (settings.Settings, error)
}

// Consumer applies chat events.
type Consumer struct {
	store    *store.Store
	settings Settings
	send     Sender
	log      *slog.Logger

	groups *cache.TTL[string, store.Group] // tenant/platform/chat → group
	rules  *cache.TTL[string, moderation.Rules]
	// wecom, when set, reads WeCom's API: group syncs on member changes, new
	// contacts' profiles and welcomes (shared/wecomsync).
	wecom *wecomsync.Syncer
}

// Option configures a Consumer.
type Option func(*Consumer)

// WithWeCom lets the consumer call WeCom's API through sy.
func WithWeCom(sy *wecomsync.Syncer) Option { return func(c *Consumer) { c.wecom = sy } }

// Cache bounds: how long a warm consumer trusts a group or the tenant's rules, and
// how many it keeps.
const (
	cacheTTL  = time.Minute
	cacheSize = 4096
)

// New returns the consumer.
func New(st *store.Store, set Settings, send Sender, log *slog.Logger, opts ...Option) (*Consumer, error) {
	if st == nil || set == nil || send == nil || log == nil {
		return nil, errors.New("community: need a store, tenant settings, a sender and a logger")
	}
	c := &Consumer{store: st, settings: set, send: send, log: log,
		groups: cache.New[string, store.Group](cacheTTL, cacheSize, nil),
		rules:  cache.New[string, moderation.Rules](cacheTTL, cacheSize, nil)}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// errSeen stops a moderation round for a chat event already applied.
var errSeen = errors.New("community: event already applied")

// CheckInKeyword is the message that checks a member in (签到) when the tenant
// names no keywords of its own (store.CommunitySettings).
const CheckInKeyword = store.DefaultCheckInKeyword

// Handle processes a batch. Every event is its own partition, so they run
// concurrently (bounded); on a failure the earliest failed record and all later ones
// are reported. Memberships, postings, violations and moderation counts are keyed so
// Lambda's retry repeats none; a welcome or warning lost to a crash is not resent.
func (c *Consumer) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	groups := make([][]int, len(ev.Records))
	for i := range groups {
		groups[i] = []int{i}
	}
	failed := batch.Run(len(ev.Records), groups, 8, func() func(int) error {
		return func(i int) error {
			r := ev.Records[i]
			err := c.record(ctx, r)
			if err != nil {
				c.log.ErrorContext(ctx, "community: event failed", "event_id", r.EventID, "err", err)
			}
			return err
		}
	})
	return batch.Failures(ev.Records, failed), nil
}

func (c *Consumer) record(ctx context.Context, r events.DynamoDBEventRecord) error {
	ch, err := store.DecodeChange(r)
	if err != nil {
		c.log.ErrorContext(ctx, "community: bad chat event record", "event_id", r.EventID, "err", err)
		return nil
	}
	if ch.Event != store.Insert || ch.New.ChatEvent == nil {
		return nil
	}
	t, err := c.store.Tenant(ch.Tenant)
	if err != nil {
		return nil
	}
	return c.Apply(ctx, t, *ch.New.ChatEvent)
}

// createsMember reports whether an event of kind may create the member it names
// on first sight. Leaving a group or dropping a contact says nothing about someone
// Tribe does not know, so it creates nobody.
func createsMember(kind chat.Kind) bool {
	return kind != chat.Left && kind != chat.ContactRemoved
}

// Apply carries out one chat event's effects.
func (c *Consumer) Apply(ctx context.Context, t *store.Tenant, e store.ChatEventRecord) error {
	s, err := c.settings.Get(ctx, t)
	if err != nil {
		return err
	}
	log := c.log.With("tenant", t.ID(), "event", e.DedupeKey, "kind", e.Kind)
	if chat.Kind(e.Kind) == chat.GroupChanged {
		return c.groupChanged(ctx, t, e, log)
	}
	who := store.Contact{Provider: e.Platform, ExternalID: e.UserID, Name: e.UserName}
	var memberID string
	if createsMember(chat.Kind(e.Kind)) {
		memberID, err = t.ResolveMember(ctx, who, s.BaseTier())
	} else {
		memberID, err = t.FindMember(ctx, who)
	}
	if _, ok := store.Erased(err); ok {
		// An erased person's event (late, redelivered): it re-creates no one and
		// keeps nothing of them.
		log.InfoContext(ctx, "community: event of an erased member dropped")
		return t.ScrubChatEvent(ctx, e)
	}
	if err != nil {
		return err
	}
	if memberID == "" {
		return nil
	}
	// The member's reference to the event, so erasing them scrubs it (1 WCU).
	if err := t.RefChatEvent(ctx, memberID, e); err != nil {
		return err
	}
	if e.WelcomeCode != "" && c.wecom != nil {
		// First: WeCom takes the welcome code for 20 s only.
		if err := c.wecom.Welcome(ctx, t, e.IntegrationID, e.State, e.WelcomeCode, memberID, c.store.Now()); err != nil {
			return err
		}
	}
	if e.State != "" {
		if err := c.attribute(ctx, t, s, memberID, e); err != nil {
			return err
		}
	}
	switch chat.Kind(e.Kind) {
	case chat.Joined:
		return c.joined(ctx, t, s, memberID, e, log)
	case chat.Left:
		g, err := c.group(ctx, t, e.Platform, e.ChatID)
		if problem.Is(err, problem.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err = t.LeaveGroup(ctx, g.ID, memberID); err != nil || g.MinTier == "" {
			return err
		}
		return t.ClearRemoval(ctx, g.ID, memberID) // mintier.go
	case chat.Message:
		return c.message(ctx, t, s, memberID, e, log)
	case chat.ContactAdded:
		if c.wecom != nil && e.Platform == chat.PlatformWeCom {
			// The profile's name, and the unionid link the tenant's rules allow.
			_, err := c.wecom.Profile(ctx, t, e.IntegrationID, memberID, e.UserID, c.store.Now())
			return err
		}
	}
	return nil
}

// groupChanged reads a WeCom group whose member list changed from WeCom's API
// and reconciles it (shared/wecomsync): also the changes whose callback listed
// no members, and those Tribe missed.
func (c *Consumer) groupChanged(ctx context.Context, t *store.Tenant, e store.ChatEventRecord, log *slog.Logger) error {
	if c.wecom == nil || e.Platform != chat.PlatformWeCom {
		return nil
	}
	res, err := c.wecom.SyncChatOf(ctx, t, e.IntegrationID, e.ChatID, c.store.Now())
	if err != nil {
		return err
	}
	if res.GroupID != "" {
		c.groups.Delete(t.ID() + "/" + e.Platform + "/" + e.ChatID)
		// The group may have filled or emptied: live codes' join ways rotate.
		if err := c.wecom.RefreshJoinWaysOf(ctx, t, res.GroupID); err != nil {
			return err
		}
	}
	log.InfoContext(ctx, "community: group synced", "chat", e.ChatID, "joined", res.Joined, "left", res.Left, "roles", res.Roles)
	return nil
}

// attribute makes the channel of the code the member arrived with theirs, if they
// have none yet (first touch).
func (c *Consumer) attribute(ctx context.Context, t *store.Tenant, _ settings.Settings, memberID string, e store.ChatEventRecord) error {
	ch, err := t.ChannelByCode(ctx, e.State)
	if problem.Is(err, problem.NotFound) || problem.Is(err, problem.Invalid) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = t.UpdateMember(ctx, memberID, func(m *store.Member) error {
		if m.Channel == "" || m.Channel == e.Platform {
			m.Channel = ch.Code
		}
		return nil
	})
	// The counters consumer counts the contact for the channel off the
	// member's change, once.
	return err
}

func (c *Consumer) group(ctx context.Context, t *store.Tenant, platform, chatID string) (store.Group, error) {
	if chatID == "" {
		return store.Group{}, problem.New(problem.NotFound, "no chat")
	}
	return c.groups.Fetch(t.ID()+"/"+platform+"/"+chatID, func() (store.Group, error) {
		return t.GroupByChat(ctx, platform, chatID)
	})
}

func (c *Consumer) joined(ctx context.Context, t *store.Tenant, s settings.Settings, memberID string, e store.ChatEventRecord, log *slog.Logger) error {
	g, err := c.group(ctx, t, e.Platform, e.ChatID)
	if problem.Is(err, problem.NotFound) {
		log.InfoContext(ctx, "community: join to a group Tribe does not know", "chat", e.ChatID)
		return nil
	}
	if err != nil {
		return err
	}
	fresh, err := t.JoinGroup(ctx, g.ID, memberID, store.RoleNormal, e.At)
	if problem.Is(err, problem.Conflict) {
		// The platform let them in past the capacity Tribe keeps: note it, lose nothing.
		log.WarnContext(ctx, "community: join past capacity", "group", g.ID, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	// Also when not fresh: a retried record whose join was made but whose
	// points were not. The activity's key makes it once per group ever.
	if err := c.earn(ctx, t, s, memberID, points.GroupJoined, g.ID, e.At); err != nil {
		return err
	}
	// Lotteries with automatic entries from group joins; once each, also on a retry.
	if err := campaign.JoinedGroup(ctx, t, memberID); err != nil {
		return err
	}
	if err := c.checkMinTier(ctx, t, s, g, memberID, e, fresh, log); err != nil { // mintier.go
		return err
	}
	if !fresh {
		return nil
	}
	m, err := t.Member(ctx, memberID)
	if err != nil {
		return err
	}
	// The counters consumer counts the join for the member's channel off the
	// membership item, once.
	if g.ConnectorID != "" && g.WelcomeTemplate != "" {
		text := Welcome(g.WelcomeTemplate, m.Name, g.Name, g.Rules, g.JoinURL)
		if _, err := c.send.Send(ctx, t, g.ConnectorID, "group:"+g.ID, "welcome:"+memberID, connector.Message{Text: text}); err != nil {
			// The delivery log has it; a welcome is not worth failing the join for.
			log.WarnContext(ctx, "community: welcome not delivered", "group", g.ID, "err", err)
		}
	}
	return nil
}

// Welcome fills a welcome template (入群欢迎语): {name}, {group}, {rules},
// {invite_link}. The name, chosen by whoever joined, goes through
// displayname.Clean: the robot speaks in the brand's voice.
func Welcome(tmpl, name, group, rules, link string) string {
	if name = displayname.Clean(name); name == "" {
		name = "新朋友"
	}
	return strings.NewReplacer("{name}", name, "{group}", group, "{rules}", rules, "{invite_link}", link).Replace(tmpl)
}

func (c *Consumer) tenantRules(ctx context.Context, t *store.Tenant) (moderation.Rules, error) {
	return c.rules.Fetch(t.ID(), func() (moderation.Rules, error) { return t.ModerationRules(ctx) })
}

// message handles a member's message: in a group, moderation decides on it with one
// read and one conditional write of the member's activity; the first message of a
// local day marks the member active; "签到" checks in.
func (c *Consumer) message(ctx context.Context, t *store.Tenant, s settings.Settings, memberID string, e store.ChatEventRecord, log *slog.Logger) error {
	if s.Community.IsCheckIn(e.Text) {
		if _, err := points.CheckIn(ctx, t, s, memberID, e.At); err != nil && !problem.Is(err, problem.AlreadyCheckedIn) {
			return err
		}
		// Also when already checked in: a redelivery whose campaign effects
		// were cut off; each is keyed and given once.
		if err := campaign.CheckedIn(ctx, t, s, memberID, e.At); err != nil {
			return err
		}
	}
	g, err := c.group(ctx, t, e.Platform, e.ChatID)
	if problem.Is(err, problem.NotFound) {
		return c.markActive(ctx, t, s, memberID, e.At, time.Time{})
	}
	if err != nil {
		return err
	}
	ma, err := t.GroupActivity(ctx, g.ID, memberID)
	if problem.Is(err, problem.NotFound) {
		// Speaking in the group is proof of being in it.
		if _, err := t.JoinGroup(ctx, g.ID, memberID, store.RoleNormal, e.At); err != nil && !problem.Is(err, problem.Conflict) {
			return err
		}
		ma, err = t.GroupActivity(ctx, g.ID, memberID)
	}
	if err != nil {
		return err
	}
	tenantRules, err := c.tenantRules(ctx, t)
	if err != nil {
		return err
	}
	rules := moderation.Merge(&tenantRules, g.Moderation)
	previous := ma.Activity.LastActive()
	key := store.ChatEventKey(e.DedupeKey)
	cur := ma
	first := true
	load := func(ctx context.Context) (moderation.Activity, error) {
		if !first {
			var err error
			if cur, err = t.GroupActivity(ctx, g.ID, memberID); err != nil {
				return moderation.Activity{}, err
			}
		}
		first = false
		if slices.Contains(cur.Recent, key) {
			return moderation.Activity{}, errSeen
		}
		return cur.Activity, nil
	}
	save := func(ctx context.Context, next moderation.Activity, expected int64) (bool, error) {
		return t.SaveActivity(ctx, g.ID, memberID, next, expected, cur.Recent, key)
	}
	msg := moderation.Message{Kind: moderation.Text, Text: e.Text, SenderName: e.UserName}
	d, _, err := moderation.Apply(ctx, load, save, rules, moderation.Role(ma.Role), msg, e.At)
	if errors.Is(err, errSeen) {
		// A redelivered record whose message was already counted and acted on.
		return nil
	}
	if err != nil {
		return err
	}
	if len(d.Matched) == 0 {
		// A message moderation flagged never earns.
		if err := c.earn(ctx, t, s, memberID, points.MessagePosted, key, e.At); err != nil {
			return err
		}
	}
	if err := c.markActive(ctx, t, s, memberID, e.At, previous); err != nil {
		return err
	}
	if len(d.Matched) == 0 {
		return nil
	}
	return c.act(ctx, t, s, g, memberID, e, d, log)
}

// earn records activity (group_joined, message_posted) when the tenant has a
// rule for it, and posts what it earns; ref keys it, so a redelivery earns once.
func (c *Consumer) earn(ctx context.Context, t *store.Tenant, s settings.Settings, memberID, activity, ref string, at time.Time) error {
	rule, ok := points.ActivityRule(s.Loyalty.Rules, activity)
	if !ok {
		return nil
	}
	_, _, err := points.RecordActivity(ctx, t, s, memberID, rule, ref, at)
	if problem.Is(err, problem.Conflict) {
		// A merged or erased member earns nothing; retrying will not change that.
		if m, merr := t.Member(ctx, memberID); merr == nil && m.Status != store.StatusActive {
			return nil
		}
	}
	return err
}

// markActive records the member's activity on the member once per local day.
func (c *Consumer) markActive(ctx context.Context, t *store.Tenant, s settings.Settings, memberID string, at, previous time.Time) error {
	if !previous.IsZero() && s.Day(previous) == s.Day(at) {
		return nil
	}
	_, err := t.UpdateMember(ctx, memberID, func(m *store.Member) error {
		if m.Status != store.StatusActive {
			return nil
		}
		if m.LastActiveAt == nil || at.After(*m.LastActiveAt) {
			u := at.UTC()
			m.LastActiveAt = &u
		}
		switch m.Stage {
		case store.StageChurned:
			m.Stage = store.StageWonBack
		case store.StageSilent:
			m.Stage = store.StageActive
		}
		return nil
	})
	return err
}

// act carries out a moderation decision. Each effect is keyed by the chat event,
// so a retried batch repeats none.
func (c *Consumer) act(ctx context.Context, t *store.Tenant, s settings.Settings, g store.Group, memberID string, e store.ChatEventRecord, d moderation.Decision, log *slog.Logger) error {
	v := store.Violation{GroupID: g.ID, MemberID: memberID, EventKey: store.ChatEventKey(e.DedupeKey), At: e.At, Removed: d.Remove}
	for _, r := range d.Matched {
		v.Rules = append(v.Rules, string(r))
	}
	record := false
	for _, a := range d.Actions {
		v.Actions = append(v.Actions, string(a))
		switch a {
		case moderation.Record:
			record = true
		case moderation.DeductPoints:
			if d.Points > 0 {
				m, err := t.Member(ctx, memberID)
				if err != nil {
					return err
				}
				take := min(int64(d.Points), max(m.Points, 0))
				if take > 0 {
					_, _, err := points.Adjust(ctx, t, s, memberID, -take, "moderation: "+strings.Join(v.Rules, ", "), "moderation:"+v.EventKey, e.At)
					if err != nil && !problem.Is(err, problem.InsufficientPoints) {
						return err
					}
					v.Points = int(take)
				}
			}
		case moderation.Warn:
			if g.ConnectorID != "" && d.WarnText != "" {
				if _, err := c.send.Send(ctx, t, g.ConnectorID, "group:"+g.ID, "warn:"+v.EventKey, connector.Message{Text: d.WarnText}); err != nil {
					log.WarnContext(ctx, "community: warning not delivered", "group", g.ID, "err", err)
				}
			}
		case moderation.Remove:
			if _, err := t.LeaveGroup(ctx, g.ID, memberID); err != nil {
				return err
			}
		}
	}
	if record || d.Remove {
		excerpt := []rune(e.Text)
		if len(excerpt) > 120 {
			excerpt = excerpt[:120]
		}
		v.Excerpt = string(excerpt)
		return t.RecordViolation(ctx, v)
	}
	return nil
}
