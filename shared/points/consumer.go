package points

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/batch"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

// Engine posts points from the stream and runs the daily jobs.
type Engine struct {
	store    *store.Store
	settings Settings
	log      *slog.Logger
	// campaigns applies campaigns to orders (points multipliers as they post,
	// first-order gifts and conversions after); nil for none.
	campaigns Campaigns
}

// Settings gives a tenant's settings (settings.Reader, cached).
type Settings interface {
	Get(ctx context.Context, t *store.Tenant) (settings.Settings, error)
}

// New returns the engine.
func New(st *store.Store, set Settings, log *slog.Logger) (*Engine, error) {
	if st == nil || set == nil || log == nil {
		return nil, errors.New("points: need a store, tenant settings and a logger")
	}
	return &Engine{store: st, settings: set, log: log}, nil
}

// parallelism bounds how many partitions of a batch are worked on at once.
const parallelism = 8

// Handle is the stream consumer for order, refund and customer items. Records of
// one partition (an order and its refunds) are processed in order; different
// partitions, which DynamoDB does not order among themselves either, run
// concurrently. On a failure it reports the earliest failed record and every later
// one, so Lambda retries from there and a refund never overtakes its order; every
// posting is idempotent, so retried records that had succeeded post nothing.
func (e *Engine) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	// Records are grouped so that one goroutine sees all of a customer's orders (no
	// two postings race for one member) and every refund after its order (they share
	// a partition key).
	changes := make([]store.Change, len(ev.Records))
	for i, r := range ev.Records {
		c, err := store.DecodeChange(r)
		if err != nil {
			// Nothing to post from a record the store cannot read; retrying won't help.
			e.log.ErrorContext(ctx, "points: undecodable record", "event_id", r.EventID, "err", err)
		}
		changes[i] = c
	}
	groups := map[string][]int{}
	groupOfPK := map[string]string{}
	var order []string
	for i, c := range changes {
		pk := c.Partition
		key := pk
		if g, ok := groupOfPK[pk]; ok {
			key = g
		} else if o := c.New.Order; o != nil && o.Customer.ExternalID != "" {
			key = "customer#" + c.Tenant + "#" + o.Provider + "#" + o.Customer.ExternalID
		}
		groupOfPK[pk] = key
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], i)
	}
	pre := e.prefetch(ctx, changes)
	list := make([][]int, len(order))
	for i, key := range order {
		list[i] = groups[key]
	}
	failed := batch.Run(len(ev.Records), list, parallelism, func() func(int) error {
		memo := map[string]store.Member{}
		return func(i int) error {
			r := ev.Records[i]
			_, err := e.record(ctx, changes[i], pre, memo)
			if errors.Is(err, errOrderUnseen) {
				err = nil // the reconciler takes it up off the stream once the order is in
			}
			if err != nil {
				e.log.ErrorContext(ctx, "points: record failed", "event_id", r.EventID, "err", err)
			}
			return err
		}
	})
	return batch.Failures(ev.Records, failed), nil
}

// prefetched holds what a batch's orders need, read in two batch reads per tenant
// (their customers' identities, then those members) instead of two reads per order.
type prefetched struct {
	members map[string]map[store.IdentityRef]store.Member
}

func (p *prefetched) member(tenantID string, ref store.IdentityRef) (store.Member, bool) {
	if p == nil {
		return store.Member{}, false
	}
	m, ok := p.members[tenantID][ref]
	return m, ok
}

// prefetch reads ahead for the batch's orders. It is an optimisation only: on any
// error it gives up and each record reads for itself.
func (e *Engine) prefetch(ctx context.Context, changes []store.Change) *prefetched {
	refs := map[string][]store.IdentityRef{}
	seenRef := map[string]map[store.IdentityRef]bool{}
	for _, c := range changes {
		o := c.New.Order
		if c.Event != store.Insert || o == nil || o.Customer.ExternalID == "" {
			continue
		}
		// A batch read refuses a key twice: one customer's orders share it.
		ref := store.IdentityRef{Provider: o.Provider, ExternalID: o.Customer.ExternalID}
		if seenRef[c.Tenant] == nil {
			seenRef[c.Tenant] = map[store.IdentityRef]bool{}
		}
		if !seenRef[c.Tenant][ref] {
			seenRef[c.Tenant][ref] = true
			refs[c.Tenant] = append(refs[c.Tenant], ref)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	p := &prefetched{members: map[string]map[store.IdentityRef]store.Member{}}
	for tenantID, list := range refs {
		t, err := e.store.Tenant(tenantID)
		if err != nil {
			continue
		}
		found, err := t.LookupIdentities(ctx, list)
		if err != nil {
			e.log.WarnContext(ctx, "points: prefetch identities", "err", err)
			continue
		}
		idList := make([]string, 0, len(found))
		seen := map[string]bool{}
		for _, id := range found {
			if !seen[id] {
				seen[id] = true
				idList = append(idList, id)
			}
		}
		members, err := t.MembersConsistent(ctx, idList)
		if err != nil {
			e.log.WarnContext(ctx, "points: prefetch members", "err", err)
			continue
		}
		byRef := map[store.IdentityRef]store.Member{}
		for ref, id := range found {
			if m, ok := members[id]; ok {
				byRef[ref] = m
			}
		}
		p.members[tenantID] = byRef
	}
	return p
}

// record applies one change (an order's or a refund's posting is idempotent: the
// reconciler re-drives through it too). posted is true when it wrote a ledger
// entry now. memo holds the members this goroutine posted to, as written, so a
// customer's next order in the batch starts from the current version (by member
// id, and by the customer's platform id, which then needs no lookup).
func (e *Engine) record(ctx context.Context, c store.Change, pre *prefetched, memo map[string]store.Member) (posted bool, err error) {
	if c.Event != store.Insert || c.Tenant == "" {
		return false, nil
	}
	t, err := e.store.Tenant(c.Tenant)
	if err != nil {
		return false, nil
	}
	s, err := e.settings.Get(ctx, t)
	if err != nil {
		return false, err
	}
	switch {
	case c.New.Order != nil:
		rec := *c.New.Order
		return e.order(ctx, t, s, pre, memo, rec)
	case c.New.Refund != nil:
		rec := *c.New.Refund
		return e.refund(ctx, t, s, rec)
	case c.New.Customer != nil:
		rec := *c.New.Customer
		id, err := t.ResolveMember(ctx, contact(rec.Provider, rec.Customer, s.Identity), s.BaseTier())
		if _, ok := store.Erased(err); ok {
			// An erased person announced again (a redelivery, a replay): not
			// re-created, and the announcement is not kept.
			e.log.InfoContext(ctx, "points: customer of an erased member dropped", "tenant", c.Tenant)
			return false, t.DeleteCustomer(ctx, rec.Provider, rec.ExternalID)
		}
		if err == nil {
			_, err = linkPhone(ctx, t, id, rec.Provider, rec.IntegrationID, rec.ExternalID, "customer", rec.Customer)
		}
		return false, err
	}
	return false, nil
}

// orderPosted reports, by reads only, whether a stored order's earn is in the
// ledger: the member its customer resolves to (none is created) and the entry's
// key, which the order fixes. An order of an erased member counts as posted; an
// order that finds no member is not (posting it again creates the member or,
// for an order without a customer, does nothing).
func (e *Engine) orderPosted(ctx context.Context, t *store.Tenant, s settings.Settings, ord store.OrderRecord) (bool, error) {
	if ord.ErasedMember != "" {
		return true, nil
	}
	id, err := t.FindMember(ctx, contact(ord.Provider, ord.Customer, s.Identity))
	if _, ok := store.Erased(err); ok {
		return true, nil
	}
	if err != nil || id == "" {
		return false, err
	}
	// Posted before a merge, the entry sits on the member id absorbed.
	_, _, err = t.EntryAcrossMerges(ctx, id, store.EntryKey(ord.PaidAt, OrderKey(ord.IntegrationID, ord.ExternalID)))
	if problem.Is(err, problem.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// errOrderUnseen: a refund's order is not stored (yet).
var errOrderUnseen = errors.New("the refunded order is not stored")

// order posts a paid order's points. The channel funnel's first orders and GMV
// are counted off the posting's ledger entry by the counters consumer, exactly
// once and sharded.
func (e *Engine) order(ctx context.Context, t *store.Tenant, s settings.Settings, pre *prefetched, memo map[string]store.Member, rec store.OrderRecord) (bool, error) {
	earned, err := e.earn(ctx, t, s, pre, memo, rec)
	if err != nil || earned.MemberID == "" {
		return false, err
	}
	e.log.InfoContext(ctx, "points: earned", "tenant", t.ID(), "member", earned.MemberID, "order", rec.ExternalID, "points", earned.Amount, "fresh", earned.Fresh)
	if earned.Fresh && e.campaigns != nil {
		if err := e.campaigns.OrderPaid(ctx, t, s, earned.Member, earned.First, rec, earned.Entry.SpendMinor); err != nil {
			// The posting stands; the campaigns' part is logged, not retried.
			e.log.WarnContext(ctx, "points: campaigns after an order", "tenant", t.ID(), "order", rec.ExternalID, "err", err)
		}
	}
	return earned.Fresh, nil
}

// refund takes back what a refund's order earned.
func (e *Engine) refund(ctx context.Context, t *store.Tenant, s settings.Settings, rec store.RefundRecord) (bool, error) {
	ord, err := t.Order(ctx, rec.IntegrationID, rec.OrderExternalID)
	if problem.Is(err, problem.NotFound) {
		// A refund of an order Tribe has not seen paid (yet: a shop's deliveries
		// may overtake each other): nothing to take back now. The reconciler,
		// reading the stream, tries again once the order is in (for up to 12
		// hours).
		e.log.InfoContext(ctx, "points: refund of an unknown order", "tenant", t.ID(), "order", rec.OrderExternalID)
		return false, errOrderUnseen
	}
	if err != nil {
		return false, err
	}
	posted, err := e.orderPosted(ctx, t, s, ord)
	if err != nil {
		return false, err
	}
	if !posted {
		// The refund overtook its order (the shop's deliveries crossed, or the
		// order's record failed): reversing now would find nothing to take back.
		// Post the order first, as its own record would; that record, when it
		// comes, posts nothing.
		if _, err := e.order(ctx, t, s, nil, map[string]store.Member{}, ord); err != nil {
			return false, fmt.Errorf("refund %s: posting its order %s first: %w", rec.ExternalID, rec.OrderExternalID, err)
		}
	}
	// An erased member's order names the anonymised member, whose amounts
	// must stay whole; its customer is gone and re-creates no one.
	memberID := ord.ErasedMember
	if memberID == "" {
		memberID, err = t.ResolveMember(ctx, contact(ord.Provider, ord.Customer, s.Identity), s.BaseTier())
		if erased, ok := store.Erased(err); ok {
			memberID, err = erased, nil
		}
	}
	if err != nil || memberID == "" {
		return false, err
	}
	_, fresh, err := reverse(ctx, t, s, memberID, ord, rec)
	return fresh, err
}

// earn posts an order to its customer's member: the one this goroutine already
// wrote, the batch's prefetched one, one looked up, or, on first sight, a new
// member created in the same transaction as the points.
func (e *Engine) earn(ctx context.Context, t *store.Tenant, s settings.Settings, pre *prefetched, memo map[string]store.Member, rec store.OrderRecord) (Earned, error) {
	var known *store.Member
	memberID, matched := "", ""
	ref := store.IdentityRef{Provider: rec.Provider, ExternalID: rec.Customer.ExternalID}
	if m, ok := pre.member(t.ID(), ref); ok && m.Status == store.StatusActive {
		known, memberID = &m, m.ID
	}
	// A customer's earlier order in this batch found or made its member.
	refKey := ""
	if ref.ExternalID != "" {
		refKey = "customer\x00" + t.ID() + "\x00" + ref.Provider + "\x00" + ref.ExternalID
	}
	if m, ok := memo[refKey]; ok && memberID == "" {
		memberID = m.ID
	}
	for attempt := 0; memberID == "" && attempt < 3; attempt++ {
		who := contact(rec.Provider, rec.Customer, s.Identity)
		id, ref, err := t.FindMemberBy(ctx, who)
		if erased, ok := store.Erased(err); ok {
			// An order of an erased person earns nothing and links no one; it is
			// kept for the shop's totals without its customer.
			e.log.InfoContext(ctx, "points: order of an erased member kept without its customer, not earned", "tenant", t.ID(), "order", rec.ExternalID)
			_, err := t.ScrubOrder(ctx, rec.IntegrationID, rec.ExternalID, erased)
			return Earned{}, err
		}
		if err != nil {
			return Earned{}, err
		}
		if id != "" {
			memberID, matched = id, matchedBy(ref, rec.Customer)
			if err := attachPlatformID(ctx, t, id, ref, rec.Provider, rec.Customer, s.Now); err != nil {
				return Earned{}, err
			}
			break
		}
		fresh, idents := t.Newcomer(who, s.BaseTier())
		if len(idents) == 0 {
			e.log.InfoContext(ctx, "points: order without a customer", "tenant", t.ID(), "order", rec.ExternalID)
			return Earned{}, nil
		}
		earned, err := EarnNew(ctx, t, s, fresh, idents, rec, e.boost(ctx, t, s, rec)...)
		if problem.Is(err, problem.IdentityTaken) {
			continue // created meanwhile: look again
		}
		if err == nil {
			memo[fresh.ID] = earned.Member
			remember(memo, refKey, earned.Member)
		}
		return earned, err
	}
	if memberID == "" {
		return Earned{}, problem.New(problem.Conflict, "could not resolve customer %s", rec.Customer.ExternalID)
	}
	// A verified phone may make this member one with another: post to the survivor.
	linked, err := linkPhone(ctx, t, memberID, rec.Provider, rec.IntegrationID, rec.ExternalID, "order", rec.Customer)
	if err != nil {
		return Earned{}, err
	}
	if linked != memberID {
		memberID, known, matched = linked, nil, store.ProviderPhone
	}
	if m, ok := memo[memberID]; ok {
		known = &m
	}
	earned, err := EarnFrom(ctx, t, s, known, memberID, rec, matched, e.boost(ctx, t, s, rec)...)
	if problem.Is(err, problem.Conflict) {
		// The member was merged since it was read (a batch's prefetch, a link
		// by another record): post to the member it was merged into.
		if next, serr := t.Survivor(ctx, memberID); serr == nil && next != memberID {
			memberID = next
			earned, err = EarnFrom(ctx, t, s, nil, memberID, rec, matched, e.boost(ctx, t, s, rec)...)
		}
	}
	if err == nil && earned.Fresh {
		memo[memberID] = earned.Member
		remember(memo, refKey, earned.Member)
	}
	return earned, err
}

// remember keeps m in memo under a customer's key ("" for an order without a
// platform customer id: nothing is kept).
func remember(memo map[string]store.Member, refKey string, m store.Member) {
	if refKey != "" {
		memo[refKey] = m
	}
}
