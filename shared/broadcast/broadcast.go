// Package broadcast is the stream consumer that sends broadcasts (多群转播): each
// new broadcast task (one group's share) is claimed, sent through the group's
// connector and its outcome recorded on the task, where GET /v1/broadcasts/{id}
// reads it. The claim is conditional (pending → sending), so a record Lambda
// delivers again never sends twice; a task found claimed but unfinished was cut off
// mid-send and is marked failed, not sent again.
package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/batch"
	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// Sender sends through a connector the caller has read and logs the delivery
// (delivery.Sender).
type Sender interface {
	SendVia(ctx context.Context, t *store.Tenant, con store.Connector, target, ref string, m connector.Message) (store.Delivery, error)
}

// Consumer sends broadcast tasks.
type Consumer struct {
	store *store.Store
	send  Sender
	log   *slog.Logger
}

// finishTimeout bounds recording a task's outcome after its send.
const finishTimeout = 5 * time.Second

// parallel bounds the sends in flight per batch: chat platforms rate-limit per
// robot, and a tenant's groups often share one.
const parallel = 8

// Reasons recorded on tasks that were not delivered.
const (
	ReasonInterrupted = "the send was interrupted and its outcome is unknown; it is not repeated, so the group never gets the message twice"
	reasonNotFound    = "not found"
	reasonArchived    = "group is archived"
	reasonNoConnector = "group has no connector"
	reasonNoCon       = "the group's connector does not exist"
)

// New returns the consumer.
func New(st *store.Store, send Sender, log *slog.Logger) (*Consumer, error) {
	if st == nil || send == nil || log == nil {
		return nil, errors.New("broadcast: need a store, a sender and a logger")
	}
	return &Consumer{store: st, send: send, log: log}, nil
}

// Handle sends a batch of tasks, parallel at a time; every task is its own item,
// so order does not matter. Failed records (the store unreachable before a send)
// are reported for Lambda to retry.
func (c *Consumer) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	groups := make([][]int, len(ev.Records))
	for i := range groups {
		groups[i] = []int{i}
	}
	failed := batch.Run(len(ev.Records), groups, parallel, func() func(int) error {
		return func(i int) error {
			err := c.record(ctx, ev.Records[i])
			if err != nil {
				c.log.ErrorContext(ctx, "broadcast: task failed", "event_id", ev.Records[i].EventID, "err", err)
			}
			return err
		}
	})
	return batch.Failures(ev.Records, failed), nil
}

func (c *Consumer) record(ctx context.Context, r events.DynamoDBEventRecord) error {
	ch, err := store.DecodeChange(r)
	if err != nil {
		c.log.ErrorContext(ctx, "broadcast: bad record", "event_id", r.EventID, "err", err)
		return nil
	}
	// Only new tasks: the consumer's own status updates come back as MODIFY.
	if ch.Event != store.Insert || ch.New.BroadcastTask == nil {
		return nil
	}
	t, err := c.store.Tenant(ch.Tenant)
	if err != nil {
		return nil
	}
	return c.Send(ctx, t, *ch.New.BroadcastTask)
}

// Send carries out one task: skipped when the group or its connector is gone,
// otherwise claimed, sent once and finished with the delivery's outcome.
func (c *Consumer) Send(ctx context.Context, t *store.Tenant, task store.BroadcastTask) error {
	log := c.log.With("tenant", t.ID(), "broadcast", task.BroadcastID, "group", task.GroupID)
	b, err := t.BroadcastMessage(ctx, task.BroadcastID)
	if problem.Is(err, problem.NotFound) {
		log.WarnContext(ctx, "broadcast: task of an unknown broadcast")
		return nil
	}
	if err != nil {
		return err
	}
	skip := func(reason string) error {
		_, err := t.MoveBroadcastTask(ctx, b.ID, task.GroupID, store.BroadcastPending, store.BroadcastSkipped, reason, "")
		return err
	}
	g, err := t.Group(ctx, task.GroupID)
	switch {
	case problem.Is(err, problem.NotFound):
		return skip(reasonNotFound)
	case err != nil:
		return err
	case g.Status == store.GroupArchived:
		return skip(reasonArchived)
	case g.ConnectorID == "":
		return skip(reasonNoConnector)
	}
	con, err := t.Connector(ctx, g.ConnectorID)
	if problem.Is(err, problem.NotFound) {
		return skip(reasonNoCon)
	}
	if err != nil {
		return err
	}
	claimed, err := t.MoveBroadcastTask(ctx, b.ID, g.ID, store.BroadcastPending, store.BroadcastSending, "", "")
	if err != nil {
		return err
	}
	if !claimed {
		// Delivered again after a claim: finished, or cut off mid-send.
		_, err := t.MoveBroadcastTask(ctx, b.ID, g.ID, store.BroadcastSending, store.DeliveryFailed, ReasonInterrupted, "")
		return err
	}
	d, sendErr := c.send.SendVia(ctx, t, con, "group:"+g.ID, b.ID, connector.Message{Text: b.Text, Markdown: b.Markdown, Title: b.Title})
	status, reason := store.DeliveryDelivered, ""
	if sendErr != nil {
		status, reason = store.DeliveryFailed, d.Error
		if reason == "" {
			reason = "send failed"
		}
	}
	// Record the outcome even when the batch's context has ended: the send happened.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if _, err := t.MoveBroadcastTask(rctx, b.ID, g.ID, store.BroadcastSending, status, reason, d.ID); err != nil {
		return fmt.Errorf("broadcast %s: record group %s: %w", b.ID, g.ID, err)
	}
	log.InfoContext(ctx, "broadcast: sent", "status", status, "delivery", d.ID)
	return nil
}
