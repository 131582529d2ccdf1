package moderation

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// rulesWith returns Default() changed by f.
func rulesWith(f func(r *Rules)) Rules {
	r := Default()
	if f != nil {
		f(&r)
	}
	return r
}

// only returns rules with nothing but the given rules enabled, taken from Default.
func only(names ...RuleName) Rules {
	d := Default()
	r := Rules{Removal: d.Removal, Warning: d.Warning}
	for _, n := range names {
		switch n {
		case RuleLinks:
			r.Links = d.Links
		case RuleQRCodes:
			r.QRCodes = d.QRCodes
		case RuleKeywords:
			r.Keywords = d.Keywords
		case RuleFlood:
			r.Flood = d.Flood
		case RuleRepeat:
			r.Repeat = d.Repeat
		}
	}
	return r
}

func TestDecideContentRules(t *testing.T) {
	t.Parallel()
	allowExample := rulesWith(func(r *Rules) { r.Links.AllowDomains = []string{"example.com", "*.Tribe.IO"} })
	weixin := rulesWith(func(r *Rules) { r.Keywords.Words = []string{"weixin", "vx"} })
	tests := []struct {
		name        string
		rules       Rules
		role        Role
		msg         Message
		wantMatched []RuleName
		wantActions []Action
		wantPoints  int
		wantRemove  bool
		wantKeyword string
		wantHost    string
	}{
		{name: "clean text", rules: Default(), msg: Message{Text: "大家早上好，今天的活动几点开始呀？"}},
		{name: "empty text", rules: Default(), msg: Message{}},
		{name: "https link", rules: Default(), msg: Message{Text: "看看 https://shop.example.net/p?id=1 很划算"},
			wantMatched: []RuleName{RuleLinks}, wantActions: []Action{Warn, Record}, wantHost: "shop.example.net"},
		{name: "bare short link", rules: Default(), msg: Message{Text: "戳t.cn/A6x7Yz领券"},
			wantMatched: []RuleName{RuleLinks}, wantActions: []Action{Warn, Record}, wantHost: "t.cn"},
		{name: "www without known tld", rules: Default(), msg: Message{Text: "www.spam.zz"},
			wantMatched: []RuleName{RuleLinks}, wantActions: []Action{Warn, Record}, wantHost: "www.spam.zz"},
		{name: "full-width link", rules: Default(), msg: Message{Text: "ｗｗｗ．ＳＰＡＭ．ｃｏｍ"},
			wantMatched: []RuleName{RuleLinks}, wantActions: []Action{Warn, Record}, wantHost: "www.spam.com"},
		{name: "ideographic full stop as dot", rules: Default(), msg: Message{Text: "搜baidu。com"},
			wantMatched: []RuleName{RuleLinks}, wantActions: []Action{Warn, Record}, wantHost: "baidu.com"},
		{name: "scheme with ip", rules: Default(), msg: Message{Text: "http://10.0.0.1:8080/x"},
			wantMatched: []RuleName{RuleLinks}, wantActions: []Action{Warn, Record}, wantHost: "10.0.0.1"},
		{name: "email host", rules: Default(), msg: Message{Text: "简历发 hr@corp.cn"},
			wantMatched: []RuleName{RuleLinks}, wantActions: []Action{Warn, Record}, wantHost: "corp.cn"},
		{name: "decimal and version are not links", rules: Default(), msg: Message{Text: "价格3.5元，版本v1.2.3，e.g. 这样"}},
		{name: "file name is not a link", rules: Default(), msg: Message{Text: "看 readme.md 和 main.py"}},
		{name: "sentence end is not a link", rules: Default(), msg: Message{Text: "你好。com是什么"}},
		{name: "allow-listed domain", rules: allowExample, msg: Message{Text: "活动详情 https://www.example.com/a/b.cn"}},
		{name: "allow-listed wildcard any case", rules: allowExample, msg: Message{Text: "app.tribe.io/join"}},
		{name: "allow-listed apex itself", rules: allowExample, msg: Message{Text: "EXAMPLE.COM"}},
		{name: "look-alike of allowed domain", rules: allowExample, msg: Message{Text: "https://badexample.com"},
			wantMatched: []RuleName{RuleLinks}, wantActions: []Action{Warn, Record}, wantHost: "badexample.com"},
		{name: "allowed then disallowed", rules: allowExample, msg: Message{Text: "example.com 和 evil.cn"},
			wantMatched: []RuleName{RuleLinks}, wantActions: []Action{Warn, Record}, wantHost: "evil.cn"},
		{name: "link card allowed", rules: allowExample, msg: Message{Kind: LinkCard, Text: "新品上市", URL: "https://m.example.com/p/1"}},
		{name: "link card disallowed", rules: allowExample, msg: Message{Kind: LinkCard, Text: "新品上市", URL: "https://shop.other.cn/p/1"},
			wantMatched: []RuleName{RuleLinks}, wantActions: []Action{Warn, Record}, wantHost: "shop.other.cn"},
		{name: "link card without url", rules: allowExample, msg: Message{Kind: LinkCard, Text: "新品上市"},
			wantMatched: []RuleName{RuleLinks}, wantActions: []Action{Warn, Record}},
		{name: "qr code image", rules: Default(), msg: Message{Kind: QRCode},
			wantMatched: []RuleName{RuleQRCodes}, wantActions: []Action{Warn, Record}},
		{name: "mini-program card", rules: Default(), msg: Message{Kind: MiniProgram, Text: "拼团小程序"},
			wantMatched: []RuleName{RuleQRCodes}, wantActions: []Action{Warn, Record}},
		{name: "plain image", rules: Default(), msg: Message{Kind: Image}},
		{name: "wechat qr link is link and qr", rules: Default(), msg: Message{Text: "weixin.qq.com/r/abcDEF"},
			wantMatched: []RuleName{RuleLinks, RuleQRCodes}, wantActions: []Action{Warn, Record}, wantHost: "weixin.qq.com"},
		{name: "qr link allow-listed as link still qr", rules: rulesWith(func(r *Rules) { r.Links.AllowDomains = []string{"qq.com"} }),
			msg: Message{Text: "https://weixin.qq.com/g/xyz"}, wantMatched: []RuleName{RuleQRCodes}, wantActions: []Action{Warn, Record}},
		{name: "scan prompt spaced out", rules: Default(), msg: Message{Text: "长 按 识 别 二 维 码 进群"},
			wantMatched: []RuleName{RuleQRCodes}, wantActions: []Action{Warn, Record}},
		{name: "scan prompt", rules: Default(), msg: Message{Text: "扫码领红包"},
			wantMatched: []RuleName{RuleQRCodes}, wantActions: []Action{Warn, Record}},
		{name: "ad keyword", rules: Default(), msg: Message{Text: "需要的朋友加微信详聊"},
			wantMatched: []RuleName{RuleKeywords}, wantActions: []Action{Warn, Record, DeductPoints}, wantPoints: 10, wantKeyword: "加微信"},
		{name: "keyword spaced out", rules: Default(), msg: Message{Text: "加 微 信 123456"},
			wantMatched: []RuleName{RuleKeywords}, wantActions: []Action{Warn, Record, DeductPoints}, wantPoints: 10, wantKeyword: "加微信"},
		{name: "keyword with punctuation and emoji", rules: Default(), msg: Message{Text: "加.微🙂信"},
			wantMatched: []RuleName{RuleKeywords}, wantActions: []Action{Warn, Record, DeductPoints}, wantPoints: 10, wantKeyword: "加微信"},
		{name: "keyword with zero-width spaces", rules: Default(), msg: Message{Text: "兼\u200b职\u3000日结"},
			wantMatched: []RuleName{RuleKeywords}, wantActions: []Action{Warn, Record, DeductPoints}, wantPoints: 10, wantKeyword: "兼职"},
		{name: "keyword latin after cjk", rules: Default(), msg: Message{Text: "有意者加V"},
			wantMatched: []RuleName{RuleKeywords}, wantActions: []Action{Warn, Record, DeductPoints}, wantPoints: 10, wantKeyword: "加v"},
		{name: "latin keyword inside a latin word", rules: Default(), msg: Message{Text: "参加VIP活动"}},
		{name: "full-width latin keyword", rules: weixin, msg: Message{Text: "ｗｅｉｘｉｎ：abc"},
			wantMatched: []RuleName{RuleKeywords}, wantActions: []Action{Warn, Record, DeductPoints}, wantPoints: 10, wantKeyword: "weixin"},
		{name: "latin keyword any case spaced", rules: weixin, msg: Message{Text: "my W e i X i n 123"},
			wantMatched: []RuleName{RuleKeywords}, wantActions: []Action{Warn, Record, DeductPoints}, wantPoints: 10, wantKeyword: "weixin"},
		{name: "latin keyword followed by digits", rules: weixin, msg: Message{Text: "vx123456"},
			wantMatched: []RuleName{RuleKeywords}, wantActions: []Action{Warn, Record, DeductPoints}, wantPoints: 10, wantKeyword: "vx"},
		{name: "latin keyword not inside a word", rules: weixin, msg: Message{Text: "devx is a tool"}},
		{name: "latin keyword straddling a word", rules: weixin, msg: Message{Text: "dev x"}},
		{name: "latin keyword spaced out", rules: weixin, msg: Message{Text: "加我 v x"},
			wantMatched: []RuleName{RuleKeywords}, wantActions: []Action{Warn, Record, DeductPoints}, wantPoints: 10, wantKeyword: "vx"},
		{name: "several rules one message", rules: Default(), msg: Message{Text: "代购 www.buy.com 扫码"},
			wantMatched: []RuleName{RuleLinks, RuleQRCodes, RuleKeywords}, wantActions: []Action{Warn, Record, DeductPoints},
			wantPoints: 10, wantKeyword: "代购", wantHost: "www.buy.com"},
		{name: "points add up", rules: rulesWith(func(r *Rules) {
			r.Links.Actions, r.Links.Points = []Action{DeductPoints}, 5
		}), msg: Message{Text: "代购 buy.com"},
			wantMatched: []RuleName{RuleLinks, RuleKeywords}, wantActions: []Action{Warn, Record, DeductPoints}, wantPoints: 15,
			wantKeyword: "代购", wantHost: "buy.com"},
		{name: "remove action", rules: rulesWith(func(r *Rules) { r.QRCodes.Actions = []Action{Remove} }), msg: Message{Kind: QRCode},
			wantMatched: []RuleName{RuleQRCodes}, wantActions: []Action{Remove}, wantRemove: true},
		{name: "observe mode", rules: rulesWith(func(r *Rules) { r.Keywords.Actions, r.Keywords.Points = nil, 0 }), msg: Message{Text: "刷单"},
			wantMatched: []RuleName{RuleKeywords}, wantKeyword: "刷单"},
		{name: "disabled rule", rules: rulesWith(func(r *Rules) { r.Links.Enabled = false }), msg: Message{Text: "https://x.com"}},
		{name: "nil rules", rules: Rules{}, msg: Message{Kind: QRCode, Text: "加微信 https://x.com"}},
		{name: "owner exempt", rules: Default(), role: Owner, msg: Message{Kind: QRCode, Text: "加微信 https://x.com"}},
		{name: "admin exempt", rules: Default(), role: Admin, msg: Message{Text: "加微信 https://x.com"}},
		{name: "kol exempt", rules: Default(), role: KOL, msg: Message{Text: "代购 https://x.com"}},
		{name: "head user not exempt", rules: Default(), role: Head, msg: Message{Text: "代购"},
			wantMatched: []RuleName{RuleKeywords}, wantActions: []Action{Warn, Record, DeductPoints}, wantPoints: 10, wantKeyword: "代购"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			role := tt.role
			if role == "" {
				role = Normal
			}
			got, next := Decide(tt.rules, role, Activity{}, tt.msg, t0)
			if !slices.Equal(got.Matched, tt.wantMatched) {
				t.Errorf("Matched = %v, want %v", got.Matched, tt.wantMatched)
			}
			if !slices.Equal(got.Actions, tt.wantActions) {
				t.Errorf("Actions = %v, want %v", got.Actions, tt.wantActions)
			}
			if got.Points != tt.wantPoints || got.Remove != tt.wantRemove {
				t.Errorf("Points, Remove = %d, %v, want %d, %v", got.Points, got.Remove, tt.wantPoints, tt.wantRemove)
			}
			if got.Keyword != tt.wantKeyword || got.Host != tt.wantHost {
				t.Errorf("Keyword, Host = %q, %q, want %q, %q", got.Keyword, got.Host, tt.wantKeyword, tt.wantHost)
			}
			if got.Exempt != role.Exempt() {
				t.Errorf("Exempt = %v, want %v", got.Exempt, role.Exempt())
			}
			wantViolations := 0
			if slices.Contains(tt.wantActions, Record) {
				wantViolations = 1
			}
			if got.Violations != wantViolations || len(next.Violations) != wantViolations {
				t.Errorf("Violations = %d (%d stored), want %d", got.Violations, len(next.Violations), wantViolations)
			}
			if slices.Contains(got.Actions, Warn) != (got.WarnText != "") {
				t.Errorf("WarnText %q with Actions %v", got.WarnText, got.Actions)
			}
			if next.Version != 1 || next.LastActiveAt != t0.UnixMilli() {
				t.Errorf("next Version, LastActiveAt = %d, %d, want 1, %d", next.Version, next.LastActiveAt, t0.UnixMilli())
			}
		})
	}
}

// step is one message of a member in a sequence, at offset after t0.
type step struct {
	at   time.Duration
	role Role
	msg  Message
}

// run decides the steps in order, threading the activity, and returns every
// decision and the last activity.
func run(tb testing.TB, r Rules, a Activity, steps []step) ([]Decision, Activity) {
	tb.Helper()
	var ds []Decision
	for _, s := range steps {
		role := s.role
		if role == "" {
			role = Normal
		}
		var d Decision
		d, a = Decide(r, role, a, s.msg, t0.Add(s.at))
		ds = append(ds, d)
	}
	return ds, a
}

func texts(at func(i int) time.Duration, msgs ...string) []step {
	steps := make([]step, len(msgs))
	for i, m := range msgs {
		steps[i] = step{at: at(i), msg: Message{Text: m}}
	}
	return steps
}

func every(d time.Duration) func(int) time.Duration {
	return func(i int) time.Duration { return time.Duration(i) * d }
}

// flagged lists the indexes of the decisions that matched rule.
func flagged(ds []Decision, rule RuleName) []int {
	var out []int
	for i, d := range ds {
		if slices.Contains(d.Matched, rule) {
			out = append(out, i)
		}
	}
	return out
}

func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "第" + strings.Repeat("好", i+1)
	}
	return out
}

func TestDecideFlood(t *testing.T) {
	t.Parallel()
	r := only(RuleFlood) // more than 5 in 10 s
	tests := []struct {
		name  string
		steps []step
		want  []int
	}{
		{name: "five in a second are fine", steps: texts(every(200*time.Millisecond), numbered(5)...)},
		{name: "sixth and later in the window", steps: texts(every(time.Second), numbered(8)...), want: []int{5, 6, 7}},
		{name: "same instant", steps: texts(every(0), numbered(7)...), want: []int{5, 6}},
		{name: "steady pace below the limit", steps: texts(every(2500*time.Millisecond), numbered(20)...)},
		{name: "window boundary prunes", steps: []step{
			{at: 0, msg: Message{Text: "1"}}, {at: 0, msg: Message{Text: "2"}}, {at: 0, msg: Message{Text: "3"}},
			{at: 0, msg: Message{Text: "4"}}, {at: 0, msg: Message{Text: "5"}},
			{at: 10 * time.Second, msg: Message{Text: "6"}}, // the first five are exactly 10 s old: outside
		}},
		{name: "just inside the window", steps: []step{
			{at: 0, msg: Message{Text: "1"}}, {at: 0, msg: Message{Text: "2"}}, {at: 0, msg: Message{Text: "3"}},
			{at: 0, msg: Message{Text: "4"}}, {at: 0, msg: Message{Text: "5"}},
			{at: 10*time.Second - time.Millisecond, msg: Message{Text: "6"}},
		}, want: []int{5}},
		{name: "images count", steps: []step{
			{at: 0, msg: Message{Kind: Image}}, {at: 1, msg: Message{Kind: Image}}, {at: 2, msg: Message{Kind: Image}},
			{at: 3, msg: Message{Kind: Image}}, {at: 4, msg: Message{Kind: Image}}, {at: 5, msg: Message{Kind: Image}},
		}, want: []int{5}},
		{name: "out of order arrival counts", steps: []step{
			{at: 5 * time.Second}, {at: 4 * time.Second}, {at: 3 * time.Second}, {at: 2 * time.Second}, {at: time.Second}, {at: 0},
		}, want: []int{5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ds, a := run(t, r, Activity{}, tt.steps)
			if got := flagged(ds, RuleFlood); !slices.Equal(got, tt.want) {
				t.Errorf("flooding at %v, want %v", got, tt.want)
			}
			if len(a.Times) > r.Flood.MaxMessages || !slices.IsSorted(a.Times) {
				t.Errorf("Times = %v, want at most %d, sorted", a.Times, r.Flood.MaxMessages)
			}
			last := t0.Add(tt.steps[len(tt.steps)-1].at).UnixMilli()
			for _, at := range a.Times {
				if at <= last-10_000 {
					t.Errorf("Times holds %d, outside the window ending %d", at, last)
				}
			}
			for _, d := range ds {
				if slices.Contains(d.Matched, RuleFlood) && !slices.Equal(d.Actions, []Action{Warn}) && !d.WarnSuppressed {
					t.Errorf("flood actions = %v, want [warn] or a suppressed warning", d.Actions)
				}
			}
		})
	}
}

func TestDecideRepeat(t *testing.T) {
	t.Parallel()
	r := only(RuleRepeat) // more than 3 identical in 60 s
	tests := []struct {
		name  string
		steps []step
		want  []int
	}{
		{name: "three identical are fine", steps: texts(every(time.Second), "收到", "收到", "收到")},
		{name: "fourth identical", steps: texts(every(time.Second), "收到", "收到", "收到", "收到", "收到"), want: []int{3, 4}},
		{name: "normalised text is identical", steps: texts(every(time.Second), "Hello World", "hello world", "ＨＥＬＬＯ　ＷＯＲＬＤ", "hello\u200bworld"),
			want: []int{3}},
		{name: "punctuation makes texts differ", steps: texts(every(time.Second), "好", "好!", "好!!", "好!!!")},
		{name: "interleaved with other texts", steps: texts(every(time.Second), "a", "b", "a", "c", "a", "d", "a"), want: []int{6}},
		{name: "outside the window", steps: texts(every(30*time.Second), "收到", "收到", "收到", "收到", "收到")},
		{name: "messages without text are not counted", steps: []step{
			{msg: Message{Kind: Image}}, {msg: Message{Kind: Image}}, {msg: Message{Kind: Image}}, {msg: Message{Kind: Image}}, {msg: Message{Text: "  "}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ds, a := run(t, r, Activity{}, tt.steps)
			if got := flagged(ds, RuleRepeat); !slices.Equal(got, tt.want) {
				t.Errorf("repeats at %v, want %v", got, tt.want)
			}
			if len(a.Texts) > MaxTexts {
				t.Errorf("len(Texts) = %d, want at most %d", len(a.Texts), MaxTexts)
			}
		})
	}
}

func TestDecideRemoval(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	ad := Message{Text: "代购", SenderName: "小王"}
	link := Message{Text: "x.com", SenderName: "小王"}
	tests := []struct {
		name           string
		rules          Rules
		steps          []step
		wantRemove     []int
		wantViolations int
	}{
		{name: "third violation within 7 days", rules: Default(),
			steps: []step{{at: 0, msg: ad}, {at: day, msg: link}, {at: 2 * day, msg: ad}}, wantRemove: []int{2}, wantViolations: 3},
		{name: "first violation pruned after 7 days", rules: Default(),
			steps: []step{{at: 0, msg: ad}, {at: day, msg: ad}, {at: 7 * day, msg: ad}}, wantViolations: 2},
		{name: "just inside 7 days", rules: Default(),
			steps: []step{{at: 0, msg: ad}, {at: day, msg: ad}, {at: 7*day - time.Millisecond, msg: ad}}, wantRemove: []int{2}, wantViolations: 3},
		{name: "clean messages do not remove", rules: Default(),
			steps: []step{{at: 0, msg: ad}, {at: day, msg: ad}, {at: 2 * day, msg: Message{Text: "谢谢"}}}, wantViolations: 2},
		{name: "warn-only rules do not count", rules: Default(),
			steps: texts(every(0), numbered(9)...), wantViolations: 0},
		{name: "one violation per message", rules: Default(),
			steps: []step{{at: 0, msg: Message{Text: "代购 x.com 扫码"}}, {at: time.Minute, msg: ad}}, wantViolations: 2},
		{name: "removal off", rules: rulesWith(func(r *Rules) { r.Removal.Enabled = false }),
			steps: []step{{at: 0, msg: ad}, {at: time.Hour, msg: ad}, {at: 2 * time.Hour, msg: ad}, {at: 3 * time.Hour, msg: ad}}, wantViolations: 4},
		{name: "exempt never removed", rules: Default(),
			steps: []step{{at: 0, role: Admin, msg: ad}, {at: day, role: Admin, msg: ad}, {at: 2 * day, role: Admin, msg: ad}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ds, a := run(t, tt.rules, Activity{}, tt.steps)
			var removed []int
			for i, d := range ds {
				if d.Remove {
					removed = append(removed, i)
					if !slices.Contains(d.Actions, Remove) {
						t.Errorf("decision %d removes without remove in %v", i, d.Actions)
					}
					if want := "小王 多次违反群规（禁止发广告），已被移出本群。"; d.WarnText != want {
						t.Errorf("WarnText = %q, want %q", d.WarnText, want)
					}
				}
			}
			if !slices.Equal(removed, tt.wantRemove) {
				t.Errorf("removed at %v, want %v", removed, tt.wantRemove)
			}
			if got := ds[len(ds)-1].Violations; got != tt.wantViolations || len(a.Violations) != got {
				t.Errorf("Violations = %d (%d stored), want %d", got, len(a.Violations), tt.wantViolations)
			}
		})
	}
}

func TestDecideWarning(t *testing.T) {
	t.Parallel()
	ad := Message{Text: "代购 x.com", SenderName: "小王"}
	ds, _ := run(t, rulesWith(func(r *Rules) { r.Removal.Enabled = false }), Activity{}, []step{
		{at: 0, msg: ad}, {at: 30 * time.Second, msg: ad}, {at: 60 * time.Second, msg: ad},
	})
	tests := []struct {
		name           string
		got            Decision
		wantText       string
		wantActions    []Action
		wantSuppressed bool
	}{
		{name: "first warning", got: ds[0], wantText: "@小王 请遵守群规：禁止发链接、禁止发广告。",
			wantActions: []Action{Warn, Record, DeductPoints}},
		{name: "in the cooldown", got: ds[1], wantActions: []Action{Record, DeductPoints}, wantSuppressed: true},
		{name: "after the cooldown", got: ds[2], wantText: "@小王 请遵守群规：禁止发链接、禁止发广告。",
			wantActions: []Action{Warn, Record, DeductPoints}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got.WarnText != tt.wantText || tt.got.WarnSuppressed != tt.wantSuppressed {
				t.Errorf("WarnText, WarnSuppressed = %q, %v, want %q, %v", tt.got.WarnText, tt.got.WarnSuppressed, tt.wantText, tt.wantSuppressed)
			}
			if !slices.Equal(tt.got.Actions, tt.wantActions) {
				t.Errorf("Actions = %v, want %v", tt.got.Actions, tt.wantActions)
			}
		})
	}

	t.Run("custom template and labels", func(t *testing.T) {
		t.Parallel()
		r := rulesWith(func(r *Rules) {
			r.Warning = &Warning{Template: "{name}: please follow the rules ({rule}); violations: {count}"}
			r.Links.Label = "no links"
		})
		got, _ := Decide(r, Normal, Activity{}, Message{Text: "see x.com", SenderName: "Ana"}, t0)
		if want := "Ana: please follow the rules (no links); violations: 1"; got.WarnText != want {
			t.Errorf("WarnText = %q, want %q", got.WarnText, want)
		}
	})
}

func TestDecideExemptUpdatesActivity(t *testing.T) {
	t.Parallel()
	steps := texts(every(0), "收到", "收到", "收到", "收到", "收到", "收到")
	for i := range steps {
		steps[i].role = Admin
	}
	ds, a := run(t, Default(), Activity{}, steps)
	for i, d := range ds {
		if !d.Exempt || d.Matched != nil || d.Actions != nil || d.WarnText != "" {
			t.Errorf("decision %d = %+v, want exempt and nothing else", i, d)
		}
	}
	if len(a.Times) != 5 || len(a.Texts) != 6 || a.Version != 6 || a.LastActiveAt != t0.UnixMilli() {
		t.Errorf("activity = %+v, want 5 times, 6 texts, version 6, last active %d", a, t0.UnixMilli())
	}
	// The member loses the role: the activity recorded while exempt counts.
	d, _ := Decide(Default(), Normal, a, Message{Text: "收到"}, t0)
	if want := []RuleName{RuleFlood, RuleRepeat}; !slices.Equal(d.Matched, want) {
		t.Errorf("after losing the role Matched = %v, want %v", d.Matched, want)
	}
}

func TestDecideDeterministicAndPure(t *testing.T) {
	t.Parallel()
	steps := []step{
		{at: 0, msg: Message{Text: "大家好"}},
		{at: time.Second, msg: Message{Text: "加 微 信 www.x.com", SenderName: "A"}},
		{at: 2 * time.Second, msg: Message{Kind: QRCode}},
		{at: 2 * time.Second, msg: Message{Text: "大家好"}},
		{at: 3 * time.Second, msg: Message{Text: "大家好"}},
		{at: 3 * time.Second, msg: Message{Text: "大家好"}},
		{at: 3 * time.Second, role: KOL, msg: Message{Text: "代购"}},
	}
	ds1, a1 := run(t, Default(), Activity{}, steps)
	ds2, a2 := run(t, Default(), Activity{}, steps)
	if !reflect.DeepEqual(ds1, ds2) || !reflect.DeepEqual(a1, a2) {
		t.Fatalf("two runs differ:\n%+v %+v\n%+v %+v", ds1, a1, ds2, a2)
	}

	// Same instant in another location and with a monotonic reading.
	now := time.Now()
	in := Activity{Times: []int64{now.UnixMilli()}}
	d1, n1 := Decide(Default(), Normal, in, Message{Text: "x"}, now)
	d2, n2 := Decide(Default(), Normal, in, Message{Text: "x"}, now.Round(0).In(time.FixedZone("CST", 8*3600)))
	if !reflect.DeepEqual(d1, d2) || !reflect.DeepEqual(n1, n2) {
		t.Errorf("the same instant gave different results")
	}

	// Decide must not write into the activity it is given, even when its
	// slices have room to grow.
	times := make([]int64, 2, 10)
	times[0], times[1] = t0.UnixMilli(), t0.UnixMilli()
	seen := make([]TextSeen, 1, 10)
	seen[0] = TextSeen{Hash: 1, At: t0.UnixMilli()}
	given := Activity{Times: times, Texts: seen, Violations: []Violation{{Rule: RuleLinks, At: t0.UnixMilli()}}, Version: 7}
	before, _ := json.Marshal(given)
	_, next := Decide(Default(), Normal, given, Message{Text: "代购"}, t0.Add(time.Second))
	after, _ := json.Marshal(given)
	if string(before) != string(after) || times[:3][2] != 0 || seen[:2][1] != (TextSeen{}) {
		t.Errorf("Decide modified its input: %s → %s", before, after)
	}
	if next.Version != 8 {
		t.Errorf("next.Version = %d, want 8", next.Version)
	}
}

// TestActivityBounded drives the activity to its largest: every limit at its
// maximum, every message breaking a recording rule.
func TestActivityBounded(t *testing.T) {
	t.Parallel()
	r := Rules{
		Links:   &LinkRule{Enabled: true, Actions: []Action{Record}},
		QRCodes: &QRCodeRule{Enabled: true, Actions: []Action{Record}},
		Flood:   &FloodRule{Enabled: true, MaxMessages: MaxTimes, WindowSeconds: maxWindowSeconds},
		Repeat:  &RepeatRule{Enabled: true, MaxRepeats: maxRepeats, WindowSeconds: maxWindowSeconds},
		Removal: &Removal{Enabled: true, AfterViolations: MaxViolations, WindowDays: maxWindowDays},
		Warning: &Warning{CooldownSeconds: 86400},
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	var a Activity
	now := time.Date(2286, 11, 20, 0, 0, 0, 0, time.UTC) // 14-digit millisecond times
	for i := range 500 {
		_, a = Decide(r, Normal, a, Message{Kind: QRCode, Text: strings.Repeat("x", i)}, now.Add(time.Duration(i)*time.Millisecond))
	}
	a.Version = 1 << 62
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Times) != MaxTimes || len(a.Texts) != MaxTexts || len(a.Violations) != MaxViolations {
		t.Errorf("sizes = %d, %d, %d, want %d, %d, %d", len(a.Times), len(a.Texts), len(a.Violations), MaxTimes, MaxTexts, MaxViolations)
	}
	if len(b) > MaxActivityBytes {
		t.Errorf("activity JSON is %d bytes, want at most %d", len(b), MaxActivityBytes)
	}
	t.Logf("largest activity: %d bytes of JSON", len(b))
}

func TestRoleExempt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role Role
		want bool
	}{{Owner, true}, {Admin, true}, {KOL, true}, {Head, false}, {Active, false}, {Normal, false}, {"", false}, {"Owner", false}}
	for _, tt := range tests {
		if got := tt.role.Exempt(); got != tt.want {
			t.Errorf("Role(%q).Exempt() = %v, want %v", tt.role, got, tt.want)
		}
	}
}

func TestLastActive(t *testing.T) {
	t.Parallel()
	if got := (Activity{}).LastActive(); !got.IsZero() {
		t.Errorf("zero activity LastActive = %v, want zero", got)
	}
	_, a := Decide(Rules{}, Normal, Activity{}, Message{Text: "hi"}, t0)
	if got := a.LastActive(); !got.Equal(t0) {
		t.Errorf("LastActive = %v, want %v", got, t0)
	}
	_, a = Decide(Rules{}, Normal, a, Message{Text: "late"}, t0.Add(-time.Minute))
	if got := a.LastActive(); !got.Equal(t0) {
		t.Errorf("after a late message LastActive = %v, want %v", got, t0)
	}
}

func BenchmarkDecide(b *testing.B) {
	r := Default()
	r.Links.AllowDomains = []string{"example.com"}
	// A typical message: 40 characters, no violation.
	msg := Message{Text: "大家好，今天的团购活动几点开始？我想给家里人多买两份，顺便问下包邮吗？谢谢啦！！", SenderName: "小王"}
	var a Activity
	for i := range 4 {
		_, a = Decide(r, Normal, a, Message{Text: numbered(4)[i]}, t0.Add(time.Duration(i)*time.Second))
	}
	now := t0.Add(5 * time.Second)
	b.Run("clean", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Decide(r, Normal, a, msg, now)
		}
	})
	b.Run("keyword", func(b *testing.B) {
		ad := Message{Text: "兼职刷单日结，有意者加 微 信 abc12345，详情看 https://spam.example.cn/x", SenderName: "小王"}
		b.ReportAllocs()
		for b.Loop() {
			Decide(r, Normal, a, ad, now)
		}
	})
}
