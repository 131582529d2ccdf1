package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/tribehq/tribe/shared/table"
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
	WelcomeCode   string    `dynamo:"welcome_code,omitempty"`
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
	return t.recordOnce(ctx, t.table.Put(t.chatEventItem(r)))
}

func (t *Tenant) chatEventItem(r ChatEventRecord) chatEventItem {
	pk := t.pk("CHAT", r.IntegrationID, ChatEventKey(r.DedupeKey))
	return chatEventItem{keyed{pk, "EVENT", table.TypeChatEvent, r.ReceivedAt.Add(chatEventTTL).Unix()}, r}
}

// ChatEventKey is a fixed-size key for a chat event's dedupe key, safe inside keys.
func ChatEventKey(dedupe string) string {
	sum := sha256.Sum256([]byte(dedupe))
	return hex.EncodeToString(sum[:12])
}
