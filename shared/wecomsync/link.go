// Package wecomsync keeps Tribe in step with WeCom through its API (shared/wecom):
// customer groups and their members, owners and admins (groups.go); a new
// contact's profile and the identity links it allows (link.go); the welcome a
// new contact gets (welcome.go).
package wecomsync

import (
	"context"
	"fmt"
	"time"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// LinkUnionID links member to a WeChat unionid when the tenant's identity rules
// say so (link_unionid), and returns the member that person is now: the member
// itself, or, when the unionid belongs to another member already, that member,
// into which member was merged (store.MergeMembers: identities, points, groups
// and all move in one transaction). A merge is written to the audit log with the
// actor "wecom". A member already merged or erased is left as it is.
func LinkUnionID(ctx context.Context, t *store.Tenant, memberID, unionID string, now time.Time) (string, error) {
	if unionID == "" || memberID == "" {
		return memberID, nil
	}
	rules, err := t.IdentityRules(ctx)
	if err != nil || !rules.LinkUnionID {
		return memberID, err
	}
	for attempt := 0; attempt < 3; attempt++ {
		found, err := t.LookupIdentity(ctx, store.ProviderUnionID, unionID)
		if problem.Is(err, problem.NotFound) {
			err = t.AddIdentity(ctx, store.Identity{Provider: store.ProviderUnionID, ExternalID: unionID, MemberID: memberID, CreatedAt: now})
			switch {
			case problem.Is(err, problem.IdentityTaken):
				continue // someone linked it meanwhile: look again
			case problem.Is(err, problem.Conflict):
				return memberID, nil // merged or erased meanwhile, or holding the most identities a member may
			}
			return memberID, err
		}
		if err != nil {
			return memberID, err
		}
		if found.MemberID == memberID {
			return memberID, nil
		}
		if _, err := t.MergeMembers(ctx, found.MemberID, memberID); err != nil {
			if problem.Is(err, problem.Conflict) {
				if m, merr := t.Member(ctx, memberID); merr == nil && m.Status != store.StatusActive {
					return memberID, nil // merged or erased meanwhile: nothing to link
				}
			}
			return memberID, fmt.Errorf("merge %s into %s by unionid: %w", memberID, found.MemberID, err)
		}
		if err := t.AppendAudit(ctx, store.AuditEntry{At: now, Actor: "wecom", Action: "linkIdentity", Method: "LINK",
			Route: store.ProviderUnionID, Target: found.MemberID, Status: 200, RequestID: "merge:" + memberID}); err != nil {
			return found.MemberID, err
		}
		return found.MemberID, nil
	}
	return memberID, problem.New(problem.Conflict, "unionid link of member %s kept racing", memberID)
}
