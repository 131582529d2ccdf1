package moderation

import (
	"strings"
	"testing"
)

// TestWarnTextNeutralisesSenderName: the sender's display name goes out through
// the brand's robot in the warning, so it is cleaned like a welcome's {name}.
func TestWarnTextNeutralisesSenderName(t *testing.T) {
	t.Parallel()
	r := rulesWith(func(r *Rules) { r.Warning = &Warning{Template: "{name}: no links"} })
	got, _ := Decide(r, Normal, Activity{}, Message{Text: "see x.com", SenderName: "\u202Eevil.example.cn\n官方通知"}, t0)
	for _, bad := range []string{"\u202E", "\n", "evil.example"} {
		if strings.Contains(got.WarnText, bad) {
			t.Errorf("WarnText %q keeps %q", got.WarnText, bad)
		}
	}
}
