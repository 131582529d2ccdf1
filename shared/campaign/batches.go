package campaign

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// Batches is the campaignbatch stream consumer: for each new run batch it takes
// the batch's budget slice, makes each member in the audience take part (once:
// the participation is written only if new, with its ledger posting), returns
// the unused slice and adds the batch to the occurrence's results.
type Batches struct {
	st       *store.Store
	settings Settings
	log      *slog.Logger
}

// NewBatches returns the consumer.
func NewBatches(st *store.Store, set Settings, log *slog.Logger) (*Batches, error) {
	if st == nil || set == nil || log == nil {
		return nil, errors.New("campaign: batches need a store, settings and a logger")
	}
	return &Batches{st: st, settings: set, log: log}, nil
}

// Handle works each new batch of the stream batch; a batch that fails is
// reported alone and retried by Lambda, which finds its finished members done.
func (b *Batches) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		ch, err := store.DecodeChange(rec)
		if err == nil && ch.New.CampaignBatch != nil {
			err = b.Work(ctx, ch.Tenant, *ch.New.CampaignBatch)
		}
		if err != nil {
			b.log.ErrorContext(ctx, "campaign: batch failed", "event", rec.EventID, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
		}
	}
	return resp, nil
}

// Work works one batch.
func (b *Batches) Work(ctx context.Context, tenantID string, batch store.CampaignBatch) error {
	t, err := b.st.Tenant(tenantID)
	if err != nil {
		return err
	}
	c, err := t.Campaign(ctx, batch.Campaign)
	if problem.Is(err, problem.NotFound) {
		b.log.WarnContext(ctx, "campaign: batch of no campaign dropped", "tenant", tenantID, "campaign", batch.Campaign)
		return nil
	}
	if err != nil {
		return err
	}
	if batch.Status == store.BatchDone {
		return nil
	}
	s, err := b.settings.Get(ctx, t)
	if err != nil {
		return err
	}
	at, err := parseOccurrence(batch.Occurrence)
	if err != nil {
		return err
	}
	reached := 0
	var eligible []store.Member
	if c.Status == store.CampaignRunning || c.Status == store.CampaignScheduled || c.Status == store.CampaignCompleted {
		members, err := t.MembersConsistent(ctx, batch.Members)
		if err != nil {
			return err
		}
		seg := c.Audience.Segment
		if seg == nil && c.Kind == store.KindWinBack {
			seg = &store.Segment{Stages: []string{store.StageSilent, store.StageChurned}}
		}
		for _, id := range batch.Members {
			m, ok := members[id]
			if !ok {
				continue
			}
			if c.Kind == store.KindBirthday && !(&store.Segment{BirthdayToday: true}).Matches(m, at, s.Location) {
				continue // the birthday list is stale for this member
			}
			in, err := t.InSegment(ctx, seg, m, at, s.Location)
			if err != nil {
				return err
			}
			if in {
				eligible = append(eligible, m)
			}
		}
	}
	reached = len(eligible)
	if c.Budget.Capped() && reached > 0 {
		pts, minor := cost(c)
		if batch, err = t.AllocateBatch(ctx, batch, c.Budget, reached, pts, minor); err != nil {
			return err
		}
	}
	issuer := issuerOf(t)
	for _, m := range eligible {
		err := grant(ctx, t, s, c, batch.Occurrence, at, m, &batch, issuer)
		switch {
		case err == nil, skipped(err), errors.Is(err, store.ErrNothingToPost):
		default:
			return err
		}
	}
	_, err = t.FinishBatch(ctx, batch, reached)
	return err
}
