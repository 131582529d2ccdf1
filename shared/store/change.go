package store

import (
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/table"
)

// Stream event names: what happened to the item.
const (
	Insert = "INSERT"
	Modify = "MODIFY"
	Remove = "REMOVE"
)

// Change is one stream record in the store's terms: the store owns the item layout
// on the read side too, so consumers never read attributes by name.
type Change struct {
	// Event is Insert, Modify or Remove.
	Event string
	// Tenant is the tenant whose partition the item is in.
	Tenant string
	// Partition is the item's partition key. The stream orders the records of one
	// partition (an order and its refunds), not those of different ones.
	Partition string
	// Type is the item's type, one of the table.Type… constants; "" when neither
	// image names one.
	Type string
	// Old and New are the item before and after the change.
	Old, New Image
}

// Image is one side of a change, decoded. At most one field is set: the one of the
// item's type. All are nil for a side the record lacks (no old image of an insert)
// and for item types no consumer reads.
type Image struct {
	Order     *OrderRecord
	Refund    *RefundRecord
	Customer  *CustomerRecord
	Member    *Member
	ChatEvent *ChatEventRecord
	// BroadcastTask is one group's share of a broadcast.
	BroadcastTask *BroadcastTask
	// JobTask is one tenant's (and shard's) share of a job run.
	JobTask *JobTask
	// Entry, TierChange and Referral are what events out maps (webhookevents.go);
	// WebhookDelivery is one event for one endpoint, which eventsout sends.
	Entry           *Entry
	TierChange      *TierChange
	Referral        *Referral
	WebhookDelivery *EventDelivery
	// CampaignBatch is a slice of a campaign run's audience.
	CampaignBatch *CampaignBatch
	// Membership and Violation: group memberships and moderation violations,
	// for the counters (which count Entry too).
	Membership *Membership
	Violation  *Violation
	// Participation, LotteryWinner and CouponCode are what the campaign events
	// map; CouponCode has a member, ref and issue time once issued.
	Participation *Participation
	LotteryWinner *LotteryWinner
	CouponCode    *IssuedCoupon
}

// ErrNotTenantItem is DecodeChange's error for a record whose key names no tenant.
var ErrNotTenantItem = errors.New("store: stream record of no tenant's item")

// DecodeChange decodes a stream record. It fails with ErrNotTenantItem when the key
// names no tenant, and with a decoding error when an image does not hold the item
// its type says.
func DecodeChange(r events.DynamoDBEventRecord) (Change, error) {
	c := Change{Event: r.EventName}
	for _, img := range []map[string]events.DynamoDBAttributeValue{r.Change.Keys, r.Change.NewImage, r.Change.OldImage} {
		if v, ok := img[table.PK]; ok && v.DataType() == events.DataTypeString {
			c.Partition = v.String()
			break
		}
	}
	tenantID, ok := TenantOfKey(c.Partition)
	if !ok {
		return Change{}, fmt.Errorf("record %s: %w", r.EventID, ErrNotTenantItem)
	}
	c.Tenant = tenantID
	if t, ok := table.ItemType(r.Change.NewImage); ok {
		c.Type = t
	} else if t, ok := table.ItemType(r.Change.OldImage); ok {
		c.Type = t
	}
	var err error
	if c.New, err = decodeImage(c.Type, r.Change.NewImage); err != nil {
		return Change{}, fmt.Errorf("record %s: new %s image: %w", r.EventID, c.Type, err)
	}
	if c.Old, err = decodeImage(c.Type, r.Change.OldImage); err != nil {
		return Change{}, fmt.Errorf("record %s: old %s image: %w", r.EventID, c.Type, err)
	}
	return c, nil
}

func decodeImage(typ string, img map[string]events.DynamoDBAttributeValue) (Image, error) {
	var im Image
	if img == nil {
		return im, nil
	}
	var err error
	switch typ {
	case table.TypeOrder:
		err = decodeAs(img, &im.Order)
	case table.TypeRefund:
		err = decodeAs(img, &im.Refund)
	case table.TypeCustomer:
		err = decodeAs(img, &im.Customer)
	case table.TypeMember:
		err = decodeAs(img, &im.Member)
	case table.TypeChatEvent:
		err = decodeAs(img, &im.ChatEvent)
	case table.TypeBroadcastTask:
		err = decodeAs(img, &im.BroadcastTask)
	case table.TypeJobTask:
		err = decodeAs(img, &im.JobTask)
	case table.TypeLedger:
		err = decodeAs(img, &im.Entry)
	case table.TypeTierChange:
		err = decodeAs(img, &im.TierChange)
	case table.TypeReferral:
		err = decodeAs(img, &im.Referral)
	case table.TypeWebhookDelivery:
		err = decodeAs(img, &im.WebhookDelivery)
	case table.TypeCampaignBatch:
		err = decodeAs(img, &im.CampaignBatch)
	case table.TypeGroupMember:
		err = decodeAs(img, &im.Membership)
	case table.TypeViolation:
		err = decodeAs(img, &im.Violation)
	case table.TypeCampaignParticipation:
		err = decodeAs(img, &im.Participation)
	case table.TypeLotteryWinner:
		err = decodeAs(img, &im.LotteryWinner)
	case table.TypeCouponCode:
		err = decodeAs(img, &im.CouponCode)
	}
	return im, err
}

// decodeAs decodes img into a new T and points dst at it.
func decodeAs[T any](img map[string]events.DynamoDBAttributeValue, dst **T) error {
	item, err := table.Item(img)
	if err != nil {
		return err
	}
	v := new(T)
	if err := dynamo.UnmarshalItem(item, v); err != nil {
		return err
	}
	*dst = v
	return nil
}

// InsertRecord returns the stream record of rec's insert, as the stream carries it
// when the store writes rec (an OrderRecord, RefundRecord, CustomerRecord,
// ChatEventRecord or Member). Tests and benchmarks feed consumers with it.
func (t *Tenant) InsertRecord(eventID, sequence string, rec any) (events.DynamoDBEventRecord, error) {
	return t.ChangeRecord(eventID, sequence, Insert, nil, rec)
}

// ChangeRecord returns the stream record of an insert (old nil), a modify, or a
// removal (rec nil) of old into rec; besides InsertRecord's items it knows ledger
// entries, group memberships, violations, participations and lottery winners.
func (t *Tenant) ChangeRecord(eventID, sequence, event string, old, rec any) (events.DynamoDBEventRecord, error) {
	var oldImg, newImg map[string]types.AttributeValue
	for _, side := range []struct {
		rec any
		img *map[string]types.AttributeValue
	}{{old, &oldImg}, {rec, &newImg}} {
		if side.rec == nil {
			continue
		}
		it, err := t.streamItem(side.rec)
		if err != nil {
			return events.DynamoDBEventRecord{}, err
		}
		if *side.img, err = dynamo.MarshalItem(it); err != nil {
			return events.DynamoDBEventRecord{}, err
		}
	}
	item := newImg
	if item == nil {
		item = oldImg
	}
	keys := map[string]types.AttributeValue{table.PK: item[table.PK], table.SK: item[table.SK]}
	r := events.DynamoDBEventRecord{EventID: eventID, EventName: event, Change: events.DynamoDBStreamRecord{
		Keys: table.StreamImage(keys), SequenceNumber: sequence,
		StreamViewType: string(table.Definition.StreamView),
	}}
	if newImg != nil {
		r.Change.NewImage = table.StreamImage(newImg)
	}
	if oldImg != nil {
		r.Change.OldImage = table.StreamImage(oldImg)
	}
	return r, nil
}

func (t *Tenant) streamItem(rec any) (any, error) {
	switch r := rec.(type) {
	case OrderRecord:
		return t.orderItem(r), nil
	case RefundRecord:
		return t.refundItem(r), nil
	case CustomerRecord:
		return t.customerItem(r), nil
	case ChatEventRecord:
		return t.chatEventItem(r), nil
	case Member:
		return t.memberItem(r), nil
	case BroadcastTask:
		return broadcastTaskItem{keyed{t.broadcastPK(r.BroadcastID), "G#" + r.GroupID, table.TypeBroadcastTask, 0}, r}, nil
	case JobTask:
		return jobTaskItem{keyed{t.jobPK(r.Job, r.Shard), "RUN#" + r.Run, table.TypeJobTask, 0}, r}, nil
	case Entry:
		pk, _ := t.memberKey(r.MemberID)
		return entryItem{keyed{pk, EntryKey(r.EffectiveAt, r.ID), table.TypeLedger, 0}, r}, nil
	case Membership:
		pk, sk := t.membershipKey(r.GroupID, r.MemberID)
		return membershipItem{keyed{pk, sk, table.TypeGroupMember, 0}, r}, nil
	case CampaignBatch:
		pk, sk := t.batchKey(r.Campaign, r.Occurrence, r.Seq)
		return batchItem{keyed{pk, sk, table.TypeCampaignBatch, 0}, r}, nil
	case Participation:
		pk, sk := t.participationKey(r.Member, r.Campaign, r.Occurrence)
		return participationItem{keyed{pk, sk, table.TypeCampaignParticipation, 0}, r}, nil
	case LotteryWinner:
		return t.winnerItem(r), nil
	case Violation:
		pk, _ := t.groupKey(r.GroupID)
		return struct {
			keyed
			Violation
		}{keyed{pk, "V#" + r.At.UTC().Format("2006-01-02T15:04:05.000Z") + "#" + r.EventKey, table.TypeViolation, 0}, r}, nil
	}
	return nil, fmt.Errorf("store: no stream record for %T", rec)
}
