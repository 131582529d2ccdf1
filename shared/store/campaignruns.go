package store

// Campaign runs (issue 10). A run is one occurrence of a campaign's schedule. The
// runner pages the audience and writes run batches, each page's batches and the
// run's cursor in one transaction, so a run that dies resumes from its cursor and
// re-firing an occurrence writes nothing new. Each batch is its own partition and
// takes a slice of the budget; the campaignbatch consumer rewards its members,
// each participation written only if new, in the ledger posting's transaction, and
// charged against the batch's slice; the batch then returns what it did not use and
// adds its counts to the occurrence's results.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// Run statuses.
const (
	RunPlanning = "planning"
	RunPlanned  = "planned"
)

// Batch statuses.
const (
	BatchPending = "pending"
	BatchDone    = "done"
)

// CampaignRun is one occurrence of a campaign and how far its planning got.
type CampaignRun struct {
	Campaign   string    `dynamo:"campaign" json:"campaign"`
	Occurrence string    `dynamo:"occurrence" json:"occurrence"`
	Status     string    `dynamo:"status" json:"status"`
	Source     string    `dynamo:"source" json:"source"`
	Cursor     string    `dynamo:"cursor" json:"-"`
	Batches    int       `dynamo:"batches" json:"batches"`
	Members    int       `dynamo:"members" json:"members"`
	StartedAt  time.Time `dynamo:"started_at" json:"started_at"`
	UpdatedAt  time.Time `dynamo:"updated_at" json:"updated_at"`
}

type runItem struct {
	keyed
	CampaignRun
}

// CampaignBatch is a slice of a run's audience and of its budget. The members are
// the batch item, written once; the counters (Allocated to Participated, and the
// status once done) are a small slice item beside it in the batch's partition, so
// each member's charge writes 1 KB, not the member list.
type CampaignBatch struct {
	Campaign   string   `dynamo:"campaign" json:"campaign"`
	Occurrence string   `dynamo:"occurrence" json:"occurrence"`
	Seq        int      `dynamo:"seq" json:"seq"`
	Members    []string `dynamo:"members" json:"members"`
	Status     string   `dynamo:"status" json:"status"`
	// Allocated is set once the batch took its budget slice (AllocPoints,
	// AllocMinor); Used* is what its participations charged against it.
	Allocated    bool  `dynamo:"allocated,omitempty" json:"-"`
	AllocPoints  int64 `dynamo:"alloc_points" json:"-"`
	AllocMinor   int64 `dynamo:"alloc_minor" json:"-"`
	UsedPoints   int64 `dynamo:"used_points" json:"-"`
	UsedMinor    int64 `dynamo:"used_minor" json:"-"`
	Participated int64 `dynamo:"participated" json:"-"`
}

type batchItem struct {
	keyed
	CampaignBatch
}

// batchKey: each batch is a partition of its own, so a million-member run's
// per-member charges spread over the table.
func (t *Tenant) batchKey(campaignID, occ string, seq int) (string, string) {
	return t.pk("CAMPAIGN", campaignID, "B", occ, strconv.Itoa(seq)), "BATCH"
}

func (t *Tenant) runKey(campaignID, occ string) (string, string) {
	return t.campaignPK(campaignID), "RUN#" + occ
}

// StartRun returns the run of occurrence occ, creating it (planning from the start
// of source) unless it exists.
func (t *Tenant) StartRun(ctx context.Context, campaignID, occ, source string) (CampaignRun, error) {
	pk, sk := t.runKey(campaignID, occ)
	now := t.s.Now()
	run := CampaignRun{Campaign: campaignID, Occurrence: occ, Status: RunPlanning, Source: source, StartedAt: now, UpdatedAt: now}
	err := t.table.Put(runItem{keyed{pk, sk, table.TypeCampaignRun, 0}, run}).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if err != nil && !dynamo.IsCondCheckFailed(err) {
		return CampaignRun{}, translate(err, "campaign run")
	}
	var it runItem
	err = t.getItem(ctx, pk, sk, true, &it, "campaign run")
	return it.CampaignRun, err
}

// PlanPage writes one page of a run: a batch per chunk of memberIDs, numbered on
// from the run's count, and the run's cursor moved to next ("" when the audience
// is done, which marks the run planned), all in one transaction and only if the
// run is still at run.Cursor. It returns the run as written.
func (t *Tenant) PlanPage(ctx context.Context, run CampaignRun, chunks [][]string, next string) (CampaignRun, error) {
	if len(chunks) > 90 {
		return run, errors.New("store: at most 90 batches a page")
	}
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	members := 0
	for i, ids := range chunks {
		pk, sk := t.batchKey(run.Campaign, run.Occurrence, run.Batches+i)
		b := CampaignBatch{Campaign: run.Campaign, Occurrence: run.Occurrence, Seq: run.Batches + i, Members: ids, Status: BatchPending}
		tx.Put(t.table.Put(batchItem{keyed{pk, sk, table.TypeCampaignBatch, 0}, b}).If("attribute_not_exists(PK)"))
		members += len(ids)
	}
	status := RunPlanning
	if next == "" {
		status = RunPlanned
	}
	pk, sk := t.runKey(run.Campaign, run.Occurrence)
	now := t.s.Now()
	u := t.table.Update("PK", pk).Range("SK", sk).Set("status", status).
		Set("batches", run.Batches+len(chunks)).Set("members", run.Members+members).Set("updated_at", now)
	if next == "" {
		u = u.Remove("cursor")
	} else {
		u = u.Set("cursor", next)
	}
	// An empty cursor is not stored.
	if run.Cursor == "" {
		u = u.If("attribute_not_exists($) AND $ = ?", "cursor", "batches", run.Batches)
	} else {
		u = u.If("$ = ? AND $ = ?", "cursor", run.Cursor, "batches", run.Batches)
	}
	tx.Update(u)
	if err := tx.Run(ctx); err != nil {
		if dynamo.IsCondCheckFailed(err) {
			return run, problem.Wrap(problem.Conflict, err, "run %s/%s moved on meanwhile", run.Campaign, run.Occurrence)
		}
		return run, translate(err, "campaign run")
	}
	run.Cursor, run.Status, run.UpdatedAt = next, status, now
	run.Batches += len(chunks)
	run.Members += members
	return run, nil
}

// Sources of a run's audience.
const (
	// SourceMembers is every active member, from the sharded member list.
	SourceMembers = "members"
	// SourceBirthdays is "birthdays:MM-DD[,MM-DD]": the birthday lists.
	SourceBirthdays = "birthdays:"
)

// AudiencePage returns up to limit member ids of source after cursor ("" to
// start) and the cursor of the next page, "" when the source is done.
func (t *Tenant) AudiencePage(ctx context.Context, source, cursor string, limit int) ([]string, string, error) {
	var parts []string
	var pkOf func(i int) string
	index := false
	switch {
	case source == SourceMembers:
		parts = make([]string, memberShards)
		pkOf, index = t.memberShardKey, true
	case strings.HasPrefix(source, SourceBirthdays):
		parts = strings.Split(strings.TrimPrefix(source, SourceBirthdays), ",")
		pkOf = func(i int) string { pk, _ := t.birthdayKey(parts[i], ""); return pk }
	default:
		return nil, "", fmt.Errorf("store: unknown audience source %q", source)
	}
	part, after := 0, ""
	if cursor != "" {
		p, a, ok := strings.Cut(cursor, "/")
		n, err := strconv.Atoi(p)
		if !ok || err != nil || n < 0 || n >= len(parts) {
			return nil, "", fmt.Errorf("store: bad audience cursor %q", cursor)
		}
		part, after = n, a
	}
	var out []string
	for part < len(parts) && len(out) < limit {
		pkName, skName := "PK", "SK"
		q := t.table.Get(pkName, pkOf(part))
		if index {
			pkName, skName = table.GSI1PK, table.GSI1SK
			q = t.table.Get(pkName, pkOf(part)).Index(table.GSI1)
		}
		req := limit - len(out)
		q = q.Limit(req).ConsumedCapacity(rcc(ctx))
		if after != "" {
			q = q.Range(skName, dynamo.Greater, after)
		}
		var rows []struct {
			SK  string `dynamo:"SK"`
			GSK string `dynamo:"GSI1SK"`
		}
		if err := q.All(ctx, &rows); err != nil {
			return nil, "", translate(err, "audience")
		}
		for _, r := range rows {
			id := r.SK
			if index {
				id = r.GSK
			}
			out = append(out, id)
			after = id
		}
		if len(rows) < req {
			// The partition is done: on to the next.
			part, after = part+1, ""
		}
	}
	if part >= len(parts) {
		return out, "", nil
	}
	return out, strconv.Itoa(part) + "/" + after, nil
}

// sliceKey is the batch's counters, beside the batch in its partition.
func (t *Tenant) sliceKey(campaignID, occ string, seq int) (string, string) {
	pk, _ := t.batchKey(campaignID, occ, seq)
	return pk, "SLICE"
}

// Batch reads a batch and its counters: one consistent query of the batch's
// partition.
func (t *Tenant) Batch(ctx context.Context, campaignID, occ string, seq int) (CampaignBatch, error) {
	pk, sk := t.batchKey(campaignID, occ, seq)
	var items []batchItem
	if err := t.table.Get("PK", pk).Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &items); err != nil {
		return CampaignBatch{}, translate(err, "campaign batch")
	}
	var b, slice CampaignBatch
	found := false
	for _, it := range items {
		if it.SK == sk {
			b, found = it.CampaignBatch, true
		} else {
			slice = it.CampaignBatch
		}
	}
	if !found {
		return b, problem.New(problem.NotFound, "campaign batch %s/%s/%d not found", campaignID, occ, seq)
	}
	b.Allocated, b.AllocPoints, b.AllocMinor = slice.Allocated, slice.AllocPoints, slice.AllocMinor
	b.UsedPoints, b.UsedMinor, b.Participated = slice.UsedPoints, slice.UsedMinor, slice.Participated
	if slice.Status == BatchDone {
		b.Status = BatchDone
	}
	return b, nil
}

// BudgetState is what a campaign has spent (or handed to batches as slices).
type BudgetState struct {
	SpentPoints int64 `dynamo:"spent_points" json:"spent_points"`
	SpentMinor  int64 `dynamo:"spent_minor" json:"spent_minor"`
}

type budgetItem struct {
	keyed
	BudgetState
}

func (t *Tenant) budgetKey(campaignID string) (string, string) {
	return t.campaignPK(campaignID), "BUDGET"
}

// Budget reads what a campaign has spent.
func (t *Tenant) Budget(ctx context.Context, campaignID string) (BudgetState, error) {
	pk, sk := t.budgetKey(campaignID)
	var it budgetItem
	ok, err := t.findItem(ctx, pk, sk, true, &it, "campaign budget")
	if err != nil || !ok {
		return BudgetState{}, err
	}
	return it.BudgetState, nil
}

// budgetUnchanged is the condition that the budget item still holds spent (or,
// for nothing spent, does not exist yet); it takes spent's two values.
func budgetUnchanged(spent BudgetState) string {
	if spent.SpentPoints == 0 && spent.SpentMinor == 0 {
		return "attribute_not_exists(PK) OR (spent_points = ? AND spent_minor = ?)"
	}
	return "spent_points = ? AND spent_minor = ?"
}

// AllocateBatch gives batch b its budget slice, once: room for as many of want
// members as the budget has left, at pointsEach and minorEach a member. It
// returns the batch with its slice (the one taken before, for a batch delivered
// again).
func (t *Tenant) AllocateBatch(ctx context.Context, b CampaignBatch, cap Budget, want int, pointsEach, minorEach int64) (CampaignBatch, error) {
	bpk, bsk := t.sliceKey(b.Campaign, b.Occurrence, b.Seq)
	gpk, gsk := t.budgetKey(b.Campaign)
	for attempt := 0; attempt < 50; attempt++ {
		cur, err := t.Batch(ctx, b.Campaign, b.Occurrence, b.Seq)
		if err != nil || cur.Allocated || cur.Status == BatchDone {
			return cur, err
		}
		spent, err := t.Budget(ctx, b.Campaign)
		if err != nil {
			return cur, err
		}
		n := int64(want)
		if cap.Points > 0 && pointsEach > 0 {
			n = min(n, max(0, cap.Points-spent.SpentPoints)/pointsEach)
		}
		if cap.MoneyMinor > 0 && minorEach > 0 {
			n = min(n, max(0, cap.MoneyMinor-spent.SpentMinor)/minorEach)
		}
		p, m := n*pointsEach, n*minorEach
		tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
		tx.Update(t.table.Update("PK", gpk).Range("SK", gsk).Set("type", table.TypeCampaignBudget).
			Set("spent_points", spent.SpentPoints+p).Set("spent_minor", spent.SpentMinor+m).
			If(budgetUnchanged(spent), spent.SpentPoints, spent.SpentMinor))
		tx.Update(t.table.Update("PK", bpk).Range("SK", bsk).Set("type", table.TypeCampaignBudget).Set("allocated", true).
			Set("alloc_points", p).Set("alloc_minor", m).Set("used_points", 0).Set("used_minor", 0).Set("participated", 0).
			If("attribute_not_exists(allocated) AND attribute_not_exists($)", "status"))
		err = tx.Run(ctx)
		if err == nil {
			cur.Allocated, cur.AllocPoints, cur.AllocMinor = true, p, m
			return cur, nil
		}
		if _, ok := cancelReasons(err); !ok && !isTxConflict(err) {
			return cur, translate(err, "campaign budget")
		}
		time.Sleep(time.Duration(1+attempt) * time.Millisecond)
	}
	return b, problem.New(problem.Conflict, "campaign %s budget is too busy; retry", b.Campaign)
}

// Participation is a member's part in one occurrence of a campaign.
type Participation struct {
	Campaign   string               `dynamo:"campaign" json:"campaign"`
	Occurrence string               `dynamo:"occurrence" json:"occurrence"`
	Member     string               `dynamo:"member" json:"member"`
	Kind       string               `dynamo:"kind" json:"kind"`
	Status     string               `dynamo:"status" json:"status"`
	Reward     *ParticipationReward `dynamo:"reward,omitempty" json:"reward,omitempty"`
	Message    *Message             `dynamo:"message,omitempty" json:"message,omitempty"`
	At         time.Time            `dynamo:"at" json:"at"`
	// AttributionEnds is when a paid order stops counting as its conversion.
	AttributionEnds time.Time  `dynamo:"attribution_ends" json:"attribution_ends"`
	ConvertedAt     *time.Time `dynamo:"converted_at,omitempty" json:"converted_at,omitempty"`
	// Scope, when set, keys the participation instead of Occurrence: a member
	// takes part once in it (per campaign: "ONCE", per year: "Y#2026").
	Scope string `dynamo:"scope,omitempty" json:"-"`
}

// scope is what keys the participation.
func (p Participation) scope() string {
	if p.Scope != "" {
		return p.Scope
	}
	return p.Occurrence
}

// ParticipationReward is what a member got.
type ParticipationReward struct {
	Points     int64  `dynamo:"points,omitempty" json:"points,omitempty"`
	RewardID   string `dynamo:"reward_id,omitempty" json:"reward_id,omitempty"`
	CouponCode string `dynamo:"coupon_code,omitempty" json:"coupon_code,omitempty"`
}

// Participation statuses.
const (
	ParticipationRewarded = "rewarded"
	ParticipationMessaged = "messaged"
)

type participationItem struct {
	keyed
	Participation
}

func (t *Tenant) participationKey(memberID, campaignID, occ string) (string, string) {
	pk, _ := t.memberKey(memberID)
	return pk, "CAMPAIGN#" + campaignID + "#" + occ
}

// Errors of a participation.
var (
	ErrParticipated    = errors.New("store: member already took part")
	ErrBudgetExhausted = errors.New("store: campaign budget exhausted")
	// ErrOutOfStock: the participation's catalogue reward had no stock left.
	ErrOutOfStock = errors.New("store: campaign reward out of stock")
)

// Participate is one member's participation.
type Participate struct {
	Participation
	// EffectiveAt is the ledger entry's time: the occurrence's, so a retry
	// arrives at the same entry.
	EffectiveAt time.Time
	// Lot is the expiry bucket of Reward.Points.
	Lot string
	// CatalogueReward, when set, is the catalogue reward given: one unit of its
	// stock is taken in the participation's transaction.
	CatalogueReward *Reward
	// Known is the member as read before (a batch's read), or nil: a stale copy
	// costs a retry, a fresh one saves the posting's read.
	Known *Member
	// Batch is the run batch charged, nil to charge the campaign's budget item
	// directly (participations outside runs: first orders, check-ins).
	Batch *CampaignBatch
	// Cap is the campaign's budget when Batch is nil.
	Cap                   Budget
	CostPoints, CostMinor int64
}

// TakePart writes a member's participation only if it is new (and its Once marker
// too), charging its cost against the batch's slice or the budget, and posting
// Reward.Points to the member's ledger in the same transaction. It returns
// ErrParticipated or ErrBudgetExhausted when nothing was written for those
// reasons.
func (t *Tenant) TakePart(ctx context.Context, p Participate) error {
	writes := t.participationWrites(p)
	pts := int64(0)
	if p.Reward != nil {
		pts = p.Reward.Points
	}
	if pts <= 0 {
		// No posting writes the member: its attribution mark is raised first,
		// so it never falls short of a participation that commits.
		if err := t.raiseAttribution(ctx, p.Member, p.AttributionEnds); err != nil {
			return err
		}
		err := retryConflicts(ctx, func() error {
			tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
			for _, w := range writes {
				w.op(tx)
			}
			return tx.Run(ctx)
		})
		for i, w := range writes {
			if condFailedAt(err, i) {
				return w.onCheck
			}
		}
		return translate(err, "participation")
	}
	_, _, err := t.PostFrom(ctx, p.Known, p.Member, p.EffectiveAt, "campaign:"+p.Campaign+":"+p.Occurrence, func(m *Member) (*Posting, error) {
		if m.Status != StatusActive {
			return nil, ErrNothingToPost
		}
		m.Points += pts
		if m.Lots == nil {
			m.Lots = map[string]int64{}
		}
		m.Lots[p.Lot] += pts
		return &Posting{
			Entry:       Entry{Type: EntryEarn, Amount: pts, Source: "campaign", SourceRef: p.Campaign + ":" + p.Occurrence, Lot: p.Lot},
			extra:       writes,
			attribution: p.AttributionEnds,
		}, nil
	})
	if errors.Is(err, ErrAlreadyPosted) {
		return ErrParticipated
	}
	return err
}

func (t *Tenant) participationWrites(p Participate) []extraWrite {
	// Keyed by its scope, the participation alone makes it once per scope: no
	// marker item beside it.
	pk, sk := t.participationKey(p.Member, p.Campaign, p.scope())
	item := participationItem{keyed{pk, sk, table.TypeCampaignParticipation, 0}, p.Participation}
	out := []extraWrite{{op: func(tx *dynamo.WriteTx) {
		tx.Put(t.table.Put(item).If("attribute_not_exists(PK)"))
	}, onCheck: ErrParticipated}}
	if r := p.CatalogueReward; r != nil {
		out = append(out, extraWrite{op: t.takeStock(*r, 1), onCheck: ErrOutOfStock})
	}
	if b := p.Batch; b != nil {
		bpk, bsk := t.sliceKey(b.Campaign, b.Occurrence, b.Seq)
		out = append(out, extraWrite{op: func(tx *dynamo.WriteTx) {
			u := t.table.Update("PK", bpk).Range("SK", bsk).Set("type", table.TypeCampaignBudget).Add("participated", 1).
				Add("used_points", p.CostPoints).Add("used_minor", p.CostMinor)
			if b.Allocated {
				u = u.If("attribute_not_exists($) AND used_points <= ? AND used_minor <= ?", "status", b.AllocPoints-p.CostPoints, b.AllocMinor-p.CostMinor)
			} else {
				u = u.If("attribute_not_exists($)", "status")
			}
			tx.Update(u)
		}, onCheck: ErrBudgetExhausted})
		return out
	}
	gpk, gsk := t.budgetKey(p.Campaign)
	out = append(out, extraWrite{op: func(tx *dynamo.WriteTx) {
		u := t.table.Update("PK", gpk).Range("SK", gsk).Set("type", table.TypeCampaignBudget).
			Add("spent_points", p.CostPoints).Add("spent_minor", p.CostMinor)
		var conds []string
		var args []any
		if p.Cap.Points > 0 {
			conds = append(conds, "(attribute_not_exists(spent_points) OR spent_points <= ?)")
			args = append(args, p.Cap.Points-p.CostPoints)
		}
		if p.Cap.MoneyMinor > 0 {
			conds = append(conds, "(attribute_not_exists(spent_minor) OR spent_minor <= ?)")
			args = append(args, p.Cap.MoneyMinor-p.CostMinor)
		}
		if len(conds) > 0 {
			u = u.If(strings.Join(conds, " AND "), args...)
		}
		tx.Update(u)
	}, onCheck: ErrBudgetExhausted})
	rpk, rsk := t.resultKey(p.Campaign, p.Occurrence)
	out = append(out, extraWrite{op: func(tx *dynamo.WriteTx) {
		tx.Update(t.table.Update("PK", rpk).Range("SK", rsk).Set("type", table.TypeCampaignResult).
			Set("occurrence", p.Occurrence).Add("reached", 1).Add("participated", 1).
			Add("cost_points", p.CostPoints).Add("cost_minor", p.CostMinor))
	}})
	return out
}

// FinishBatch closes batch b: it returns the unused part of its slice to the
// budget and adds reached and its counts to the occurrence's results, once. It
// reports false when the batch was finished before.
func (t *Tenant) FinishBatch(ctx context.Context, b CampaignBatch, reached int) (bool, error) {
	bpk, bsk := t.sliceKey(b.Campaign, b.Occurrence, b.Seq)
	gpk, gsk := t.budgetKey(b.Campaign)
	rpk, rsk := t.resultKey(b.Campaign, b.Occurrence)
	for attempt := 0; attempt < 20; attempt++ {
		cur, err := t.Batch(ctx, b.Campaign, b.Occurrence, b.Seq)
		if err != nil {
			return false, err
		}
		if cur.Status == BatchDone {
			return false, nil
		}
		tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
		// The slice closes unless a charge came meanwhile (then read again); the
		// batch item itself is not written again.
		done := t.table.Update("PK", bpk).Range("SK", bsk).Set("type", table.TypeCampaignBudget).Set("status", BatchDone)
		if !cur.Allocated && cur.Participated == 0 {
			done = done.If("attribute_not_exists(participated)")
		} else {
			done = done.If("attribute_not_exists($) AND used_points = ? AND used_minor = ? AND participated = ?", "status", cur.UsedPoints, cur.UsedMinor, cur.Participated)
		}
		tx.Update(done)
		if cur.Allocated {
			tx.Update(t.table.Update("PK", gpk).Range("SK", gsk).
				Add("spent_points", cur.UsedPoints-cur.AllocPoints).Add("spent_minor", cur.UsedMinor-cur.AllocMinor))
		}
		tx.Update(t.table.Update("PK", rpk).Range("SK", rsk).Set("type", table.TypeCampaignResult).
			Set("occurrence", b.Occurrence).Add("reached", reached).Add("participated", cur.Participated).
			Add("cost_points", cur.UsedPoints).Add("cost_minor", cur.UsedMinor).Add("batches", 1))
		err = tx.Run(ctx)
		if err == nil {
			return true, nil
		}
		if _, ok := cancelReasons(err); !ok && !isTxConflict(err) {
			return false, translate(err, "campaign batch")
		}
	}
	return false, problem.New(problem.Conflict, "campaign batch %d is changing; retry", b.Seq)
}

// Result is the outcome of one occurrence (or, summed, of a campaign).
type Result struct {
	Occurrence   string `dynamo:"occurrence" json:"occurrence"`
	Reached      int64  `dynamo:"reached" json:"reached"`
	Participated int64  `dynamo:"participated" json:"participated"`
	Converted    int64  `dynamo:"converted" json:"converted"`
	Orders       int64  `dynamo:"orders" json:"orders"`
	GMVMinor     int64  `dynamo:"gmv_minor" json:"gmv_minor"`
	CostPoints   int64  `dynamo:"cost_points" json:"cost_points"`
	CostMinor    int64  `dynamo:"cost_minor" json:"cost_minor"`
}

type resultItem struct {
	keyed
	Result
}

func (t *Tenant) resultKey(campaignID, occ string) (string, string) {
	return t.campaignPK(campaignID), "R#" + occ
}

// Results returns a campaign's results per occurrence, in occurrence order.
func (t *Tenant) Results(ctx context.Context, campaignID string) ([]Result, error) {
	q := t.table.Get("PK", t.campaignPK(campaignID)).Range("SK", dynamo.BeginsWith, "R#").Consistent(true)
	return queryAll(ctx, q, "campaign results", func(it resultItem) Result { return it.Result })
}

// Participations returns a member's campaign participations.
func (t *Tenant) Participations(ctx context.Context, memberID string) ([]Participation, error) {
	pk, _ := t.memberKey(memberID)
	q := t.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, "CAMPAIGN#").Filter("$ = ?", "type", table.TypeCampaignParticipation)
	return queryAll(ctx, q, "participations", func(it participationItem) Participation { return it.Participation })
}

// Convert counts a paid order of gmvMinor against participation p: the member
// converts once (the first order), every order in the window adds to GMV. ref
// names the order, so a redelivered order counts once.
func (t *Tenant) Convert(ctx context.Context, p Participation, ref string, gmvMinor int64, at time.Time) error {
	pk, sk := t.participationKey(p.Member, p.Campaign, p.scope())
	rpk, rsk := t.resultKey(p.Campaign, p.Occurrence)
	first := p.ConvertedAt == nil
	err := retryConflicts(ctx, func() error {
		tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
		tx.Put(t.table.Put(keyed{pk, "CAMPAIGN#" + p.Campaign + "#" + p.Occurrence + "#O#" + ref, table.TypeCampaignMarker, 0}).If("attribute_not_exists(PK)"))
		u := t.table.Update("PK", rpk).Range("SK", rsk).Set("type", table.TypeCampaignResult).Set("occurrence", p.Occurrence).
			Add("orders", 1).Add("gmv_minor", gmvMinor)
		if first {
			u = u.Add("converted", 1)
			tx.Update(t.table.Update("PK", pk).Range("SK", sk).Set("converted_at", at.UTC()).If("attribute_not_exists(converted_at)"))
		}
		tx.Update(u)
		return tx.Run(ctx)
	})
	if condFailedAt(err, 0) || condFailedAt(err, 1) {
		return nil
	}
	return translate(err, "conversion")
}
