package store

// Linking by verified phone: a phone number a platform verified (or the tenant,
// through the API) becomes the member's phone identity; when another member has
// it already, the two are one person and are merged (issue 11).

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/tribehq/tribe/shared/problem"
)

// maxLinkAttempts bounds how often LinkVerifiedPhone looks again after losing a
// race (the identity taken meanwhile, a member changed during the merge).
const maxLinkAttempts = 8

// PhoneKey is the external id of a phone identity: the number with its spaces,
// dashes, dots and brackets taken out ("+86 138-0000-0000" and "+8613800000000"
// are one number). "" when phone is no phone number. A number written with and
// without its country code stays two numbers: the platforms do not say which
// country a bare number is in.
func PhoneKey(phone string) string { return normalContact(ProviderPhone, phone) }

// LinkVerifiedPhone makes phone, which src verified, an identity of member
// memberID, and returns the member the person is now:
//
//   - the phone is nobody's: it is attached to memberID (atomically: an
//     identity has one member), and memberID is returned;
//   - it is memberID's already: memberID;
//   - it is another member's, and the tenant's rules merge on a verified phone
//     (the default): memberID is merged into that member (the one that had the
//     phone survives, as with unionid links: shared/wecomsync), in one
//     transaction with the link's record; the audit log says who and why; that
//     member is returned;
//   - it is another member's and the rules forbid merging: nothing changes, the
//     conflict is recorded once (IdentityLinks), and memberID is returned.
//
// It is idempotent and safe to race: a member merged meanwhile (by a redelivery,
// a racing delivery) is followed to its survivor, and a phone linked meanwhile
// is looked at again. An unusable number, an empty member or a member no longer
// active (erased) links nothing.
func (t *Tenant) LinkVerifiedPhone(ctx context.Context, memberID, phone string, src LinkSource) (string, error) {
	key := PhoneKey(phone)
	if key == "" || memberID == "" {
		return memberID, nil
	}
	var last error
	for attempt := 0; attempt < maxLinkAttempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return memberID, ctx.Err()
			case <-time.After(time.Duration(1+rand.IntN(4<<attempt)) * time.Millisecond):
			}
		}
		holder, err := t.LookupIdentity(ctx, ProviderPhone, key)
		if problem.Is(err, problem.NotFound) {
			err = t.AddIdentity(ctx, Identity{Provider: ProviderPhone, ExternalID: key, MemberID: memberID, CreatedAt: t.s.Now()})
			switch {
			case err == nil:
				return memberID, nil
			case problem.Is(err, problem.IdentityTaken):
				continue // linked meanwhile: look again
			case problem.Is(err, problem.Conflict):
				// memberID is no longer active: follow a merge, stop at an erasure.
				next, ok, ferr := t.mergedInto(ctx, memberID)
				if ferr != nil || !ok {
					return memberID, ferr
				}
				memberID = next
				continue
			}
			return memberID, err
		}
		if err != nil {
			return memberID, err
		}
		if holder.MemberID == memberID {
			return memberID, nil
		}
		rules, err := t.IdentityRules(ctx)
		if err != nil {
			return memberID, err
		}
		link := IdentityLink{Reason: ReasonVerifiedPhone, Provider: ProviderPhone, Holder: holder.MemberID, Member: memberID, LinkSource: src, At: t.s.Now()}
		if !rules.MergesOnVerifiedPhone() {
			return memberID, t.recordConflict(ctx, link)
		}
		_, err = t.mergeMembers(ctx, holder.MemberID, memberID, &link)
		if err == nil {
			actor := src.Actor
			if actor == "" {
				actor = src.Source
			}
			// The merge and its link are written; the audit entry follows it
			// (like every audit entry, after the write it describes).
			aerr := t.AppendAudit(ctx, AuditEntry{At: link.At, Actor: actor, Action: "mergeMembers", Method: "LINK",
				Route: ProviderPhone, Target: holder.MemberID, Status: 200, RequestID: "merge:" + memberID})
			return holder.MemberID, aerr
		}
		if !problem.Is(err, problem.Conflict) {
			return memberID, err
		}
		// Either member changed during the merge (a posting, a racing merge of
		// the same two): follow memberID if it was merged, and look again.
		next, merged, ferr := t.mergedInto(ctx, memberID)
		if ferr != nil {
			return memberID, ferr
		}
		if merged {
			memberID = next
			continue
		}
		m, merr := t.consistentMember(ctx, memberID)
		if merr != nil {
			return memberID, merr
		}
		switch m.Status {
		case StatusActive:
		case StatusMerged:
			// Merged between the two reads (a racing link of the same member):
			// the next attempt follows it.
			continue
		default:
			return memberID, nil // erased meanwhile: nothing to link
		}
		last = err
	}
	if last != nil {
		return memberID, last // the merge kept being refused: say why
	}
	return memberID, problem.New(problem.Conflict, "linking member %s by verified phone kept meeting concurrent changes; retry", memberID)
}

// mergedInto follows a member's merges to the active member it ended in: ok is
// false when id is active or erased (nothing to follow).
func (t *Tenant) mergedInto(ctx context.Context, id string) (string, bool, error) {
	followed := false
	for hops := 0; hops < 10; hops++ {
		m, err := t.consistentMember(ctx, id)
		if err != nil {
			return id, false, err
		}
		if m.Status != StatusMerged || m.MergedInto == "" {
			return id, followed && m.Status == StatusActive, nil
		}
		id, followed = m.MergedInto, true
	}
	return id, false, problem.New(problem.Conflict, "member %s: merges too deep to follow", id)
}

// Survivor is the active member id is now: id itself, or the member it was
// merged into (followed through later merges). An erased member is itself.
func (t *Tenant) Survivor(ctx context.Context, id string) (string, error) {
	next, ok, err := t.mergedInto(ctx, id)
	if err != nil || !ok {
		return id, err
	}
	return next, nil
}
