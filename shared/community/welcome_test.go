package community

import (
	"strings"
	"testing"
)

// TestWelcomeNeutralisesNames: a chat display name reaches the group through the
// brand's robot, so {name} carries no control or bidi characters, no link a
// robot would make clickable, and no more than a display name's length.
func TestWelcomeNeutralisesNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, raw string }{
		{"bidi override", "Ana\u202Emoc.live\u202C"},
		{"url", "win a prize at https://evil.example.cn/x"},
		{"bare domain", "加我 evil.example.cn"},
		{"control and newline", "Ana\n\n@all 官方通知：\x07"},
		{"zero width", "A\u200Bn\u200Da\uFEFF"},
		{"long", strings.Repeat("长", 500)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Welcome("欢迎 {name} 加入{group}", tc.raw, "上海咖啡品专1群", "", "")
			name := strings.TrimSuffix(strings.TrimPrefix(got, "欢迎 "), " 加入上海咖啡品专1群")
			for _, bad := range []string{"\u202E", "\u202C", "\u200B", "\u200D", "\uFEFF", "\n", "\x07", "https://", "evil.example"} {
				if strings.Contains(name, bad) {
					t.Errorf("welcome %q keeps %q", got, bad)
				}
			}
			if n := len([]rune(name)); n > 32 {
				t.Errorf("name is %d characters: %q", n, name)
			}
		})
	}
	if got := Welcome("欢迎 {name}", "\u202E\u200B", "", "", ""); got != "欢迎 新朋友" {
		t.Errorf("a name of nothing but format characters: %q", got)
	}
}
