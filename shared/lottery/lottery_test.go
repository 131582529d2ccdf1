package lottery_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tribehq/tribe/shared/flashsale"
	"github.com/tribehq/tribe/shared/lottery"
)

func entries(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("mem_%04d", n-i)
	}
	return lottery.SortEntries(out)
}

func TestDrawIsDeterministicAndNobodyWinsTwice(t *testing.T) {
	t.Parallel()
	seed := bytes.Repeat([]byte{7}, lottery.SeedSize)
	list := entries(50)
	a, err := lottery.Draw(seed, list, []int{3, 10, 40})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := lottery.Draw(seed, list, []int{3, 10, 40})
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("the same seed and list drew differently")
	}
	if len(a) != 50 {
		t.Fatalf("%d winners of 53 slots among 50 entries, want 50", len(a))
	}
	seen := map[string]bool{}
	for _, p := range a {
		if seen[p.MemberID] {
			t.Fatalf("%s won twice", p.MemberID)
		}
		seen[p.MemberID] = true
	}
	other := bytes.Repeat([]byte{8}, lottery.SeedSize)
	c, _ := lottery.Draw(other, list, []int{3})
	if fmt.Sprint(c) == fmt.Sprint(a[:3]) {
		t.Error("another seed drew the same winners")
	}
	if _, err := lottery.Draw(seed[:5], list, []int{1}); err == nil {
		t.Error("a short seed was accepted")
	}
}

// TestDrawIsUniform: over many seeds, each of 7 entries wins the one prize
// about equally often (rejection sampling, no modulo bias).
func TestDrawIsUniform(t *testing.T) {
	t.Parallel()
	list := entries(7)
	wins := map[string]int{}
	const runs = 7000
	for i := 0; i < runs; i++ {
		seed := make([]byte, lottery.SeedSize)
		seed[0], seed[1] = byte(i), byte(i>>8)
		p, _ := lottery.Draw(seed, list, []int{1})
		wins[p[0].MemberID]++
	}
	for _, e := range list {
		if n := wins[e]; n < 850 || n > 1150 {
			t.Errorf("%s won %d of %d, want about 1000", e, n, runs)
		}
	}
}

func TestCommitmentAndHash(t *testing.T) {
	t.Parallel()
	seed := bytes.Repeat([]byte{0}, 32)
	// SHA-256 of 32 zero bytes.
	if got := lottery.Commitment(seed); got != "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925" {
		t.Errorf("commitment = %s", got)
	}
	// SHA-256 of "" for the empty list.
	if got := lottery.EntryListHash(nil); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("empty hash = %s", got)
	}
	if got := lottery.SortEntries([]string{"b", "a", "b"}); fmt.Sprint(got) != "[a b]" {
		t.Errorf("sorted = %v", got)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, settings string
		want           string // first field, "" for valid
	}{
		{"valid", `{"prizes":[{"name":"iPhone","count":1,"reward":{"coupon_pool":"cpn_x"}},{"name":"积分","count":10,"reward":{"points":100}}],"auto_entries":["check_in"]}`, ""},
		{"no settings", ``, "settings.prizes"},
		{"no prizes", `{"prizes":[]}`, "settings.prizes"},
		{"zero count", `{"prizes":[{"name":"a","count":0,"reward":{"points":1}}]}`, "settings.prizes[0].count"},
		{"no reward", `{"prizes":[{"name":"a","count":1,"reward":{}}]}`, "settings.prizes[0].reward"},
		{"two rewards", `{"prizes":[{"name":"a","count":1,"reward":{"points":5,"reward_id":"rwd_1"}}]}`, "settings.prizes[0].reward"},
		{"no name", `{"prizes":[{"count":1,"reward":{"points":5}}]}`, "settings.prizes[0].name"},
		{"unknown field", `{"prizes":[],"bogus":1}`, "settings.bogus"},
		{"wrong type", `{"prizes":[{"name":"a","count":"1","reward":{"points":5}}]}`, "settings.prizes.count"},
		{"bad auto entry", `{"prizes":[{"name":"a","count":1,"reward":{"points":5}}],"auto_entries":["order"]}`, "settings.auto_entries[0]"},
		{"too many winners", `{"prizes":[{"name":"a","count":400,"reward":{"points":5}},{"name":"b","count":400,"reward":{"points":5}}]}`, "settings.prizes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := lottery.Validate(json.RawMessage(tc.settings))
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("problems %+v, want none", got)
			case tc.want != "" && (len(got) == 0 || got[0].Field != tc.want):
				t.Errorf("problems %+v, want first %s", got, tc.want)
			}
		})
	}
}

func TestFlashSaleValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, settings, want string
	}{
		{"valid", `{"stock":20,"per_member_limit":1,"coupon_pool":"cpn_01"}`, ""},
		{"no stock", `{}`, "settings.stock"},
		{"negative limit", `{"stock":1,"per_member_limit":-1}`, "settings.per_member_limit"},
		{"bad pool", `{"stock":1,"coupon_pool":"A#B"}`, "settings.coupon_pool"},
		{"unknown", `{"stock":1,"price":1}`, "settings.price"},
	} {
		got := flashsale.Validate(json.RawMessage(tc.settings))
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("%s: problems %+v, want none", tc.name, got)
		case tc.want != "" && (len(got) == 0 || got[0].Field != tc.want):
			t.Errorf("%s: problems %+v, want first %s", tc.name, got, tc.want)
		}
	}
}
