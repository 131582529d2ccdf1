// Package demo fills the demo tenant with a month of realistic activity for
// `make dev` (and the console's browser test): channels, groups and a live code,
// members arriving day by day through the channels, joins, messages, check-ins
// (签到), rule-breaking links, live-code scans and shop orders — all through the
// API, the signed chat and shop webhooks, as real events arrive, so the stream
// consumers keep every counter as they would. Each day's requests run on a store
// whose clock is set to that day; events carry their own timestamps.
//
// It is idempotent: every create carries an Idempotency-Key, chat events and
// orders carry their platform ids (deduplicated by Tribe), and a marker in the
// data folder skips the whole seed once done.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/tribehq/tribe/shared/tribesig"
)

// Options shape the seed.
type Options struct {
	// Gateway is a local gateway whose store's clock SetNow moves (a system built
	// on a store of its own, not the one serving make dev).
	Gateway http.Handler
	SetNow  func(func() time.Time)
	// Key is the demo tenant's admin key; AdminKey the platform's, which lifts
	// the tenant's rate limit for the seed (TenantID).
	Key, AdminKey, TenantID string
	// Days of history ending today; MembersPerDay the average arrivals a day.
	Days, MembersPerDay int
	// Now is today (the end of the history); zero means time.Now.
	Now time.Time
	// Zone is the tenant's time zone.
	Zone *time.Location
}

// Result is what the seed made.
type Result struct {
	Members, Groups, Orders, ChatEvents, Scans int
	GroupIDs                                   []string
}

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐")
	given    = []string{"小明", "晓红", "子涵", "雨桐", "浩然", "欣怡", "梓萱", "一诺", "思远", "嘉怡", "宇航", "佳琪", "俊杰", "诗涵", "明轩", "可馨"}
	tags     = []string{"vip", "coffee", "tea", "new", "latte", "office", "student"}
	chatter  = []string{"早上好", "今天的拿铁真好喝", "有优惠吗？", "请问门店几点开门", "新品什么时候上", "谢谢群主", "已下单", "好评", "周末去打卡", "冷萃推荐吗"}
)

type seeder struct {
	o         Options
	mu        sync.Mutex
	now       time.Time
	rng       *rand.Rand
	chatID    string // the chat integration
	chatSec   string
	shopID    string
	shopSec   string
	groups    []map[string]any
	channels  []string
	liveCode  string
	members   []member
	res       Result
	requestIP int
}

type member struct {
	id, tg, cust string
	group        int
	orders       int
	channel      string
}

func (s *seeder) clock() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now }
func (s *seeder) at(t time.Time)   { s.mu.Lock(); s.now = t.UTC(); s.mu.Unlock() }

// call sends one request through the gateway as the demo tenant's admin (auth
// "" for a public route) and decodes the JSON answer.
func (s *seeder) call(method, path string, body any, idem string, headers ...string) (int, map[string]any, error) {
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+s.o.Key)
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	s.requestIP++
	req.RemoteAddr = fmt.Sprintf("198.51.%d.%d:4000", (s.requestIP/250)%250, s.requestIP%250+1)
	w := httptest.NewRecorder()
	s.o.Gateway.ServeHTTP(w, req)
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	if w.Code >= 500 {
		return w.Code, out, fmt.Errorf("demo: %s %s: %d %s", method, path, w.Code, w.Body.String())
	}
	return w.Code, out, nil
}

func (s *seeder) must(method, path string, body any, idem string) (map[string]any, error) {
	code, out, err := s.call(method, path, body, idem)
	if err == nil && code >= 300 {
		err = fmt.Errorf("demo: %s %s: %d %v", method, path, code, out)
	}
	return out, err
}

// signed posts a body to a signed webhook route (chat or shop), signed at the
// seed clock, as the platform would.
func (s *seeder) signed(path, secret string, body any) error {
	raw, _ := json.Marshal(body)
	code, out, err := s.call("POST", path, raw, "", "Tribe-Signature", tribesig.Sign(secret, s.clock(), raw), "Authorization", "")
	if err == nil && code >= 300 {
		err = fmt.Errorf("demo: %s: %d %v", path, code, out)
	}
	return err
}

// Seed runs the seed. It returns what it made.
func Seed(ctx context.Context, o Options) (Result, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Zone == nil {
		o.Zone = time.UTC
	}
	if o.Days <= 0 {
		o.Days = 30
	}
	if o.MembersPerDay <= 0 {
		o.MembersPerDay = 8
	}
	s := &seeder{o: o, rng: rand.New(rand.NewPCG(12, 2026))}
	o.SetNow(s.clock)
	defer o.SetNow(time.Now)
	today := o.Now.In(o.Zone)
	start := time.Date(today.Year(), today.Month(), today.Day(), 9, 0, 0, 0, o.Zone).AddDate(0, 0, -(o.Days - 1))
	s.at(start.Add(-2 * time.Hour))
	if err := s.setup(); err != nil {
		return s.res, err
	}
	for d := 0; d < o.Days; d++ {
		if err := ctx.Err(); err != nil {
			return s.res, err
		}
		if err := s.day(d, start.AddDate(0, 0, d), d == o.Days-1, today); err != nil {
			return s.res, err
		}
	}
	s.res.Members = len(s.members)
	for _, g := range s.groups {
		s.res.GroupIDs = append(s.res.GroupIDs, g["id"].(string))
	}
	return s.res, nil
}

func (s *seeder) setup() error {
	if s.o.AdminKey != "" {
		key := s.o.Key
		s.o.Key = s.o.AdminKey
		_, err := s.must("PATCH", "/v1/tenants/"+s.o.TenantID, map[string]any{"plan": "enterprise"}, "")
		s.o.Key = key
		if err != nil {
			return err
		}
	}
	for _, ch := range [][2]string{{"抖音直播", "douyin"}, {"小红书", "xhs"}, {"门店海报", "store"}} {
		if _, err := s.must("POST", "/v1/channels", map[string]any{"name": ch[0], "code": ch[1]}, "demo-channel-"+ch[1]); err != nil {
			return err
		}
		s.channels = append(s.channels, ch[1])
	}
	cities := []string{"上海", "上海", "北京", "杭州", "深圳"}
	cats := []string{"咖啡", "咖啡", "咖啡", "茶饮", "咖啡"}
	for i := range cities {
		g, err := s.must("POST", "/v1/groups", map[string]any{"platform": "telegram", "external_chat_id": fmt.Sprintf("-1009000%02d", i),
			"type": "brand", "naming": map[string]any{"region": cities[i], "category": cats[i], "number": i + 1},
			"capacity": 120 + 40*i, "qr_join_cap": 100 + 30*i,
			// A Telegram invite link, so the live code's landing page has a way in
			// (an uploaded QR image is the other).
			"join_url": fmt.Sprintf("https://t.me/+tribeDemoGroup%d", i+1)}, fmt.Sprintf("demo-group-%d", i))
		if err != nil {
			return err
		}
		s.groups = append(s.groups, g)
	}
	s.res.Groups = len(s.groups)
	lc, err := s.must("POST", "/v1/live-codes", map[string]any{"name": "门店海报活码", "pool": []map[string]any{
		{"group_id": s.groups[0]["id"], "scan_threshold": 90}, {"group_id": s.groups[1]["id"], "scan_threshold": 150}}}, "demo-livecode")
	if err != nil {
		return err
	}
	s.liveCode, _ = lc["code"].(string)
	// Chat and shop integrations: their secrets are shown only on creation, so a
	// replay (a seed cut off and run again) makes new ones.
	chat, err := s.must("POST", "/v1/integrations", map[string]any{"provider": "chat", "name": "社群机器人"}, "")
	if err != nil {
		return err
	}
	shop, err := s.must("POST", "/v1/integrations", map[string]any{"provider": "generic", "name": "小程序商城"}, "")
	if err != nil {
		return err
	}
	s.chatID, s.chatSec = chat["id"].(string), chat["secret"].(string)
	s.shopID, s.shopSec = shop["id"].(string), shop["secret"].(string)
	// Points for check-ins and joins; rules as the API gives them, with activities on.
	_, _ = s.must("POST", "/v1/rewards", map[string]any{"name": "拿铁兑换券", "kind": "coupon", "points_cost": 300, "stock": 500, "per_member_limit": 2}, "demo-reward-1")
	_, _ = s.must("POST", "/v1/rewards", map[string]any{"name": "品牌帆布袋", "kind": "gift", "points_cost": 1200, "stock": 80}, "demo-reward-2")
	// A campaign for the console's list (a draft: activating it would schedule runs).
	from := time.Date(s.o.Now.Year(), s.o.Now.Month(), s.o.Now.Day(), 0, 0, 0, 0, s.o.Zone).AddDate(0, 0, 1)
	_, _ = s.must("POST", "/v1/campaigns", map[string]any{"name": "早安签到提醒", "kind": "broadcast",
		"starts_at": from.UTC().Format(time.RFC3339), "ends_at": from.AddDate(0, 0, 7).UTC().Format(time.RFC3339),
		"schedule": map[string]any{"cron": "0 9 * * ? *"}, "audience": map[string]any{"all": true},
		"message": map[string]any{"text": "早安！今日签到送积分"}}, "demo-campaign-1")
	return nil
}

func (s *seeder) chat(kind string, m member, text string, at time.Time, id string) error {
	s.at(at)
	g := s.groups[m.group]
	ev := map[string]any{"id": id, "type": kind, "platform": "telegram", "chat_id": g["external_chat_id"],
		"user": map[string]any{"id": m.tg}, "timestamp": at.UTC().Format(time.RFC3339)}
	if text != "" {
		ev["text"] = text
	}
	if kind == "member.joined" {
		ev["state"] = m.channel
	}
	s.res.ChatEvents++
	return s.signed("/v1/webhooks/chat/"+s.chatID, s.chatSec, ev)
}

func (s *seeder) day(d int, day time.Time, last bool, now time.Time) error {
	r := s.rng
	clip := func(t time.Time) time.Time {
		if last && t.After(now) {
			return now.Add(-time.Minute)
		}
		return t
	}
	// Arrivals grow over the month, more at weekends.
	n := s.o.MembersPerDay*(2+d*2/s.o.Days)/3 + r.IntN(s.o.MembersPerDay/2+1)
	if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
		n += s.o.MembersPerDay / 3
	}
	for i := 0; i < n; i++ {
		at := clip(day.Add(time.Duration(r.IntN(11*60)) * time.Minute))
		s.at(at)
		k := len(s.members)
		ch := s.channels[r.IntN(len(s.channels))]
		name := string(surnames[r.IntN(len(surnames))]) + given[r.IntN(len(given))]
		// No channel on the member: the join's state (the channel code in the QR
		// code) attributes it, as a scan of a channel code would.
		body := map[string]any{"name": name, "tags": []string{tags[r.IntN(len(tags))]},
			"identities": []map[string]any{{"provider": "telegram", "external_id": fmt.Sprintf("tg-%d", k)}, {"provider": "generic", "external_id": fmt.Sprintf("cust-%d", k)}}}
		out, err := s.must("POST", "/v1/members", body, fmt.Sprintf("demo-member-%d", k))
		if err != nil {
			return err
		}
		m := member{id: out["id"].(string), tg: fmt.Sprintf("tg-%d", k), cust: fmt.Sprintf("cust-%d", k), group: weighted(r, len(s.groups)), channel: ch}
		s.members = append(s.members, m)
		// The poster's landing page, scanned with the member's channel (a live-code
		// scan and a channel scan); about one person in two more scans and goes.
		for j := 0; s.liveCode != "" && j < 1+r.IntN(3)/2; j++ {
			s.res.Scans++
			if _, _, err := s.call("GET", "/l/"+s.liveCode+"?channel="+ch, nil, "", "Authorization", ""); err != nil {
				return err
			}
		}
		if r.IntN(10) < 8 {
			if err := s.chat("member.joined", m, "", at.Add(3*time.Minute), fmt.Sprintf("join-%d", k)); err != nil {
				return err
			}
		}
	}
	// The day's chatter, check-ins and the odd advert.
	for i := 0; i < len(s.members)/4+3 && len(s.members) > 0; i++ {
		m := s.members[r.IntN(len(s.members))]
		at := clip(day.Add(time.Duration(60+r.IntN(11*60)) * time.Minute))
		text := chatter[r.IntN(len(chatter))]
		switch x := r.IntN(100); {
		case x < 30:
			text = "签到"
		case x < 33:
			text = "加我微信领红包 https://spam.example.com/promo"
		}
		if err := s.chat("message.posted", m, text, at, fmt.Sprintf("msg-%d-%d", d, i)); err != nil {
			return err
		}
	}
	// Orders: first orders from recent arrivals, repeats from earlier buyers.
	for i := 0; i < len(s.members)/12+2 && len(s.members) > 0; i++ {
		idx := r.IntN(len(s.members))
		m := &s.members[idx]
		at := clip(day.Add(time.Duration(120+r.IntN(10*60)) * time.Minute))
		s.at(at)
		m.orders++
		total := 2800 + r.IntN(40)*500
		ev := map[string]any{"id": fmt.Sprintf("evt-%d-%d", d, i), "type": "order.paid", "created_at": at.UTC().Format(time.RFC3339),
			"data": map[string]any{"order_id": fmt.Sprintf("D-%d-%d", d, i), "currency": "CNY", "total_minor": total,
				"paid_at": at.UTC().Format(time.RFC3339), "customer": map[string]any{"id": m.cust}}}
		if err := s.signed("/v1/webhooks/generic/"+s.shopID, s.shopSec, ev); err != nil {
			return err
		}
		s.res.Orders++
	}
	return nil
}

// weighted picks a group, the first ones (the live code's) more often.
func weighted(r *rand.Rand, n int) int {
	if r.IntN(2) == 0 {
		return r.IntN(2)
	}
	return r.IntN(n)
}

// Staff creates a staff login (an owner) through the API with the tenant's admin
// key; one that exists already (same email) is left as it is.
func Staff(gateway http.Handler, key, email, password string) error {
	s := &seeder{o: Options{Gateway: gateway, Key: key}}
	code, out, err := s.call("POST", "/v1/staff", map[string]any{"email": email, "name": "演示运营", "role": "owner", "password": password}, "")
	if err != nil {
		return err
	}
	if code != http.StatusCreated && code != http.StatusConflict {
		return fmt.Errorf("demo: create staff: %d %v", code, out)
	}
	return nil
}
