package system_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/infra/local/system/systemtest"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// playStand is a stand whose tenant may send the bursts these tests make
// (2,000 requests a second; the rate limit has its own tests).
func playStand(t *testing.T) *stand {
	t.Helper()
	s := newStand(t, "CNY")
	code, got := s.call("PATCH", "/v1/tenants/"+s.tenant, map[string]any{"rate_limit": map[string]any{"rps": 2000, "burst": 4000}},
		"Authorization", "Bearer "+systemtest.AdminKey)
	if code != 200 {
		t.Fatalf("rate limit: %d %v", code, got)
	}
	return s
}

// putCampaign writes a campaign item in the contract's shape (the campaigns
// core owns creating them): running, its window around now.
func putCampaign(tb testing.TB, st *store.Store, tenant, kind, settings string) string {
	tb.Helper()
	tn, err := st.Tenant(tenant)
	if err != nil {
		tb.Fatal(err)
	}
	now := st.Now()
	c := store.PlayCampaign{ID: ids.New("cmp"), Name: kind + " test", Kind: kind, Status: store.CampaignRunning,
		StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour), Settings: settings, Version: 1}
	if err := tn.SeedCampaign(context.Background(), c); err != nil {
		tb.Fatal(err)
	}
	return c.ID
}

// sampleLottery is a committed lottery for the campaignplay sample event.
func sampleLottery(tb testing.TB, st *store.Store, tenant string) string {
	tb.Helper()
	id := putCampaign(tb, st, tenant, store.KindLottery, `{"prizes":[{"name":"积分","count":1,"reward":{"points":100}}]}`)
	tn, _ := st.Tenant(tenant)
	if err := tn.CommitLottery(context.Background(), id); err != nil {
		tb.Fatal(err)
	}
	return id
}

// members makes n active members directly in the store.
func (s *stand) members(n int) []string {
	s.t.Helper()
	tn, _ := s.st.Tenant(s.tenant)
	out := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := range out {
		out[i] = ids.New(ids.Member)
		wg.Add(1)
		sem <- struct{}{}
		go func(id string) {
			defer func() { <-sem; wg.Done() }()
			errs <- tn.CreateMember(context.Background(), store.Member{ID: id, Status: store.StatusActive, Stage: store.StageNew,
				JoinedAt: time.Now().UTC(), Version: 1}, nil)
		}(out[i])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			s.t.Fatal(err)
		}
	}
	return out
}

// pool creates a coupon pool and uploads codes as CSV.
func (s *stand) pool(codes ...string) string {
	s.t.Helper()
	code, p := s.call("POST", "/v1/coupon-pools", map[string]any{"name": "¥10 off", "face_value": map[string]any{"amount": 1000, "currency": "CNY"}})
	if code != 201 {
		s.t.Fatalf("pool: %d %v", code, p)
	}
	id := p["id"].(string)
	if len(codes) > 0 {
		code, up := s.call("POST", "/v1/coupon-pools/"+id+"/codes", []byte("code\n"+strings.Join(codes, "\n")+"\n"), "Content-Type", "text/csv")
		if code != 200 || up["added"] != float64(len(codes)) {
			s.t.Fatalf("upload: %d %v", code, up)
		}
	}
	return id
}

func codes(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return out
}

// recompute is a second implementation of the documented draw (shared/lottery's
// package comment), written from the text: HMAC-SHA256(seed, "draw:"+i), the
// first 8 bytes big-endian, rejected at or above 2^64 - (2^64 mod n).
func recompute(seed []byte, sorted []string, counts []int) []string {
	running := append([]string(nil), sorted...)
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	var winners []string
	i := 0
	for _, count := range counts {
		for k := 0; k < count && len(running) > 0; k++ {
			n := big.NewInt(int64(len(running)))
			limit := new(big.Int).Sub(two64, new(big.Int).Mod(two64, n))
			for {
				mac := hmac.New(sha256.New, seed)
				mac.Write([]byte("draw:" + strconv.Itoa(i)))
				i++
				x := new(big.Int).SetUint64(binary.BigEndian.Uint64(mac.Sum(nil)[:8]))
				if x.Cmp(limit) < 0 {
					idx := int(new(big.Int).Mod(x, n).Int64())
					winners = append(winners, running[idx])
					running = append(running[:idx:idx], running[idx+1:]...)
					break
				}
			}
		}
	}
	return winners
}

// TestLotteryDrawIsRecomputable: 1,000 members enter a committed lottery through
// the gateway; the draw reveals the seed; the test re-derives the winners from the
// seed and the paged entry list with its own implementation of the documented
// algorithm, checks the commitment and the entry-list hash, and finds each prize
// given once (points in the ledger, a coupon code from the pool).
func TestLotteryDrawIsRecomputable(t *testing.T) {
	s := playStand(t)
	ctx := context.Background()
	pool := s.pool(codes("LUCKY", 3)...)
	settings := `{"prizes":[{"name":"一等奖","count":1,"reward":{"coupon_pool":"` + pool + `"}},` +
		`{"name":"二等奖","count":2,"reward":{"points":500}},{"name":"三等奖","count":3,"reward":{"reward_id":"rwd_gift"}}]}`
	id := putCampaign(t, s.st, s.tenant, store.KindLottery, settings)
	members := s.members(1000)

	// No entries before the commitment is published.
	if code, got := s.call("POST", "/v1/campaigns/"+id+"/entries", map[string]any{"member_id": members[0]}); code != 409 {
		t.Fatalf("entry before commitment: %d %v", code, got)
	}
	tn, _ := s.st.Tenant(s.tenant)
	if err := tn.CommitLottery(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := tn.CommitLottery(ctx, id); err != nil { // activation retried: the same seed
		t.Fatal(err)
	}
	// The third prize is a catalogue reward with stock for two of its three
	// winners: the third slot is recorded unfilled, the stock never oversold.
	two := int64(2)
	if err := tn.CreateReward(ctx, store.Reward{ID: "rwd_gift", Name: "gift", Kind: "physical", Stock: &two, Status: "active"}); err != nil {
		t.Fatal(err)
	}
	code, before := s.call("GET", "/v1/campaigns/"+id+"/draw", nil)
	if code != 200 || before["status"] != "committed" || before["seed"] != nil || len(before["commitment"].(string)) != 64 {
		t.Fatalf("draw before: %d %v", code, before)
	}

	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	var mu sync.Mutex
	statuses := map[int]int{}
	for _, m := range members {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			code, _ := s.call("POST", "/v1/campaigns/"+id+"/entries", map[string]any{"member_id": m})
			mu.Lock()
			statuses[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[201] != 1000 {
		t.Fatalf("entries: %v", statuses)
	}
	if code, got := s.call("POST", "/v1/campaigns/"+id+"/entries", map[string]any{"member_id": members[7]}); code != 200 || got["member_id"] != members[7] {
		t.Fatalf("second entry: %d %v", code, got)
	}
	if code, got := s.call("POST", "/v1/campaigns/"+id+"/entries", map[string]any{"member_id": ids.New(ids.Member)}); code != 404 {
		t.Fatalf("unknown member: %d %v", code, got)
	}

	// Three draws at once (an operator's double click, the runner at the window's
	// end): one draw, each reward given once.
	draws := make([]map[string]any, 3)
	codesOf := make([]int, 3)
	for i := range draws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codesOf[i], draws[i] = s.call("POST", "/v1/campaigns/"+id+"/draw", nil)
		}()
	}
	wg.Wait()
	for i, drawn := range draws {
		if codesOf[i] != 200 || drawn["status"] != "drawn" || drawn["entry_count"] != float64(1000) || drawn["seed"] != draws[0]["seed"] {
			t.Fatalf("draw %d: %d %v", i, codesOf[i], drawn)
		}
	}
	if code, got := s.call("POST", "/v1/campaigns/"+id+"/entries", map[string]any{"member_id": ids.New(ids.Member)}); code != 409 {
		t.Fatalf("entry after the draw: %d %v", code, got)
	}

	// What anyone can read: the draw and the entries, page by page.
	_, pub := s.call("GET", "/v1/campaigns/"+id+"/draw", nil)
	var list []string
	cursor := ""
	for {
		code, page := s.call("GET", "/v1/campaigns/"+id+"/entries?limit=100&cursor="+url.QueryEscape(cursor), nil)
		if code != 200 {
			t.Fatalf("entries page: %d %v", code, page)
		}
		for _, e := range page["data"].([]any) {
			list = append(list, e.(map[string]any)["member_id"].(string))
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(list) != 1000 || !sort.StringsAreSorted(list) {
		t.Fatalf("entry list: %d sorted=%v", len(list), sort.StringsAreSorted(list))
	}
	seed, err := hex.DecodeString(pub["seed"].(string))
	if err != nil || len(seed) != 32 {
		t.Fatalf("seed %v: %v", pub["seed"], err)
	}
	commit := sha256.Sum256(seed)
	if hex.EncodeToString(commit[:]) != before["commitment"] || pub["commitment"] != before["commitment"] {
		t.Fatal("the revealed seed does not match the commitment published before")
	}
	listHash := sha256.Sum256([]byte(strings.Join(list, "\n")))
	if hex.EncodeToString(listHash[:]) != pub["entry_list_hash"] {
		t.Fatal("the entry list does not hash to entry_list_hash")
	}
	var counts []int
	for _, p := range pub["prizes"].([]any) {
		counts = append(counts, int(p.(map[string]any)["count"].(float64)))
	}
	want := recompute(seed, list, counts)
	winners := pub["winners"].([]any)
	if len(want) != 6 || len(winners) != 6 {
		t.Fatalf("winners %d, recomputed %d, want 6", len(winners), len(want))
	}
	unfilled := 0
	for i, w := range winners {
		w := w.(map[string]any)
		if w["status"] == "unfilled" && w["prize"] == float64(2) && strings.Contains(fmt.Sprint(w["reason"]), "out of stock") {
			unfilled++
		} else if w["status"] != "granted" {
			t.Errorf("winner %d = %v", i, w)
		}
		if w["member_id"] != want[i] {
			t.Errorf("winner %d = %v, recomputed %s", i, w, want[i])
		}
	}
	if gift, err := tn.Reward(ctx, "rwd_gift"); err != nil || unfilled != 1 || *gift.Stock != 0 || gift.Redeemed != 2 {
		t.Errorf("gift reward %+v (%v), %d unfilled; want stock 0, 2 redeemed, 1 unfilled", gift, err, unfilled)
	}
	first, second := winners[0].(map[string]any), winners[1].(map[string]any)
	if c, _ := first["coupon_code"].(string); !strings.HasPrefix(c, "LUCKY-") {
		t.Errorf("first prize: %v", first)
	}
	code, pts := s.call("GET", "/v1/members/"+second["member_id"].(string)+"/points", nil)
	if code != 200 || pts["balance"] != float64(500) {
		t.Errorf("second prize points: %d %v", code, pts)
	}
	// Drawing again gives nothing twice and answers the same draw.
	code, again := s.call("POST", "/v1/campaigns/"+id+"/draw", nil)
	if code != 200 || again["seed"] != pub["seed"] || fmt.Sprint(again["winners"]) != fmt.Sprint(pub["winners"]) {
		t.Fatalf("second draw: %d %v", code, again)
	}
	_, pts = s.call("GET", "/v1/members/"+second["member_id"].(string)+"/points", nil)
	_, stats := s.call("GET", "/v1/coupon-pools/"+pool, nil)
	if pts["balance"] != float64(500) || stats["stats"].(map[string]any)["issued"] != float64(1) {
		t.Errorf("after a second draw: points %v, pool %v", pts, stats)
	}
}

// TestFlashSaleSellsExactlyItsStock: 200 members claim a sale of stock 20 at
// once; exactly 20 get a distinct coupon code, 180 are told sold out; a retry
// with the same Idempotency-Key replays its claim.
func TestFlashSaleSellsExactlyItsStock(t *testing.T) {
	s := playStand(t)
	pool := s.pool(codes("FLASH", 30)...)
	id := putCampaign(t, s.st, s.tenant, store.KindFlashSale, `{"stock":20,"per_member_limit":1,"coupon_pool":"`+pool+`"}`)
	members := s.members(200)
	type result struct {
		code int
		body map[string]any
	}
	results := make([]result, len(members))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			code, body := s.call("POST", "/v1/campaigns/"+id+"/claims", map[string]any{"member_id": m}, "Idempotency-Key", "claim-"+m)
			results[i] = result{code, body}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(began)
	won, soldOut := 0, 0
	seen := map[string]bool{}
	for i, r := range results {
		switch {
		case r.code == 201:
			won++
			c, _ := r.body["coupon_code"].(string)
			if !strings.HasPrefix(c, "FLASH-") || seen[c] {
				t.Errorf("claim %d: code %q (twice: %v)", i, c, seen[c])
			}
			seen[c] = true
		case r.code == 409 && r.body["code"] == string(problem.SoldOut):
			soldOut++
		default:
			t.Errorf("claim %d: %d %v", i, r.code, r.body)
		}
	}
	t.Logf("200 concurrent claims on stock 20: %d won, %d sold out in %s", won, soldOut, elapsed)
	if won != 20 || soldOut != 180 {
		t.Fatalf("won %d, sold out %d; want 20 and 180", won, soldOut)
	}
	for i, r := range results {
		if r.code != 201 {
			continue
		}
		code, body := s.call("POST", "/v1/campaigns/"+id+"/claims", map[string]any{"member_id": members[i]}, "Idempotency-Key", "claim-"+members[i])
		if code != 201 || body["coupon_code"] != r.body["coupon_code"] || body["id"] != r.body["id"] {
			t.Fatalf("replay: %d %v, first %v", code, body, r.body)
		}
		// A new request of the same member: the sale is sold out first.
		if code, body := s.call("POST", "/v1/campaigns/"+id+"/claims", map[string]any{"member_id": members[i]}); code != 409 {
			t.Fatalf("second claim: %d %v", code, body)
		}
		break
	}
	_, p := s.call("GET", "/v1/coupon-pools/"+pool, nil)
	if st := p["stats"].(map[string]any); st["issued"] != float64(20) || st["remaining"] != float64(10) {
		t.Errorf("pool stats %v", st)
	}
}

// TestFlashSaleLimitsEachMember: a member may claim per_member_limit times.
func TestFlashSaleLimitsEachMember(t *testing.T) {
	s := newStand(t, "CNY")
	id := putCampaign(t, s.st, s.tenant, store.KindFlashSale, `{"stock":10,"per_member_limit":2}`)
	m := s.members(1)[0]
	var got []int
	for i := 0; i < 3; i++ {
		code, _ := s.call("POST", "/v1/campaigns/"+id+"/claims", map[string]any{"member_id": m})
		got = append(got, code)
	}
	if fmt.Sprint(got) != "[201 201 409]" {
		t.Fatalf("claims %v, want [201 201 409]", got)
	}
	code, body := s.call("POST", "/v1/campaigns/"+id+"/claims", map[string]any{"member_id": m})
	if body["code"] != string(problem.LimitReached) {
		t.Fatalf("fourth claim: %d %v", code, body)
	}
	// Outside the window: 409, nothing claimed.
	s.st.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
	defer s.st.SetClock(time.Now)
	other := s.members(1)[0]
	if code, body := s.call("POST", "/v1/campaigns/"+id+"/claims", map[string]any{"member_id": other}); code != 409 || body["code"] != string(problem.Conflict) {
		t.Fatalf("claim after the window: %d %v", code, body)
	}
}

// TestCouponIssuedExactlyOnce: 200 concurrent issues from a pool of 150 give 150
// distinct codes and 50 pool_exhausted; the same ref always gets the same code,
// also when asked concurrently; an upload repeated counts its codes as
// duplicates.
func TestCouponIssuedExactlyOnce(t *testing.T) {
	s := newStand(t, "CNY")
	ctx := context.Background()
	all := codes("C", 150)
	pool := s.pool(all[:100]...)
	body, _ := json.Marshal(append(all[90:], all[140]))
	code, up := s.call("POST", "/v1/coupon-pools/"+pool+"/codes", body)
	if code != 200 || up["added"] != float64(50) || up["duplicates"] != float64(11) || up["stats"].(map[string]any)["total"] != float64(150) {
		t.Fatalf("second upload: %d %v", code, up)
	}
	tn, _ := s.st.Tenant(s.tenant)
	member := s.members(1)[0]
	got := make([]string, 200)
	errs := make([]error, 200)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = tn.IssueCoupon(ctx, pool, member, "ref-"+strconv.Itoa(i))
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	exhausted := 0
	for i := range got {
		switch {
		case errs[i] == nil && !seen[got[i]]:
			seen[got[i]] = true
		case problem.Is(errs[i], problem.PoolExhausted):
			exhausted++
		default:
			t.Errorf("issue %d: %q %v (twice: %v)", i, got[i], errs[i], seen[got[i]])
		}
	}
	if len(seen) != 150 || exhausted != 50 {
		t.Fatalf("%d distinct codes, %d exhausted; want 150 and 50", len(seen), exhausted)
	}
	for i, c := range got {
		if c == "" {
			continue
		}
		again, err := tn.IssueCoupon(ctx, pool, member, "ref-"+strconv.Itoa(i))
		if err != nil || again != c {
			t.Fatalf("ref-%d again: %q %v, first %q", i, again, err, c)
		}
		issued, err := tn.IssuedCouponCode(ctx, pool, c)
		if err != nil || issued.MemberID != member || issued.Ref != "ref-"+strconv.Itoa(i) {
			t.Fatalf("issued code item: %+v %v", issued, err)
		}
		break
	}
	// Ten concurrent issues of one ref from a fresh pool: one code.
	fresh := s.pool(codes("F", 20)...)
	var one sync.Map
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := tn.IssueCoupon(ctx, fresh, member, "same-ref")
			if err != nil {
				t.Error(err)
			}
			one.Store(c, true)
		}()
	}
	wg.Wait()
	n := 0
	one.Range(func(any, any) bool { n++; return true })
	_, p := s.call("GET", "/v1/coupon-pools/"+fresh, nil)
	if n != 1 || p["stats"].(map[string]any)["issued"] != float64(1) {
		t.Fatalf("one ref, %d codes; pool %v", n, p)
	}
}

// TestPlayValidation: bad input is a 400 naming the field.
func TestPlayValidation(t *testing.T) {
	s := newStand(t, "CNY")
	pool := s.pool()
	lot := putCampaign(t, s.st, s.tenant, store.KindLottery, `{"prizes":[{"name":"a","count":1,"reward":{"points":1}}]}`)
	for _, tc := range []struct {
		name, method, path string
		body               any
		headers            []string
		field              string
	}{
		{"pool without name", "POST", "/v1/coupon-pools", map[string]any{"face_value": map[string]any{"amount": 1, "currency": "CNY"}}, nil, "name"},
		{"pool without face value", "POST", "/v1/coupon-pools", map[string]any{"name": "x"}, nil, "face_value"},
		{"pool in no currency", "POST", "/v1/coupon-pools", map[string]any{"name": "x", "face_value": map[string]any{"amount": 1, "currency": "XXY"}}, nil, "face_value.currency"},
		{"negative face value", "POST", "/v1/coupon-pools", map[string]any{"name": "x", "face_value": map[string]any{"amount": -1, "currency": "CNY"}}, nil, "face_value.amount"},
		{"code with a space", "POST", "/v1/coupon-pools/" + pool + "/codes", []string{"OK-1", "NOT OK"}, nil, "codes[1]"},
		{"no codes", "POST", "/v1/coupon-pools/" + pool + "/codes", []string{}, nil, "codes"},
		{"csv code too long", "POST", "/v1/coupon-pools/" + pool + "/codes", []byte(strings.Repeat("X", 65) + "\n"), []string{"Content-Type", "text/csv"}, "codes[0]"},
		{"too many codes", "POST", "/v1/coupon-pools/" + pool + "/codes", []byte(strings.Repeat("A\n", 1) + strings.Join(codes("Z", 10001), "\n")), []string{"Content-Type", "text/csv"}, "codes"},
		{"entry without member", "POST", "/v1/campaigns/" + lot + "/entries", map[string]any{}, nil, "member_id"},
		{"entry of no member id", "POST", "/v1/campaigns/" + lot + "/entries", map[string]any{"member_id": "bob"}, nil, "member_id"},
		{"claim with unknown field", "POST", "/v1/campaigns/" + lot + "/claims", map[string]any{"member_id": "x", "qty": 2}, nil, "qty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, got := s.call(tc.method, tc.path, tc.body, tc.headers...)
			if code != 400 || got["field"] != tc.field {
				t.Errorf("%d %v, want 400 naming %s", code, got, tc.field)
			}
		})
	}
	// A lottery's routes on a flash sale (and the reverse) are not found.
	sale := putCampaign(t, s.st, s.tenant, store.KindFlashSale, `{"stock":1}`)
	if code, got := s.call("GET", "/v1/campaigns/"+sale+"/draw", nil); code != 404 {
		t.Errorf("draw of a sale: %d %v", code, got)
	}
	if code, got := s.call("POST", "/v1/campaigns/"+lot+"/claims", map[string]any{"member_id": ids.New(ids.Member)}); code != 404 {
		t.Errorf("claim in a lottery: %d %v", code, got)
	}
}

// TestPlayAcrossTenantsIsNotFound: another tenant's key finds none of a tenant's
// pools, lotteries or sales, and changes nothing.
func TestPlayAcrossTenantsIsNotFound(t *testing.T) {
	s := newStand(t, "CNY")
	pool := s.pool(codes("A", 2)...)
	lot := sampleLottery(t, s.st, s.tenant)
	sale := putCampaign(t, s.st, s.tenant, store.KindFlashSale, `{"stock":5,"coupon_pool":"`+pool+`"}`)
	now := time.Now().UTC()
	info := store.TenantInfo{ID: ids.New(ids.Tenant), Name: "Other", Timezone: "UTC", Currency: "CNY",
		Lifecycle: store.DefaultLifecycle, CreatedAt: now, UpdatedAt: now}
	key, hash := auth.NewKey(info.ID)
	if err := s.st.CreateTenant(context.Background(), info, store.APIKey{ID: ids.New(ids.APIKey), Name: "b",
		Scopes: []catalogue.Scope{catalogue.ScopeAdmin}, CreatedAt: now, Hash: hash, Currency: "CNY"}); err != nil {
		t.Fatal(err)
	}
	bKey := []string{"Authorization", "Bearer " + key}
	tnB, _ := s.st.Tenant(info.ID)
	mB := ids.New(ids.Member)
	if err := tnB.CreateMember(context.Background(), store.Member{ID: mB, Status: store.StatusActive, Stage: store.StageNew, JoinedAt: now, Version: 1}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/coupon-pools/" + pool, nil},
		{"POST", "/v1/coupon-pools/" + pool + "/codes", []string{"MINE-1"}},
		{"GET", "/v1/campaigns/" + lot + "/draw", nil},
		{"POST", "/v1/campaigns/" + lot + "/draw", nil},
		{"GET", "/v1/campaigns/" + lot + "/entries", nil},
		{"POST", "/v1/campaigns/" + lot + "/entries", map[string]any{"member_id": mB}},
		{"POST", "/v1/campaigns/" + sale + "/claims", map[string]any{"member_id": mB}},
	} {
		if code, got := s.call(tc.method, tc.path, tc.body, bKey...); code != 404 {
			t.Errorf("%s %s with another tenant's key: %d %v", tc.method, tc.path, code, got)
		}
	}
	if _, p := s.call("GET", "/v1/coupon-pools/"+pool, nil); p["stats"].(map[string]any)["total"] != float64(2) {
		t.Errorf("A's pool changed: %v", p)
	}
	if _, d := s.call("GET", "/v1/campaigns/"+lot+"/draw", nil); d["status"] != "committed" {
		t.Errorf("A's lottery changed: %v", d)
	}
}
