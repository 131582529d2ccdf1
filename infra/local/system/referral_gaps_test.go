package system_test

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/store"
)

// referralEntries sums a member's ledger entries that come from referrals.
func (s *referralStand) referralEntries(member string) (sum int64, byID map[string]int64) {
	s.t.Helper()
	tn, _ := s.st.Tenant(s.tenant)
	es, err := tn.AllEntries(context.Background(), member)
	if err != nil {
		s.t.Fatal(err)
	}
	byID = map[string]int64{}
	for _, e := range es {
		if e.Source == "referral" {
			sum += e.Amount
			byID[e.ID] += e.Amount
		}
	}
	return sum, byID
}

// TestReferralMergeReChecks: merging an invitee into its referrer (through the
// API) leaves no self-referral paid: a confirmed referral's rewards (join and
// first order, both sides) come back off the survivor by one reversal keyed by
// the referral, the referral is reversed and leaves the confirmed count; a
// joined referral merged the other way (referrer into invitee) is reversed with
// its join rewards taken back; rewards of third parties stay; a replayed merge
// record takes nothing twice.
func TestReferralMergeReChecks(t *testing.T) {
	s := newReferralStand(t, map[string]any{"referrer_join_points": 10, "invitee_join_points": 5,
		"referrer_order_points": 100, "invitee_order_points": 50, "refund_window_days": 7})
	a := s.member(map[string]any{"name": "A"})
	code := s.invite(a)
	b := s.member(map[string]any{"name": "B", "referral_code": code, "identities": []map[string]string{{"provider": "generic", "external_id": "u-b"}}})
	c := s.member(map[string]any{"name": "C", "referral_code": code})
	d := s.member(map[string]any{"name": "D", "referral_code": code})
	s.drainAll()
	s.order("B-1", "u-b", 10000)
	s.drainAll()
	s.advance(8 * 24 * time.Hour)
	s.confirm()
	tn, _ := s.st.Tenant(s.tenant)
	ctx := context.Background()
	if r, _ := tn.Referral(ctx, b); r.Status != store.ReferralConfirmed {
		t.Fatalf("B before the merge: %+v", r)
	}
	if st, _ := tn.ReferrerStatsOf(ctx, a); st.Confirmed != 1 {
		t.Fatalf("confirmed before the merge = %d", st.Confirmed)
	}
	balA, _ := s.points(a)
	balB, _ := s.points(b)
	if balA != 10*3+100 {
		t.Fatalf("A before the merge = %d, want 130", balA)
	}
	bOwn := balB - 5 - 50 // B's own order points

	// B (the invitee) merged into A (the referrer).
	if code, out := s.call("POST", "/v1/members/"+a+"/merge", map[string]any{"from": b}); code != 200 {
		t.Fatalf("merge: %d %v", code, out)
	}
	s.drainAll()
	r, _ := tn.Referral(ctx, b)
	if r.Status != store.ReferralReversed || r.Reason != "merged_into_referrer" {
		t.Fatalf("B after the merge: %+v", r)
	}
	if st, _ := tn.ReferrerStatsOf(ctx, a); st.Confirmed != 0 {
		t.Errorf("confirmed after the merge = %d, want 0", st.Confirmed)
	}
	after, _ := s.points(a)
	if want := bOwn + 10*2; after != want { // B's own order points and C's and D's join rewards
		t.Errorf("A after the merge = %d, want %d (B's order points %d + C's and D's join rewards)", after, want, bOwn)
	}
	_, byID := s.referralEntries(a)
	if got := byID["referral:"+r.ID+":merge_clawback"]; got != -(10 + 5 + 100 + 50) {
		t.Errorf("claw-back entry = %d, want -165 (%v)", got, byID)
	}
	h, _ := tn.ReferralHistory(ctx, b)
	if len(h) == 0 || h[len(h)-1].From != store.ReferralConfirmed || h[len(h)-1].To != store.ReferralReversed {
		t.Errorf("history: %+v", h)
	}

	// A replayed merge record takes nothing twice.
	gone, _ := tn.Member(ctx, b)
	was := gone
	was.Status, was.MergedInto = store.StatusActive, ""
	oldRec, _ := tn.InsertRecord("m-old", "1", was)
	rec, err := tn.InsertRecord("m-replay", "2", gone)
	if err != nil {
		t.Fatal(err)
	}
	rec.EventName, rec.Change.OldImage = store.Modify, oldRec.Change.NewImage
	for i := 0; i < 2; i++ {
		if resp, err := s.sys.Streams["referral"](ctx, eventOf(rec)); err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("replay: %v %v", resp, err)
		}
	}
	if again, _ := s.points(a); again != after {
		t.Errorf("replayed merge changed A: %d → %d", after, again)
	}

	// The other way: A (the referrer) merged into C (a joined invitee).
	balC, _ := s.points(c)
	if code, out := s.call("POST", "/v1/members/"+c+"/merge", map[string]any{"from": a}); code != 200 {
		t.Fatalf("merge A into C: %d %v", code, out)
	}
	s.drainAll()
	if r, _ := tn.Referral(ctx, c); r.Status != store.ReferralReversed || r.Reason != "merged_into_referrer" {
		t.Errorf("C after the merge: %+v", r)
	}
	if got, _ := s.points(c); got != balC+after-10-5 {
		t.Errorf("C after the merge = %d, want %d (both balances less C's join rewards 15)", got, balC+after-15)
	}
	// D, a third person, keeps its referral and its welcome points.
	if r, _ := tn.Referral(ctx, d); r.Status != store.ReferralJoined {
		t.Errorf("D: %+v", r)
	}
	if got, _ := s.points(d); got != 5 {
		t.Errorf("D = %d, want 5", got)
	}
	for _, id := range []string{a, b, c} {
		_, byID := s.referralEntries(id)
		for k := range byID {
			if strings.HasSuffix(k, ":merge_clawback") && byID[k] == 0 {
				t.Errorf("%s: empty claw-back %s", id, k)
			}
		}
	}
	s.checkLedger(a, b, c, d)
}

// listAll follows next_cursor through GET /v1/referrals?query with a small page,
// failing on a repeated referral or an oversized page; it returns the invitee ids.
func (s *referralStand) listAll(query string, limit int) []string {
	s.t.Helper()
	var out []string
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		path := fmt.Sprintf("/v1/referrals?limit=%d&%s", limit, query)
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		code, body := s.call("GET", path, nil)
		if code != 200 {
			s.t.Fatalf("%s: %d %v", path, code, body)
		}
		data := body["data"].([]any)
		if len(data) > limit {
			s.t.Fatalf("%s: %d items on a page of %d", path, len(data), limit)
		}
		for _, d := range data {
			id := d.(map[string]any)["invitee_id"].(string)
			if seen[id] {
				s.t.Fatalf("%s: %s twice", query, id)
			}
			seen[id] = true
			out = append(out, id)
		}
		next, _ := body["next_cursor"].(string)
		if next == "" {
			return out
		}
		if pages > 200 {
			s.t.Fatalf("%s: pages never end", query)
		}
		cursor = next
	}
}

// TestListReferralsPaginates: GET /v1/referrals pages with next_cursor through
// every filter combination (none, status, referrer, referrer and status, a
// period) and finds every match exactly once, for a referrer with more than 100
// invitees (some held) over two days; a forged cursor is a 400 naming it.
func TestListReferralsPaginates(t *testing.T) {
	s := newReferralStand(t, map[string]any{"referrer_join_points": 1, "daily_limit": 55})
	a := s.member(map[string]any{"name": "A"})
	b := s.member(map[string]any{"name": "B"})
	codeA, codeB := s.invite(a), s.invite(b)
	var all []string
	var mu sync.Mutex
	batch := func(nA, nB int) []string {
		var ids []string
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i := 0; i < nA+nB; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				code := codeA
				if i >= nA {
					code = codeB
				}
				id := s.member(map[string]any{"referral_code": code})
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}()
		}
		wg.Wait()
		s.drainAll()
		return ids
	}
	first := batch(60, 5)
	s.advance(48 * time.Hour)
	second := batch(50, 5)
	all = append(append(all, first...), second...)
	tn, _ := s.st.Tenant(s.tenant)
	refs := map[string]store.Referral{}
	for _, id := range all {
		r, err := tn.Referral(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		refs[id] = r
	}
	inSecond := map[string]bool{}
	for _, id := range second {
		inSecond[id] = true
	}
	fromDay := s.st.Now().Add(-24 * time.Hour).UTC().Format("2006-01-02")
	for _, tc := range []struct {
		query string
		want  func(store.Referral) bool
	}{
		{"", func(store.Referral) bool { return true }},
		{"status=held", func(r store.Referral) bool { return r.Status == store.ReferralHeld }},
		{"status=joined", func(r store.Referral) bool { return r.Status == store.ReferralJoined }},
		{"referrer=" + a, func(r store.Referral) bool { return r.ReferrerID == a }},
		{"referrer=" + b, func(r store.Referral) bool { return r.ReferrerID == b }},
		{"referrer=" + a + "&status=held", func(r store.Referral) bool { return r.ReferrerID == a && r.Status == store.ReferralHeld }},
		{"from=" + fromDay, func(r store.Referral) bool { return inSecond[r.InviteeID] }},
		{"referrer=" + a + "&from=" + fromDay, func(r store.Referral) bool { return r.ReferrerID == a && inSecond[r.InviteeID] }},
		{"status=held&from=" + fromDay, func(store.Referral) bool { return false }},
	} {
		want := map[string]bool{}
		for id, r := range refs {
			if tc.want(r) {
				want[id] = true
			}
		}
		for _, limit := range []int{7, 100} {
			got := s.listAll(tc.query, limit)
			if len(got) != len(want) {
				t.Errorf("%q limit %d: %d referrals, want %d", tc.query, limit, len(got), len(want))
			}
			for _, id := range got {
				if !want[id] {
					t.Errorf("%q: %s should not be listed (%+v)", tc.query, id, refs[id])
				}
			}
		}
	}
	held := 0
	for _, r := range refs {
		if r.Status == store.ReferralHeld {
			held++
		}
	}
	if held != 5 || len(s.listAll("referrer="+a, 100)) != 110 {
		t.Errorf("held %d (want 5), A's invitees %d (want 110)", held, len(s.listAll("referrer="+a, 100)))
	}
	// 120 invitees of two referrers, none ordered: fission rate 60, K-factor 0.
	_, out := s.call("GET", "/v1/referrals/stats?group_by=referrer", nil)
	if st := out["stats"].(map[string]any); st["fission_rate"] != 60.0 || st["k_factor"] != 0.0 || len(st["rows"].([]any)) != 2 {
		t.Errorf("stats: %v", st)
	}
	for _, bad := range []string{"nonsense", "2024-01-01T00:00:00Z#x", strings.Repeat("9", 300)} {
		if code, out := s.call("GET", "/v1/referrals?cursor="+url.QueryEscape(bad), nil); code != 400 || out["field"] != "cursor" {
			t.Errorf("cursor %q: %d %v", bad, code, out)
		}
	}
}

// TestReferralMonthlyCap: 20 invitees of one referrer join at once under a
// monthly cap of 95 points with 10 per join: the referrer earns exactly 95 (nine
// full rewards and one clamped to 5), never more, while the invitees' welcome
// points are not capped; the next month the referrer earns again.
func TestReferralMonthlyCap(t *testing.T) {
	s := newReferralStand(t, map[string]any{"referrer_join_points": 10, "invitee_join_points": 5, "monthly_cap": 95})
	a := s.member(map[string]any{"name": "A"})
	code := s.invite(a)
	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); ids[i] = s.member(map[string]any{"referral_code": code}) }()
	}
	wg.Wait()
	s.drainAll()
	sum, byID := s.referralEntries(a)
	if bal, _ := s.points(a); bal != 95 || sum != 95 {
		t.Errorf("A earned %d (entries %d), want the cap 95: %v", bal, sum, byID)
	}
	clamped := 0
	for _, v := range byID {
		if v != 10 {
			clamped++
			if v != 5 {
				t.Errorf("a clamped reward of %d, want 5", v)
			}
		}
	}
	if len(byID) != 10 || clamped != 1 {
		t.Errorf("rewards %v: want 9 of 10 and one of 5", byID)
	}
	tn, _ := s.st.Tenant(s.tenant)
	ny, _ := time.LoadLocation("America/New_York") // the stand tenant's zone: months are local
	month := s.st.Now().In(ny).Format("2006-01")
	if used, _ := tn.MonthPoints(context.Background(), a, month); used != 95 {
		t.Errorf("month %s counts %d, want 95", month, used)
	}
	for _, id := range ids {
		if bal, _ := s.points(id); bal != 5 {
			t.Errorf("invitee %s = %d, want 5 (not capped)", id, bal)
		}
	}
	// Replaying the stream posts nothing more.
	s.drainAll()
	if bal, _ := s.points(a); bal != 95 {
		t.Errorf("A after a replay = %d", bal)
	}
	// A new month, a new cap.
	s.advance(32 * 24 * time.Hour)
	s.member(map[string]any{"referral_code": code})
	s.drainAll()
	if bal, _ := s.points(a); bal != 105 {
		t.Errorf("A in the next month = %d, want 105", bal)
	}
	s.checkLedger(append([]string{a}, ids...)...)
}

// codeOrder posts a generic order.paid carrying data.referral_code.
func (s *referralStand) codeOrder(orderID, customer string, total int64, code string) {
	s.t.Helper()
	s.shopEvent("evt_"+orderID, "order.paid", fmt.Sprintf(`{"order_id":%q,"currency":"CNY","total_minor":%d,"paid_at":%q,"customer":{"id":%q},"referral_code":%q}`,
		orderID, total, s.st.Now().Format(time.RFC3339), customer, code))
}

// TestGenericOrderReferralCode: a generic shop order carrying data.referral_code
// (lower case, with a dash) attributes its buyer, a customer Tribe did not know,
// to the code's owner through the gateway and the stream pump; the order
// qualifies the referral and, after the refund window, the rewards confirm. A
// later order with another code changes nothing (first touch); an order with a
// malformed code counts as an order and refers nobody.
func TestGenericOrderReferralCode(t *testing.T) {
	s := newReferralStand(t, map[string]any{"referrer_join_points": 10, "invitee_join_points": 5,
		"referrer_order_points": 100, "invitee_order_points": 50, "refund_window_days": 7})
	a := s.member(map[string]any{"name": "A"})
	other := s.member(map[string]any{"name": "O"})
	code := s.invite(a)
	s.codeOrder("Z-1", "u-z", 10000, strings.ToLower(code[:4]+"-"+code[4:]))
	s.codeOrder("Y-1", "u-y", 10000, "not-a-code!")
	s.drainAll()
	tn, _ := s.st.Tenant(s.tenant)
	ctx := context.Background()
	z, err := tn.FindMember(ctx, store.Contact{Provider: "generic", ExternalID: "u-z"})
	if err != nil || z == "" {
		t.Fatalf("buyer u-z: %q %v", z, err)
	}
	r, err := tn.Referral(ctx, z)
	if err != nil || r.ReferrerID != a || r.Via != store.ViaOrder || r.Status != store.ReferralQualified || r.OrderID != "Z-1" || r.Code != code {
		t.Fatalf("Z's referral: %+v %v", r, err)
	}
	if y, _ := tn.FindMember(ctx, store.Contact{Provider: "generic", ExternalID: "u-y"}); y != "" {
		if _, err := tn.Referral(ctx, y); err == nil {
			t.Errorf("a malformed code referred u-y")
		}
	}
	s.codeOrder("Z-2", "u-z", 5000, s.invite(other))
	s.drainAll()
	if r2, _ := tn.Referral(ctx, z); r2.ReferrerID != a || r2.OrderID != "Z-1" {
		t.Errorf("first touch lost: %+v", r2)
	}
	if _, pend := s.points(a); pend != 110 {
		t.Errorf("A pending = %d, want 110 (join and order rewards ride with the order)", pend)
	}
	s.advance(8 * 24 * time.Hour)
	s.confirm()
	if r, _ := tn.Referral(ctx, z); r.Status != store.ReferralConfirmed {
		t.Fatalf("Z after the window: %+v", r)
	}
	if bal, pend := s.points(a); bal != 110 || pend != 0 {
		t.Errorf("A = %d pending %d, want 110 and 0", bal, pend)
	}
	s.checkLedger(a, z)
}

// TestFullRefundPaysNothing: an order carrying a code, from a buyer whose
// referrer is an approved distributor, refunded in full inside the window
// leaves zero commission (pending, available, statement) and no rewards for
// either side, also after the window has passed; the stats show no cost.
func TestFullRefundPaysNothing(t *testing.T) {
	s := newReferralStand(t, map[string]any{"referrer_join_points": 10, "invitee_join_points": 5,
		"referrer_order_points": 100, "invitee_order_points": 50, "refund_window_days": 7,
		"commission": map[string]any{"level1_bps": 1000}})
	a := s.member(map[string]any{"name": "A"})
	s.call("POST", "/v1/distributors", map[string]any{"member_id": a})
	if code, out := s.call("POST", "/v1/distributors/"+a+"/approve", nil); code != 200 {
		t.Fatalf("approve: %d %v", code, out)
	}
	s.codeOrder("Z-1", "u-z", 39800, s.invite(a))
	s.drainAll()
	s.confirm() // the hourly job runs from the start
	if _, d := s.call("GET", "/v1/distributors/"+a, nil); d["pending_minor"] != 3980.0 {
		t.Fatalf("commission before the refund: %v", d)
	}
	s.advance(2 * 24 * time.Hour)
	s.shopEvent("evt_rf1", "order.refunded", `{"refund_id":"RF-1","order_id":"Z-1","currency":"CNY","amount_minor":39800}`)
	s.shopEvent("evt_rf1", "order.refunded", `{"refund_id":"RF-1","order_id":"Z-1","currency":"CNY","amount_minor":39800}`) // redelivered
	s.drainAll()
	tn, _ := s.st.Tenant(s.tenant)
	ctx := context.Background()
	z, _ := tn.FindMember(ctx, store.Contact{Provider: "generic", ExternalID: "u-z"})
	if r, _ := tn.Referral(ctx, z); r.Status != store.ReferralReversed || r.Reason != "refunded_in_window" {
		t.Fatalf("Z after the full refund: %+v", r)
	}
	s.advance(8 * 24 * time.Hour)
	s.confirm()
	s.confirm()
	_, d := s.call("GET", "/v1/distributors/"+a, nil)
	if d["pending_minor"] != 0.0 || d["available_minor"] != 0.0 {
		t.Errorf("commission after a full refund: %v", d)
	}
	for _, m := range []string{a, z} {
		if bal, pend := s.points(m); bal != 0 || pend != 0 {
			t.Errorf("%s: balance %d pending %d, want 0 and 0", m, bal, pend)
		}
		if sum, byID := s.referralEntries(m); sum != 0 || len(byID) != 0 {
			t.Errorf("%s: referral entries %v", m, byID)
		}
	}
	_, pay := s.call("GET", "/v1/payouts?period="+s.st.Now().Add(-10*24*time.Hour).Format("2006-01"), nil)
	for _, l := range pay["data"].([]any) {
		l := l.(map[string]any)
		if l["accrued_minor"].(float64)-l["reversed_minor"].(float64)+l["adjusted_minor"].(float64) != 0 {
			t.Errorf("statement: %v", l)
		}
	}
	_, st := s.call("GET", "/v1/referrals/stats?from="+s.st.Now().AddDate(0, 0, -30).Format("2006-01-02"), nil)
	stats := st["stats"].(map[string]any)
	if stats["commission_cost_minor"] != 0.0 || stats["total"].(map[string]any)["points_cost"] != 0.0 || stats["total"].(map[string]any)["reversed"] != 1.0 {
		t.Errorf("stats: %v", stats)
	}
	s.checkLedger(a, z)
}

// png GETs path through the gateway with the tenant key and decodes the PNG.
func (s *referralStand) png(path string, auth bool) (int, image.Image) {
	s.t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if auth {
		req.Header.Set("Authorization", "Bearer "+s.key)
	}
	w := httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, req)
	if w.Code != 200 {
		return w.Code, nil
	}
	if ct := w.Header().Get("Content-Type"); ct != "image/png" {
		s.t.Fatalf("%s: content type %q", path, ct)
	}
	img, err := png.Decode(w.Body)
	if err != nil {
		s.t.Fatalf("%s: %v", path, err)
	}
	return 200, img
}

// TestQRPosters: the invite's qr_png_url (public), a live code's and a
// channel's qr.png (with a key) are decodable 512-pixel PNGs; unknown ids are
// 404 and the tenant routes need a key.
func TestQRPosters(t *testing.T) {
	s := newReferralStand(t, map[string]any{})
	a := s.member(map[string]any{"name": "A"})
	_, inv := s.call("GET", "/v1/members/"+a+"/invite", nil)
	_, g := s.call("POST", "/v1/groups", map[string]any{"platform": "wechat", "name": "G", "join_url": "https://example.com/join/g"})
	code, lc := s.call("POST", "/v1/live-codes", map[string]any{"name": "Poster", "pool": []map[string]any{{"group_id": g["id"], "scan_threshold": 10}}})
	if code != 201 {
		t.Fatalf("live code: %d %v", code, lc)
	}
	code, ch := s.call("POST", "/v1/channels", map[string]any{"name": "Poster", "code": "poster1"})
	if code != 201 {
		t.Fatalf("channel: %d %v", code, ch)
	}
	for _, tc := range []struct {
		path string
		auth bool
	}{
		{strings.TrimPrefix(inv["qr_png_url"].(string), "http://example.com"), false},
		{"/v1/live-codes/" + lc["code"].(string) + "/qr.png", true},
		{"/v1/channels/" + ch["id"].(string) + "/qr.png", true},
	} {
		code, img := s.png(tc.path, tc.auth)
		if code != 200 || img.Bounds().Dx() != 512 || img.Bounds().Dy() != 512 {
			t.Errorf("%s: %d %v", tc.path, code, img)
			continue
		}
		if tc.auth {
			if code, _ := s.png(tc.path, false); code != 401 && code != 403 {
				t.Errorf("%s without a key: %d", tc.path, code)
			}
		}
	}
	for _, p := range []string{"/v1/live-codes/lc_00000000000000000000000000/qr.png", "/v1/channels/ch_00000000000000000000000000/qr.png"} {
		if code, _ := s.png(p, true); code != 404 && code != 400 {
			t.Errorf("%s: %d", p, code)
		}
	}
}
