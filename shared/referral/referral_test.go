package referral

import (
	"strings"
	"testing"

	"github.com/tribehq/tribe/shared/store"
)

func TestParseCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "ABCD2345", "ABCD2345", true},
		{"lower case, dash, spaces", " abcd-2345 ", "ABCD2345", true},
		{"state prefix", "ref.ABCD2345", "ABCD2345", true},
		{"ambiguous O", "ABCD234O", "", false},
		{"ambiguous 1", "ABCD2341", "", false},
		{"too short", "ABC", "", false},
		{"too long", "ABCD23456", "", false},
		{"channel code", "douyin", "", false},
		{"empty", "", "", false},
	} {
		got, ok := ParseCode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: ParseCode(%q) = %q, %v; want %q, %v", tc.name, tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := FromState("ABCD2345"); ok {
		t.Error("a bare code in a state is a channel's, not an invite")
	}
	for i := 0; i < 100; i++ {
		c := NewCode()
		if got, ok := ParseCode(c); !ok || got != c {
			t.Fatalf("NewCode %q does not parse", c)
		}
	}
}

func TestFromDelivery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, provider, body, want string }{
		{"shopify note attribute", "shopify", `{"note_attributes":[{"name":"ref","value":"abcd-2345"}],"discount_codes":[{"code":"SUMMER10"}]}`, "ABCD2345"},
		{"shopify landing site", "shopify", `{"landing_site":"/products/x?utm=1&ref=ABCD2345"}`, "ABCD2345"},
		{"shopify discount code", "shopify", `{"discount_codes":[{"code":"SUMMER10"},{"code":"ABCD2345"}]}`, "ABCD2345"},
		{"note attribute beats discount", "shopify", `{"discount_codes":[{"code":"WXYZ2345"}],"note_attributes":[{"name":"referral_code","value":"ABCD2345"}]}`, "ABCD2345"},
		{"woocommerce meta", "woocommerce", `{"meta_data":[{"id":1,"key":"_tribe_ref","value":"ABCD2345"}]}`, "ABCD2345"},
		{"woocommerce note", "woocommerce", `{"customer_note":"please gift wrap, ref.ABCD2345"}`, "ABCD2345"},
		{"youzan json msg", "youzan", `{"msg":"{\"full_order_info\":{\"remark_info\":{\"buyer_message\":\"ref.ABCD2345\"}}}"}`, "ABCD2345"},
		{"generic", "generic", `{"data":{"referral_code":"ABCD2345"}}`, "ABCD2345"},
		{"none", "shopify", `{"note_attributes":[{"name":"gift","value":"yes"}]}`, ""},
		{"malformed", "shopify", `{"note_attributes":`, ""},
	} {
		if got := FromDelivery(tc.provider, []byte(tc.body)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCommissionOn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ net, bps, want int64 }{
		{10000, 1000, 1000}, {39800, 1000, 3980}, {20900, 1000, 2090}, {999, 1000, 99}, {1, 5000, 0}, {-5, 1000, 0}, {100, 0, 0},
	} {
		if got := CommissionOn(tc.net, tc.bps); got != tc.want {
			t.Errorf("CommissionOn(%d, %d) = %d, want %d", tc.net, tc.bps, got, tc.want)
		}
	}
	// Reversals in parts add up to the commission on the final net.
	c := CommissionOn(39800, 1000)
	rev := c - CommissionOn(39800-18900, 1000)
	rev2 := CommissionOn(39800-18900, 1000) - CommissionOn(0, 1000)
	if c-rev-rev2 != 0 {
		t.Errorf("parts do not add up")
	}
}

func TestCheckProgram(t *testing.T) {
	t.Parallel()
	p := store.ReferralProgram{RefundWindowDays: 100, Milestones: []store.Milestone{{Invitees: 10, Points: 5}, {Invitees: 3, Points: 1}, {Invitees: 3, Points: 1}},
		Commission: store.Commission{Level2BPS: 100}, LandingURL: "ftp://x"}
	err := CheckProgram(&p)
	for _, f := range []string{"refund_window_days", "milestones[2].invitees", "commission.level2_bps", "landing_url"} {
		if err == nil || !strings.Contains(err.Error(), f+":") {
			t.Errorf("CheckProgram misses %s: %v", f, err)
		}
	}
	ok := store.ReferralProgram{RefundWindowDays: 7, Milestones: []store.Milestone{{Invitees: 10, Points: 5}, {Invitees: 3, Points: 1}}}
	if err := CheckProgram(&ok); err != nil || ok.Milestones[0].Invitees != 3 {
		t.Errorf("valid program: %v %v", err, ok.Milestones)
	}
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"ABCD2345", "ref.abcd-2345", "", "ÄÖÜ", "ref.", strings.Repeat("A", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := ParseCode(s)
		if !ok {
			return
		}
		if len(code) != CodeLen {
			t.Fatalf("ParseCode(%q) = %q", s, code)
		}
		for i := 0; i < len(code); i++ {
			if !strings.ContainsRune(Alphabet, rune(code[i])) {
				t.Fatalf("ParseCode(%q) = %q: outside the alphabet", s, code)
			}
		}
		if again, ok := ParseCode(code); !ok || again != code {
			t.Fatalf("not idempotent: %q → %q", code, again)
		}
	})
}

func FuzzFromDelivery(f *testing.F) {
	for _, s := range []string{`{"note_attributes":[{"name":"ref","value":"ABCD2345"}]}`, `{"landing_site":"?ref=ABCD2345"}`,
		`{"msg":"{\"buyer_message\":\"ref.ABCD2345\"}"}`, `[[[[[]]]]]`, `{"discount_codes":[{"code":1}]}`, `null`} {
		f.Add("shopify", s)
	}
	f.Fuzz(func(t *testing.T, provider, body string) {
		code := FromDelivery(provider, []byte(body))
		if code == "" {
			return
		}
		if got, ok := ParseCode(code); !ok || got != code {
			t.Fatalf("FromDelivery returned %q, not a code", code)
		}
	})
}
