package community

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/displayname"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/tiers"
)

// RuleMinTier names the violation a join below a group's min_tier records.
const RuleMinTier = "min_tier"

// checkMinTier enforces a member-only group (品专群): a join by a member whose
// tier does not reach the group's min_tier is recorded as a violation (rule
// min_tier, once per join event), the operator is told through the group's
// connector (on the join's first application only), and, when the tenant
// enforces `remove`, the member is marked for removal (GET /v1/removals). Tribe
// cannot take anyone out of a chat group itself.
func (c *Consumer) checkMinTier(ctx context.Context, t *store.Tenant, s settings.Settings, g store.Group, memberID string, e store.ChatEventRecord, fresh bool, log *slog.Logger) error {
	if g.MinTier == "" {
		return nil
	}
	m, err := t.Member(ctx, memberID)
	if err != nil {
		return err
	}
	if tiers.Reaches(s.Loyalty.Tiers, m.Tier, g.MinTier) {
		return nil
	}
	tier := m.Tier
	if tier == "" {
		tier = s.BaseTier()
	}
	remove := s.Community.MinTierEnforce == store.EnforceRemove
	v := store.Violation{GroupID: g.ID, MemberID: memberID, Rules: []string{RuleMinTier}, Actions: []string{"record", "notify"},
		EventKey: store.ChatEventKey(e.DedupeKey), At: e.At}
	if remove {
		v.Actions = append(v.Actions, "mark_removal")
		if err := t.MarkRemoval(ctx, store.Removal{GroupID: g.ID, MemberID: memberID, MemberTier: tier, MinTier: g.MinTier, At: e.At}); err != nil {
			return err
		}
	}
	if err := t.RecordViolation(ctx, v); err != nil {
		return err
	}
	if !fresh || g.ConnectorID == "" {
		return nil
	}
	name := displayname.Clean(m.Name)
	if name == "" {
		name = memberID
	}
	text := fmt.Sprintf("成员「%s」（等级 %s）加入了「%s」，本群仅限 %s 及以上会员。", name, tier, g.Name, g.MinTier)
	if remove {
		text += "已标记待移出。"
	}
	text += fmt.Sprintf(" Member %s (tier %s) joined %s, which is for %s and above.", name, tier, g.Name, g.MinTier)
	if remove {
		text += " Marked for removal."
	}
	if _, err := c.send.Send(ctx, t, g.ConnectorID, "group:"+g.ID, "min_tier:"+memberID, connector.Message{Text: text}); err != nil {
		// The delivery log has it; the record and the mark stand.
		log.WarnContext(ctx, "community: min-tier notice not delivered", "group", g.ID, "err", err)
	}
	return nil
}
