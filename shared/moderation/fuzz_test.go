package moderation

import (
	"reflect"
	"testing"
	"time"
)

func FuzzDecide(f *testing.F) {
	for _, s := range []string{
		"", "加 微 信", "ｗｅｉｘｉｎ", "https://weixin.qq.com/r/x", "www.。.com", "a..b.com", "http://", "://x",
		"长按识别二维码", "\xff\xfe", "x.com/a.cn?b=c.io", "\u200b\u3000\uff01", "1.2.3.4:80", "@.cn",
	} {
		f.Add(s, "text", "")
		f.Add(s, "link_card", s)
	}
	r := Default()
	r.Links.AllowDomains = []string{"example.com"}
	r.Keywords.Words = append(r.Keywords.Words, "weixin", "vx", "a")
	prior := Activity{
		Times:      []int64{t0.UnixMilli() - 1, t0.UnixMilli()},
		Texts:      []TextSeen{{Hash: 1, At: t0.UnixMilli()}},
		Violations: []Violation{{Rule: RuleLinks, At: t0.Add(-time.Hour).UnixMilli()}},
		Version:    9,
	}
	f.Fuzz(func(t *testing.T, text, kind, url string) {
		m := Message{Kind: Kind(kind), Text: text, URL: url, SenderName: "x"}
		d1, a1 := Decide(r, Normal, prior, m, t0)
		d2, a2 := Decide(r, Normal, prior, m, t0)
		if !reflect.DeepEqual(d1, d2) || !reflect.DeepEqual(a1, a2) {
			t.Fatalf("Decide is not deterministic for %q", text)
		}
		if a1.Version != prior.Version+1 || len(a1.Times) > MaxTimes || len(a1.Texts) > MaxTexts || len(a1.Violations) > MaxViolations {
			t.Fatalf("activity out of bounds: %+v", a1)
		}
		if d1.Points < 0 || (d1.Remove != (len(d1.Actions) > 0 && d1.Actions[len(d1.Actions)-1] == Remove)) {
			t.Fatalf("inconsistent decision %+v", d1)
		}
	})
}
