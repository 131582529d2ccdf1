package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// ChatEventRecord is one chat event as stored by the chat webhooks: the stream
// hands it to the community consumer.
type ChatEventRecord struct {
	IntegrationID string    `dynamo:"integration_id"`
	Platform      string    `dynamo:"platform"`
	Kind          string    `dynamo:"kind"`
	ChatID        string    `dynamo:"chat_id,omitempty"`
	UserID        string    `dynamo:"user_id"`
	UserName      string    `dynamo:"user_name,omitempty"`
	Text          string    `dynamo:"text,omitempty"`
	State         string    `dynamo:"state,omitempty"`
	At            time.Time `dynamo:"at"`
	DedupeKey     string    `dynamo:"dedupe_key"`
	ReceivedAt    time.Time `dynamo:"received_at"`
}

type chatEventItem struct {
	keyed
	ChatEventRecord
}

// chatEventTTL keeps events long enough to dedupe any platform retry.
const chatEventTTL = 7 * 24 * time.Hour

// RecordChatEvent stores a chat event once per dedupe key and integration: a
// platform's retry writes nothing and returns false. Each event has its own
// partition, so a busy group never makes one hot.
func (t *Tenant) RecordChatEvent(ctx context.Context, r ChatEventRecord) (bool, error) {
	pk := t.pk("CHAT", r.IntegrationID, ChatEventKey(r.DedupeKey))
	it := chatEventItem{keyed{pk, "EVENT", "chat_event", r.ReceivedAt.Add(chatEventTTL).Unix()}, r}
	return t.recordOnce(ctx, t.s.table.Put(it))
}

// ChatEventKey is a fixed-size key for a chat event's dedupe key, safe inside keys.
func ChatEventKey(dedupe string) string {
	sum := sha256.Sum256([]byte(dedupe))
	return hex.EncodeToString(sum[:12])
}
