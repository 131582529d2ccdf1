package system_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/shared/netguard"
	"github.com/tribehq/tribe/shared/wecom"
	"github.com/tribehq/tribe/shared/wecom/wecomfake"
)

const weAppSecret = "app-secret-for-tests"

// weComStand is a stand whose functions call a fake WeCom, with a WeCom
// integration that holds the app's secret.
type weComStand struct {
	*stand
	fake  *wecomfake.Server
	integ string
}

func newWeComStand(t *testing.T) *weComStand { t.Helper(); return newWeComStandIn(t, "CNY") }

func newWeComStandIn(t *testing.T, currency string) *weComStand {
	t.Helper()
	fake := wecomfake.New(weCorpID, weAppSecret)
	t.Cleanup(fake.Close)
	cs := wecom.NewClients(wecom.Config{BaseURL: fake.URL, Guard: netguard.New(netguard.AllowLoopback(), netguard.AllowHTTP()),
		Backoff: time.Millisecond, RatePerSecond: 1000, Burst: 1000})
	s := newStand(t, currency, system.WithWeCom(cs))
	code, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "wecom", "token": weToken, "encoding_aes_key": weAESKey,
		"corp_id": weCorpID, "corp_secret": weAppSecret})
	if code != 201 || ig["api_enabled"] != true || strings.Contains(toJSON(ig), weAppSecret) {
		t.Fatalf("wecom integration: %d %v", code, ig)
	}
	return &weComStand{stand: s, fake: fake, integ: ig["id"].(string)}
}

// callback posts a WeCom customer-contact event (inner XML fields) as WeCom
// would, signed now.
func (s *weComStand) callback(fields string) {
	s.t.Helper()
	inner := "<xml><ToUserName><![CDATA[" + weCorpID + "]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><MsgType><![CDATA[event]]></MsgType>" + fields + "</xml>"
	if code, body, _ := s.weComPostRaw(s.integ, []byte(inner), strconv.FormatInt(s.st.Now().Unix(), 10)); code != 200 || body != "success" {
		s.t.Fatalf("callback: %d %s", code, body)
	}
}

func addContactXML(user, external, state, welcome string, at int64) string {
	return fmt.Sprintf("<CreateTime>%d</CreateTime><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>"+
		"<UserID><![CDATA[%s]]></UserID><ExternalUserID><![CDATA[%s]]></ExternalUserID><State><![CDATA[%s]]></State><WelcomeCode><![CDATA[%s]]></WelcomeCode>",
		at, user, external, state, welcome)
}

// TestWeComChannelContactWay: a channel with wecom gets a 联系我 contact way
// (scene 2, state = its code), whose QR code it serves; PATCH changes it (and
// replaces it when it goes from one person to several); DELETE deletes it.
func TestWeComChannelContactWay(t *testing.T) {
	s := newWeComStand(t)
	code, ch := s.call("POST", "/v1/channels", map[string]any{"name": "Douyin", "code": "douyin_live", "wecom": map[string]any{"user_ids": []string{"li"}}})
	if code != 201 {
		t.Fatalf("channel: %d %v", code, ch)
	}
	w := ch["wecom"].(map[string]any)
	cfg := w["config_id"].(string)
	way, ok := s.fake.ContactWay(cfg)
	if !ok || way.Type != 1 || way.Scene != 2 || way.State != "douyin_live" || !way.SkipVerify || w["qr_code"] != way.QRCode || way.QRCode == "" {
		t.Fatalf("contact way %+v, channel %v", way, w)
	}
	id := ch["id"].(string)
	if code, got := s.call("GET", "/v1/channels/"+id, nil); code != 200 || got["wecom"].(map[string]any)["config_id"] != cfg {
		t.Fatalf("get: %d %v", code, got)
	}
	// Same type: updated in place.
	if code, got := s.call("PATCH", "/v1/channels/"+id, map[string]any{"name": "抖音", "wecom": map[string]any{"user_ids": []string{"wang"}, "skip_verify": false}}); code != 200 || got["name"] != "抖音" {
		t.Fatalf("patch: %d %v", code, got)
	}
	if way, _ := s.fake.ContactWay(cfg); way.SkipVerify || way.User[0] != "wang" {
		t.Fatalf("after update: %+v", way)
	}
	// One person to several: a new multi-person way replaces it.
	code, got := s.call("PATCH", "/v1/channels/"+id, map[string]any{"wecom": map[string]any{"user_ids": []string{"wang", "zhao"}}})
	if code != 200 {
		t.Fatalf("patch to multi: %d %v", code, got)
	}
	cfg2 := got["wecom"].(map[string]any)["config_id"].(string)
	if _, old := s.fake.ContactWay(cfg); old || cfg2 == cfg {
		t.Fatalf("old way kept (%v) or not replaced (%s)", old, cfg2)
	}
	if way, _ := s.fake.ContactWay(cfg2); way.Type != 2 || way.SkipVerify || way.State != "douyin_live" {
		t.Fatalf("multi way: %+v", way)
	}
	// WeCom's refusal is a 502 naming its errcode; bad input is a 400 naming the field.
	if code, p := s.call("POST", "/v1/channels", map[string]any{"name": "x", "code": "x1", "wecom": map[string]any{"user_ids": []string{}}}); code != 400 || p["field"] != "wecom.user_ids" {
		t.Fatalf("empty user_ids: %d %v", code, p)
	}
	s.fake.Busy(10)
	if code, p := s.call("POST", "/v1/channels", map[string]any{"name": "x", "code": "x2", "wecom": map[string]any{"user_ids": []string{"li"}}}); code != 502 || !strings.Contains(p["detail"].(string), "errcode -1") {
		t.Fatalf("busy WeCom: %d %v", code, p)
	}
	s.fake.Busy(0)
	if code, _ := s.call("GET", "/v1/channels/"+"chn_x2", nil); code != 404 {
		t.Fatalf("a refused channel stays: %d", code)
	}
	// Deleting the channel deletes the way; its code is free again.
	if code, _ := s.call("DELETE", "/v1/channels/"+id, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if _, kept := s.fake.ContactWay(cfg2); kept {
		t.Fatal("contact way kept after the channel was deleted")
	}
	if code, _ := s.call("POST", "/v1/channels", map[string]any{"name": "again", "code": "douyin_live"}); code != 201 {
		t.Fatalf("code not freed: %d", code)
	}
}

// TestWeComWelcomeOnce: a new contact with a welcome code gets the channel's
// welcome (or the tenant's default) once, however often WeCom delivers the
// callback, and the delivery log has it.
func TestWeComWelcomeOnce(t *testing.T) {
	s := newWeComStand(t)
	if code, out := s.call("PUT", "/v1/welcome", map[string]any{"text": "欢迎！"}); code != 200 {
		t.Fatalf("default welcome: %d %v", code, out)
	}
	_, ch := s.call("POST", "/v1/channels", map[string]any{"name": "store", "code": "store1"})
	if code, out := s.call("PUT", "/v1/channels/"+ch["id"].(string)+"/welcome", map[string]any{"text": "门店专属福利",
		"link": map[string]any{"title": "领券", "url": "https://shop.example.com/coupon"}}); code != 200 {
		t.Fatalf("channel welcome: %d %v", code, out)
	}
	if code, p := s.call("PUT", "/v1/welcome", map[string]any{"text": "x", "link": map[string]any{"title": "t", "url": "ftp://x"}}); code != 400 || p["field"] != "link.url" {
		t.Fatalf("bad link: %d %v", code, p)
	}
	s.fake.SetContact(wecom.ExternalContact{ExternalUserID: "wmStore", Name: "小李"})
	s.fake.SetContact(wecom.ExternalContact{ExternalUserID: "wmOther", Name: "小王"})
	s.fake.IssueWelcomeCode("WC-store")
	s.fake.IssueWelcomeCode("WC-other")
	now := time.Now().Unix()
	for i := 0; i < 3; i++ { // WeCom redelivers until it hears success in time
		s.callback(addContactXML("li", "wmStore", "store1", "WC-store", now))
	}
	// The same code in a callback that differs (another CreateTime): still once.
	s.callback(addContactXML("li", "wmStore", "store1", "WC-store", now+1))
	s.callback(addContactXML("li", "wmOther", "", "WC-other", now))
	s.drain()
	if n := s.fake.Calls("externalcontact/send_welcome_msg"); n != 2 {
		t.Fatalf("send_welcome_msg calls = %d, want 2", n)
	}
	m, ok := s.fake.Welcome("WC-store")
	if !ok || m.Text.Content != "门店专属福利" || len(m.Attachments) != 1 || m.Attachments[0].Link.URL != "https://shop.example.com/coupon" {
		t.Fatalf("channel welcome sent: %+v", m)
	}
	if m, _ := s.fake.Welcome("WC-other"); m.Text == nil || m.Text.Content != "欢迎！" {
		t.Fatalf("default welcome sent: %+v", m)
	}
	_, dl := s.call("GET", "/v1/deliveries", nil)
	n := 0
	for _, d := range dl["data"].([]any) {
		if d.(map[string]any)["kind"] == "wecom_api" && d.(map[string]any)["status"] == "delivered" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("welcome deliveries = %d, want 2: %v", n, dl)
	}
	// The profile named the member.
	code, mem := s.call("GET", "/v1/members/lookup?provider=wecom&external_id=wmStore", nil)
	if code != 200 || mem["name"] != "小李" || mem["channel"] != "store1" {
		t.Fatalf("member: %d %v", code, mem)
	}
}

// groupFixture fills the fake with 3 customer groups of 250 members in all:
// 100, 80 and 70, each with a staff owner, one staff admin and customers.
func groupFixture(fake *wecomfake.Server) {
	sizes := []int{100, 80, 70}
	for gi, n := range sizes {
		chat := fmt.Sprintf("wrChat%d", gi)
		g := wecom.GroupChat{ChatID: chat, Name: fmt.Sprintf("上海咖啡品专%d群", gi+1), Owner: fmt.Sprintf("owner%d", gi), CreateTime: 1700000000}
		g.MemberList = append(g.MemberList,
			wecom.GroupChatMember{UserID: fmt.Sprintf("owner%d", gi), Type: wecom.MemberStaff, JoinTime: 1700000000},
			wecom.GroupChatMember{UserID: fmt.Sprintf("admin%d", gi), Type: wecom.MemberStaff, JoinTime: 1700000000})
		for i := 2; i < n; i++ {
			g.MemberList = append(g.MemberList, wecom.GroupChatMember{UserID: fmt.Sprintf("wm%d_%03d", gi, i), Type: wecom.MemberExternal,
				JoinTime: 1700000100, JoinScene: 3, GroupNickname: fmt.Sprintf("客户%d", i)})
		}
		g.AdminList = append(g.AdminList, struct {
			UserID string `json:"userid"`
		}{fmt.Sprintf("admin%d", gi)})
		fake.SetGroup(g)
	}
}

// syncRun asks for a group sync, lets the jobworker work it, and returns the run.
func (s *weComStand) syncRun() map[string]any {
	s.t.Helper()
	code, run := s.call("POST", "/v1/groups/sync", nil)
	if code != 202 {
		s.t.Fatalf("sync: %d %v", code, run)
	}
	s.drain()
	code, got := s.call("GET", "/v1/group-syncs/"+run["run"].(string), nil)
	if code != 200 || got["status"] != "done" {
		s.t.Fatalf("sync run: %d %v", code, got)
	}
	return got
}

// groupsByChat returns the Tribe groups by WeCom chat id, with their members
// (member id → role) and the members' WeCom user ids.
func (s *weComStand) groupsByChat() map[string]map[string]string {
	s.t.Helper()
	_, list := s.call("GET", "/v1/groups?limit=100", nil)
	out := map[string]map[string]string{}
	for _, gv := range list["data"].([]any) {
		g := gv.(map[string]any)
		roles := map[string]string{}
		cursor := ""
		for {
			_, ms := s.call("GET", "/v1/groups/"+g["id"].(string)+"/members?limit=100&cursor="+cursor, nil)
			for _, mv := range ms["data"].([]any) {
				m := mv.(map[string]any)
				roles[m["member_id"].(string)] = m["role"].(string)
			}
			next, _ := ms["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if float64(len(roles)) != g["members"] {
			s.t.Errorf("group %v: count %v, %d memberships", g["name"], g["members"], len(roles))
		}
		out[g["external_chat_id"].(string)] = roles
	}
	return out
}

func (s *weComStand) memberOf(external string) string {
	s.t.Helper()
	// From the store: 250 lookups through the API would meet the tenant's rate limit.
	tn, err := s.st.Tenant(s.tenant)
	if err != nil {
		s.t.Fatal(err)
	}
	id, err := tn.LookupIdentity(context.Background(), "wecom", external)
	if err != nil {
		s.t.Fatalf("lookup %s: %v", external, err)
	}
	return id.MemberID
}

// checkGroups compares Tribe's groups with the fake's: the same members, the
// owner as owner, admins as admin, the others normal.
func (s *weComStand) checkGroups(want ...string) {
	s.t.Helper()
	got := s.groupsByChat()
	if len(got) != len(want) {
		s.t.Fatalf("groups = %d, want %d", len(got), len(want))
	}
	total := 0
	for _, chat := range want {
		g, _ := s.fake.Group(chat)
		roles := got[chat]
		if len(roles) != len(g.MemberList) {
			s.t.Errorf("%s: %d members, WeCom has %d", chat, len(roles), len(g.MemberList))
		}
		admins := map[string]bool{}
		for _, a := range g.AdminList {
			admins[a.UserID] = true
		}
		for _, m := range g.MemberList {
			role := roles[s.memberOf(m.UserID)]
			want := "normal"
			if m.UserID == g.Owner {
				want = "owner"
			} else if admins[m.UserID] {
				want = "admin"
			}
			if role != want {
				s.t.Errorf("%s: %s is %q, want %q", chat, m.UserID, role, want)
			}
		}
		total += len(roles)
	}
	s.t.Logf("groups %d, memberships %d", len(got), total)
}

// TestWeComGroupSyncReconcilesExactly: a sync of 3 groups and 250 members makes
// Tribe's groups match WeCom's exactly — members, owners, admins, and a member
// Tribe had that WeCom no longer lists taken out — and a second sync changes
// nothing. A change_external_chat member change syncs that one group.
func TestWeComGroupSyncReconcilesExactly(t *testing.T) {
	s := newWeComStand(t)
	groupFixture(s.fake)
	// A join Tribe saw whose leave it missed: member X in group 0 before the sync.
	_, g0 := s.call("POST", "/v1/groups", map[string]any{"platform": "wecom", "external_chat_id": "wrChat0", "name": "old name"})
	_, x := s.call("POST", "/v1/members", map[string]any{"name": "X", "identities": []map[string]any{{"provider": "wecom", "external_id": "wmGone"}}})
	if code, out := s.call("PUT", "/v1/groups/"+g0["id"].(string)+"/members/"+x["id"].(string), map[string]any{}); code >= 300 {
		t.Fatalf("join: %d %v", code, out)
	}
	start := time.Now()
	first := s.syncRun()
	t.Logf("first sync: %v in %s", first, time.Since(start).Round(time.Millisecond))
	if first["groups"] != float64(3) || first["changed"] != float64(3) || first["failed"] != float64(0) {
		t.Fatalf("first sync: %v", first)
	}
	s.checkGroups("wrChat0", "wrChat1", "wrChat2")
	if _, g := s.call("GET", "/v1/groups/"+g0["id"].(string), nil); g["name"] != "上海咖啡品专1群" || g["members"] != float64(100) {
		t.Fatalf("group 0 after sync: %v", g)
	}
	calls := s.fake.Calls("externalcontact/groupchat/get")
	second := s.syncRun()
	if second["groups"] != float64(3) || second["changed"] != float64(0) {
		t.Fatalf("second sync changed something: %v", second)
	}
	if n := s.fake.Calls("externalcontact/groupchat/get") - calls; n != 3 {
		t.Fatalf("second sync read %d groups", n)
	}
	s.checkGroups("wrChat0", "wrChat1", "wrChat2")

	// At WeCom: two leave group 1, one joins, the admin changes; the callback
	// (without a member list, as WeCom may send it) syncs that group alone.
	g1, _ := s.fake.Group("wrChat1")
	g1.MemberList = append(g1.MemberList[:10], g1.MemberList[12:]...)
	g1.MemberList = append(g1.MemberList, wecom.GroupChatMember{UserID: "wmNew", Type: wecom.MemberExternal, JoinTime: time.Now().Unix()})
	g1.AdminList[0].UserID = "wm1_005"
	s.fake.SetGroup(g1)
	s.callback(fmt.Sprintf("<CreateTime>%d</CreateTime><Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[wrChat1]]></ChatId>"+
		"<ChangeType><![CDATA[update]]></ChangeType><UpdateDetail><![CDATA[add_member]]></UpdateDetail><JoinScene>3</JoinScene><MemChangeCnt>1</MemChangeCnt>", time.Now().Unix()))
	before := s.fake.Calls("externalcontact/groupchat/get")
	s.drain()
	if n := s.fake.Calls("externalcontact/groupchat/get") - before; n != 1 {
		t.Fatalf("the callback read %d groups, want 1", n)
	}
	s.checkGroups("wrChat0", "wrChat1", "wrChat2")
	third := s.syncRun()
	if third["changed"] != float64(0) {
		t.Fatalf("after the callback's sync a full sync changed %v", third)
	}
}

// TestWeComUnionIDMergesIntoShopifyMember: a shop member whose app reported the
// person's WeChat unionid, and the same person as a WeCom member (from a group),
// become one member when the WeCom contact's profile shows that unionid: the
// WeCom member is merged into the shop member, points and groups intact, and the
// merge is in the audit log.
func TestWeComUnionIDMergesIntoShopifyMember(t *testing.T) {
	s := newWeComStandIn(t, "USD")
	code, shop := s.call("POST", "/v1/integrations", map[string]any{"provider": "shopify", "secret": shopifySecret})
	if code != 201 {
		t.Fatalf("shop: %d %v", code, shop)
	}
	if code, out := s.call("PUT", "/v1/identity/rules", map[string]any{"link_unverified_email": false, "link_unverified_phone": false, "link_unionid": true}); code != 200 {
		t.Fatalf("rules: %d %v", code, out)
	}
	shopifyOrder(t, s.stand, shop["id"].(string), "5001", "lilei@example.com",
		`{"id":4242,"email":"lilei@example.com","verified_email":true,"first_name":"Lei","last_name":"Li"}`, "120.00")
	code, shopMember := lookup(t, s.stand, "shopify", "4242")
	if code != 200 {
		t.Fatalf("shop member: %d", code)
	}
	points := balance(t, s.stand, shopMember)
	if points <= 0 {
		t.Fatalf("shop member has %v points", points)
	}
	if code, out := s.call("POST", "/v1/members/"+shopMember+"/identities", map[string]any{"provider": "wechat_unionid", "external_id": "oUnion42"}); code >= 300 {
		t.Fatalf("unionid identity: %d %v", code, out)
	}
	_, shopGroup := s.call("POST", "/v1/groups", map[string]any{"platform": "telegram", "external_chat_id": "-1009", "name": "VIP"})
	if code, out := s.call("PUT", "/v1/groups/"+shopGroup["id"].(string)+"/members/"+shopMember, map[string]any{}); code >= 300 {
		t.Fatalf("join: %d %v", code, out)
	}
	// The same person in a WeCom group, known there only by their WeCom id.
	s.fake.SetGroup(wecom.GroupChat{ChatID: "wrLiLei", Name: "品专群", Owner: "li", MemberList: []wecom.GroupChatMember{
		{UserID: "li", Type: wecom.MemberStaff, JoinTime: 1700000000},
		{UserID: "wmLiLei", Type: wecom.MemberExternal, JoinTime: 1700000100},
	}})
	s.syncRun()
	weComMember := s.memberOf("wmLiLei")
	if weComMember == shopMember {
		t.Fatal("linked before the profile was read")
	}
	// They add a staff member: the profile carries the unionid.
	s.fake.SetContact(wecom.ExternalContact{ExternalUserID: "wmLiLei", Name: "李雷", UnionID: "oUnion42"})
	s.callback(addContactXML("li", "wmLiLei", "", "", time.Now().Unix()))
	s.drain()
	if got := s.memberOf("wmLiLei"); got != shopMember {
		t.Fatalf("WeCom id belongs to %s, want the shop member %s", got, shopMember)
	}
	if got := balance(t, s.stand, shopMember); got != points {
		t.Fatalf("points %v, want %v", got, points)
	}
	_, gs := s.call("GET", "/v1/members/"+shopMember+"/groups", nil)
	if n := len(gs["data"].([]any)); n != 2 {
		t.Fatalf("survivor in %d groups, want 2: %v", n, gs)
	}
	if _, m := s.call("GET", "/v1/members/"+weComMember, nil); m["status"] != "merged" || m["merged_into"] != shopMember {
		t.Fatalf("WeCom member: %v", m)
	}
	_, audit := s.call("GET", "/v1/audit-log", nil)
	found := false
	for _, e := range audit["data"].([]any) {
		if e := e.(map[string]any); e["action"] == "linkIdentity" && e["target"] == shopMember && e["actor"] == "wecom" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no linkIdentity audit entry: %v", audit)
	}
	// The redelivered callback changes nothing.
	s.callback(addContactXML("li", "wmLiLei", "", "", time.Now().Unix()+5))
	s.drain()
	if got := balance(t, s.stand, shopMember); got != points {
		t.Fatalf("after a redelivery: points %v", got)
	}
}

// TestWeComLiveCodeJoinWay: a live code backed by a WeCom group join way lists
// the pool's groups with room (scene 2, state from the live code), serves
// WeCom's QR, rotates a group out when a join fills it (the callback's sync) and
// is deleted at WeCom with the join way.
func TestWeComLiveCodeJoinWay(t *testing.T) {
	s := newWeComStand(t)
	for i, n := range []int{3, 2, 2} {
		g := wecom.GroupChat{ChatID: fmt.Sprintf("wrLC%d", i), Name: fmt.Sprintf("群%d", i), Owner: "li"}
		g.MemberList = append(g.MemberList, wecom.GroupChatMember{UserID: "li", Type: wecom.MemberStaff})
		for j := 1; j < n; j++ {
			g.MemberList = append(g.MemberList, wecom.GroupChatMember{UserID: fmt.Sprintf("wmLC%d_%d", i, j), Type: wecom.MemberExternal})
		}
		s.fake.SetGroup(g)
	}
	s.syncRun()
	byChat := map[string]string{}
	_, list := s.call("GET", "/v1/groups", nil)
	for _, g := range list["data"].([]any) {
		byChat[g.(map[string]any)["external_chat_id"].(string)] = g.(map[string]any)["id"].(string)
	}
	// Group 0 fills at 4 members, group 1 is full already (2 of 2), group 2 has room.
	_, lc := s.call("POST", "/v1/live-codes", map[string]any{"name": "poster", "pool": []map[string]any{
		{"group_id": byChat["wrLC0"], "scan_threshold": 4}, {"group_id": byChat["wrLC1"], "scan_threshold": 2}, {"group_id": byChat["wrLC2"]}}})
	code := lc["code"].(string)
	if c, p := s.call("PUT", "/v1/live-codes/"+code+"/wecom", map[string]any{"auto_create_room": true}); c != 400 || p["field"] != "room_base_name" {
		t.Fatalf("auto_create_room without a name: %d %v", c, p)
	}
	c, jw := s.call("PUT", "/v1/live-codes/"+code+"/wecom", map[string]any{"auto_create_room": true, "room_base_name": "上海咖啡品专", "room_base_id": 10})
	if c != 200 {
		t.Fatalf("join way: %d %v", c, jw)
	}
	cfg := jw["config_id"].(string)
	way, ok := s.fake.JoinWay(cfg)
	if !ok || way.Scene != 2 || way.AutoCreateRoom != 1 || way.RoomBaseName != "上海咖啡品专" || way.RoomBaseID != 10 ||
		len(way.State) > 30 || !strings.HasPrefix(way.State, "lc.") || strings.Join(way.ChatIDList, ",") != "wrLC0,wrLC2" || jw["qr_code"] != way.QRCode {
		t.Fatalf("join way at WeCom: %+v, Tribe: %v", way, jw)
	}
	req := httptestRequest("GET", "/v1/live-codes/"+code+"/qr.png", s.key)
	w := serve(s.stand, req)
	if w.Code != 302 || w.Header().Get("Location") != way.QRCode {
		t.Fatalf("qr.png: %d %s", w.Code, w.Header().Get("Location"))
	}
	// A join fills group 0: the callback's sync rotates it out.
	g0, _ := s.fake.Group("wrLC0")
	g0.MemberList = append(g0.MemberList, wecom.GroupChatMember{UserID: "wmLCnew", Type: wecom.MemberExternal})
	s.fake.SetGroup(g0)
	s.callback(fmt.Sprintf("<CreateTime>%d</CreateTime><Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[wrLC0]]></ChatId>"+
		"<ChangeType><![CDATA[update]]></ChangeType><UpdateDetail><![CDATA[add_member]]></UpdateDetail><MemChangeCnt>1</MemChangeCnt>"+
		"<MemChangeList><Item><![CDATA[wmLCnew]]></Item></MemChangeList>", time.Now().Unix()))
	s.drain()
	if way, _ := s.fake.JoinWay(cfg); strings.Join(way.ChatIDList, ",") != "wrLC2" || way.AutoCreateRoom != 1 {
		t.Fatalf("after group 0 filled: %+v", way)
	}
	// A bigger threshold for group 1 through PATCH: it rotates in.
	if c, out := s.call("PATCH", "/v1/live-codes/"+code, map[string]any{"pool": []map[string]any{
		{"group_id": byChat["wrLC0"], "scan_threshold": 4}, {"group_id": byChat["wrLC1"], "scan_threshold": 50}, {"group_id": byChat["wrLC2"]}}}); c != 200 {
		t.Fatalf("patch pool: %d %v", c, out)
	}
	if way, _ := s.fake.JoinWay(cfg); strings.Join(way.ChatIDList, ",") != "wrLC1,wrLC2" {
		t.Fatalf("after the pool changed: %+v", way)
	}
	if c, _ := s.call("DELETE", "/v1/live-codes/"+code+"/wecom", nil); c != 204 {
		t.Fatalf("delete: %d", c)
	}
	if _, kept := s.fake.JoinWay(cfg); kept {
		t.Fatal("join way kept at WeCom")
	}
	if c, _ := s.call("GET", "/v1/live-codes/"+code+"/wecom", nil); c != 404 {
		t.Fatalf("join way record kept: %d", c)
	}
}

func httptestRequest(method, path, key string) *http.Request {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	return req
}

func serve(s *stand, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, req)
	return w
}

// TestWeComDailySync: the daily wecomsync schedule plans a sync for every
// tenant; the jobworker syncs the groups of those with a WeCom app secret.
func TestWeComDailySync(t *testing.T) {
	s := newWeComStand(t)
	s.fake.SetGroup(wecom.GroupChat{ChatID: "wrDaily", Name: "每日群", Owner: "li", AdminList: nil,
		MemberList: []wecom.GroupChatMember{{UserID: "li", Type: wecom.MemberStaff}, {UserID: "wmDaily", Type: wecom.MemberExternal}}})
	if err := s.sys.Invoke(context.Background(), "wecomsync", []byte(`{"scheduled_time":"2026-11-28T02:40:00Z"}`)); err != nil {
		t.Fatal(err)
	}
	s.drain()
	_, list := s.call("GET", "/v1/groups", nil)
	groups := list["data"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["name"] != "每日群" || groups[0].(map[string]any)["members"] != float64(2) {
		t.Fatalf("groups after the daily sync: %v", groups)
	}
}

// drain is stand.drain with more time: a sync of 250 members through the
// jobworker takes several seconds on DynamoDB Local, more on a busy machine.
func (s *weComStand) drain() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := s.pump.Drain(ctx); err != nil {
		s.t.Fatal(err)
	}
	for _, c := range []string{"community", "jobworker", "ledger"} {
		if dl := s.pump.DeadLetters(c); len(dl) > 0 {
			s.t.Fatalf("%s dead letters: %+v", c, dl)
		}
	}
}
