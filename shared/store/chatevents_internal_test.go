package store

import (
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/chat/wecom"
)

// TestChatEventTTLOutlivesFreshnessWindow: a callback is accepted while its
// timestamp is within MaxSkew of now, either side, so its dedupe record must
// outlive that whole window (and DynamoDB deletes expired items only lazily, never
// early) or a replay inside the window would be stored twice.
func TestChatEventTTLOutlivesFreshnessWindow(t *testing.T) {
	t.Parallel()
	if window := 2*wecom.MaxSkew + time.Hour; chatEventTTL <= window {
		t.Errorf("chat event TTL %v, want more than the accepted window plus margin %v", chatEventTTL, window)
	}
}
