package store

// A group's own join QR image (群二维码), uploaded by an operator: WeChat group QR
// codes last 7 days, so each image carries its expiry, and the daily qrexpiry job
// reminds the operator a day before.
//
// Keys, all under T#<tenant>#:
//
//	G#<group>        QR                            the image (bytes, type, size, expiry)
//	G#<group>        QRREMIND#<version>#<connector>  the expiry reminder sent (TTL)
//	QREXP#<day>      <group>                       the image listed under the UTC day it expires (TTL)
//
// The bytes live in the table, not in a bucket, so `make dev` needs nothing more
// than DynamoDB Local: an image is at most MaxGroupQRBytes (200 KB), well inside
// the 400 KB item limit, and a binary attribute stores it without base64. The
// group item carries the image's version and expiry, so the landing page knows
// from the group it resolved whether a usable image exists without reading it.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// qrAttempts bounds how often an upload that lost a race reads and tries again.
const qrAttempts = 10

// MaxGroupQRBytes bounds an uploaded group QR image.
const MaxGroupQRBytes = 200 << 10

// GroupQRLifetime is how long a WeChat group QR code admits people.
const GroupQRLifetime = 7 * 24 * time.Hour

// GroupQR is a group's uploaded join QR image.
type GroupQR struct {
	GroupID     string    `dynamo:"group_id" json:"group_id"`
	Version     int64     `dynamo:"version" json:"version"`
	ContentType string    `dynamo:"content_type" json:"content_type"`
	Width       int       `dynamo:"width" json:"width"`
	Height      int       `dynamo:"height" json:"height"`
	Bytes       int       `dynamo:"bytes" json:"bytes"`
	ExpiresAt   time.Time `dynamo:"expires_at" json:"expires_at"`
	UploadedAt  time.Time `dynamo:"uploaded_at" json:"uploaded_at"`
	Image       []byte    `dynamo:"image" json:"-"`
}

type groupQRItem struct {
	keyed
	GroupQR
}

// GroupQRExpiry lists a group's image under the day it expires.
type GroupQRExpiry struct {
	GroupID   string    `dynamo:"group_id"`
	Version   int64     `dynamo:"version"`
	ExpiresAt time.Time `dynamo:"expires_at"`
}

type groupQRExpiryItem struct {
	keyed
	GroupQRExpiry
}

func (t *Tenant) groupQRKey(groupID string) (string, string) { return t.pk("G", groupID), "QR" }
func (t *Tenant) groupQRExpiryKey(day, groupID string) (string, string) {
	return t.pk("QREXP", day), groupID
}

// qrDay is the UTC day an image expires, its expiry list's key.
func qrDay(at time.Time) string { return at.UTC().Format(time.DateOnly) }

// PutGroupQR stores a group's new QR image (Image, ContentType, Width, Height and
// ExpiresAt set by the caller) and returns it as stored, with its version: the
// image, the group's copy of its version and expiry, and its place in the expiry
// list change in one transaction, and the previous image's list entry goes. An
// unknown group is problem.NotFound.
func (t *Tenant) PutGroupQR(ctx context.Context, groupID string, q GroupQR) (GroupQR, error) {
	if !ValidGroupID(groupID) {
		return GroupQR{}, problem.New(problem.NotFound, "group not found")
	}
	if len(q.Image) == 0 || len(q.Image) > MaxGroupQRBytes {
		return GroupQR{}, problem.Field("image", "the image is 1 byte to %d bytes", MaxGroupQRBytes)
	}
	for attempt := range qrAttempts {
		if attempt > 0 {
			// Uploads racing for one group take turns: a short random pause.
			select {
			case <-ctx.Done():
				return GroupQR{}, ctx.Err()
			case <-time.After(time.Duration(rand.IntN(20*attempt)+1) * time.Millisecond):
			}
		}
		cur, err := t.Group(ctx, groupID)
		if err != nil {
			return GroupQR{}, err
		}
		q.GroupID, q.Version, q.Bytes, q.UploadedAt = groupID, cur.QRVersion+1, len(q.Image), t.s.Now()
		q.ExpiresAt = q.ExpiresAt.UTC()
		pk, sk := t.groupQRKey(groupID)
		gpk, gsk := t.groupKey(groupID)
		epk, esk := t.groupQRExpiryKey(qrDay(q.ExpiresAt), groupID)
		err = t.runTx(ctx, func(tx *dynamo.WriteTx) {
			tx.Put(t.table.Put(groupQRItem{keyed{pk, sk, table.TypeGroupQR, 0}, q}))
			u := t.table.Update("PK", gpk).Range("SK", gsk).Set("qr_version", q.Version).Set("qr_expires_at", q.ExpiresAt)
			if cur.QRVersion == 0 {
				u = u.If("attribute_exists(PK) AND attribute_not_exists('qr_version')")
			} else {
				u = u.If("attribute_exists(PK) AND 'qr_version' = ?", cur.QRVersion)
			}
			tx.Update(u)
			// The list entry lives a week past the expiry, for a late run to see.
			ttl := q.ExpiresAt.Add(GroupQRLifetime).Unix()
			tx.Put(t.table.Put(groupQRExpiryItem{keyed{epk, esk, table.TypeGroupQRExpiry, ttl},
				GroupQRExpiry{GroupID: groupID, Version: q.Version, ExpiresAt: q.ExpiresAt}}))
			if cur.QRExpiresAt != nil && qrDay(*cur.QRExpiresAt) != qrDay(q.ExpiresAt) {
				opk, osk := t.groupQRExpiryKey(qrDay(*cur.QRExpiresAt), groupID)
				tx.Delete(t.table.Delete("PK", opk).Range("SK", osk))
			}
		})
		if condFailedAt(err, 1) {
			continue // another upload, or the group went: read again
		}
		if err != nil {
			return GroupQR{}, translate(err, "group qr")
		}
		return q, nil
	}
	return GroupQR{}, problem.New(problem.Conflict, "the group's QR image changed meanwhile; retry")
}

// GroupQR returns a group's uploaded QR image; problem.NotFound when it has none.
func (t *Tenant) GroupQR(ctx context.Context, groupID string, consistent bool) (GroupQR, error) {
	if !ValidGroupID(groupID) {
		return GroupQR{}, problem.New(problem.NotFound, "group not found")
	}
	pk, sk := t.groupQRKey(groupID)
	var it groupQRItem
	err := t.getItem(ctx, pk, sk, consistent, &it, "group QR image")
	return it.GroupQR, err
}

// GroupQRsExpiring lists the group images expiring on day (YYYY-MM-DD, UTC).
func (t *Tenant) GroupQRsExpiring(ctx context.Context, day string) ([]GroupQRExpiry, error) {
	if !validDay(day) {
		return nil, problem.Field("day", "day must be YYYY-MM-DD")
	}
	pk, _ := t.groupQRExpiryKey(day, "")
	var items []groupQRExpiryItem
	if err := t.table.Get("PK", pk).ConsumedCapacity(rcc(ctx)).All(ctx, &items); err != nil {
		return nil, translate(err, "group QR expiry list")
	}
	out := make([]GroupQRExpiry, len(items))
	for i, it := range items {
		out[i] = it.GroupQRExpiry
	}
	return out, nil
}

func qrReminderSK(version int64, connectorID string) string {
	return fmt.Sprintf("QRREMIND#%d#%s", version, connectorID)
}

// ClaimQRReminder marks the expiry reminder of a group's image version through a
// connector as sent, unless it is already: it reports whether this call claimed
// it. The mark lives until a week after expires.
func (t *Tenant) ClaimQRReminder(ctx context.Context, groupID string, version int64, connectorID string, expires time.Time) (bool, error) {
	pk, _ := t.groupKey(groupID)
	err := t.table.Put(keyed{pk, qrReminderSK(version, connectorID), table.TypeQRReminder, expires.Add(GroupQRLifetime).Unix()}).
		If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return false, nil
	}
	return err == nil, translate(err, "QR reminder")
}

// ReleaseQRReminder takes back a claim whose reminder could not be sent, so a
// retried run sends it.
func (t *Tenant) ReleaseQRReminder(ctx context.Context, groupID string, version int64, connectorID string) error {
	pk, _ := t.groupKey(groupID)
	err := t.table.Delete("PK", pk).Range("SK", qrReminderSK(version, connectorID)).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "QR reminder")
}
