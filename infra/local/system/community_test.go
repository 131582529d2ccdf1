package system_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/shared/chat/wecom"
	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/tribesig"
)

// robot is a fake WeCom group robot: it records what Tribe posts.
type robot struct {
	*httptest.Server
	mu   sync.Mutex
	msgs []string
}

func newRobot(t *testing.T) *robot {
	t.Helper()
	r := &robot{}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct {
			MsgType string `json:"msgtype"`
			Text    struct {
				Content string `json:"content"`
			} `json:"text"`
		}
		raw, _ := io.ReadAll(req.Body)
		if req.URL.Path != "/cgi-bin/webhook/send" || req.URL.Query().Get("key") == "" || json.Unmarshal(raw, &body) != nil || body.MsgType != "text" {
			http.Error(w, `{"errcode":40008,"errmsg":"invalid message"}`, http.StatusOK)
			return
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, body.Text.Content)
		r.mu.Unlock()
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *robot) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// sender sends every connection to the fake, whatever host it names, so the
// connectors keep the platforms' real URLs and are validated as in production.
func (r *robot) sender(t *testing.T) *connector.Sender {
	t.Helper()
	tr := r.Client().Transport.(*http.Transport).Clone()
	addr := r.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig.ServerName = "example.com"
	snd, err := connector.NewSender(connector.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		t.Fatal(err)
	}
	return snd
}

// newCommunityStand is newStand with outbound messages going to a fake robot.
func newCommunityStand(t *testing.T, bot *robot) *stand {
	t.Helper()
	return newStand(t, "CNY", system.WithSender(bot.sender(t)))
}

// WeCom's documented sample app settings.
const (
	weToken  = "QDG6eK"
	weAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	weCorpID = "wx5823bf96d3bd56c7"
)

// weComPost encrypts an inner event from events/chat/wecom and posts it as WeCom
// would.
func (s *stand) weComPost(integ, file string) (int, string) {
	s.t.Helper()
	code, body, _ := s.weComPostAt(integ, file, strconv.FormatInt(s.st.Now().Unix(), 10))
	return code, body
}

// weComPostAt is weComPost with the signed timestamp ts; it also returns the
// response's content type.
func (s *stand) weComPostAt(integ, file, ts string) (int, string, string) {
	s.t.Helper()
	inner, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "chat", "wecom", file))
	if err != nil {
		s.t.Fatal(err)
	}
	return s.weComPostRaw(integ, inner, ts)
}

// weComPostRaw encrypts inner and posts it as WeCom would, signed at ts.
func (s *stand) weComPostRaw(integ string, inner []byte, ts string) (int, string, string) {
	s.t.Helper()
	cr, err := wecom.NewCrypter(weToken, weAESKey, weCorpID)
	if err != nil {
		s.t.Fatal(err)
	}
	nonce := "1372623149"
	sealed, err := cr.Encrypt(inner, ts, nonce)
	if err != nil {
		s.t.Fatal(err)
	}
	var env struct {
		Encrypt      string `xml:"Encrypt"`
		MsgSignature string `xml:"MsgSignature"`
	}
	if err := xml.Unmarshal(sealed, &env); err != nil {
		s.t.Fatal(err)
	}
	body := "<xml><ToUserName><![CDATA[" + weCorpID + "]]></ToUserName><AgentID><![CDATA[218]]></AgentID><Encrypt><![CDATA[" + env.Encrypt + "]]></Encrypt></xml>"
	q := url.Values{"msg_signature": {env.MsgSignature}, "timestamp": {ts}, "nonce": {nonce}}
	req := httptest.NewRequest("POST", "/v1/webhooks/wecom/"+integ+"?"+q.Encode(), strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml")
	w := httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, req)
	return w.Code, w.Body.String(), w.Header().Get("Content-Type")
}

func (s *stand) chatPost(integ, secret string, event map[string]any) int {
	s.t.Helper()
	body, _ := json.Marshal(event)
	req := httptest.NewRequest("POST", "/v1/webhooks/chat/"+integ, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(tribesig.Header, tribesig.Sign(secret, s.st.Now(), body))
	w := httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, req)
	return w.Code
}

// TestWeComJoinEndToEnd: a WeCom contact added through a channel code, then a group
// join → members created with their identities, attributed to the channel, placed
// in the group (counted once however often WeCom retries), welcomed through the
// group's robot, and counted in the channel funnel.
func TestWeComJoinEndToEnd(t *testing.T) {
	bot := newRobot(t)
	s := newCommunityStand(t, bot)
	code, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "wecom", "token": weToken, "encoding_aes_key": weAESKey, "corp_id": weCorpID})
	if code != 201 || ig["secret"] != nil || strings.Contains(toJSON(ig), weAESKey) {
		t.Fatalf("wecom integration: %d %v", code, ig)
	}
	integ := ig["id"].(string)
	code, con := s.call("POST", "/v1/connectors", map[string]any{"name": "group robot", "kind": "wecom_robot", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"})
	if code != 201 {
		t.Fatalf("connector: %d %v", code, con)
	}
	code, ch := s.call("POST", "/v1/channels", map[string]any{"name": "test poster", "code": "teststate"})
	if code != 201 {
		t.Fatalf("channel: %d %v", code, ch)
	}
	code, g := s.call("POST", "/v1/groups", map[string]any{"platform": "wecom", "external_chat_id": "CHAT_ID", "type": "brand",
		"naming": map[string]any{"region": "上海", "category": "咖啡", "number": 1}, "connector_id": con["id"],
		"rules": "不发广告", "welcome_template": "欢迎 {name} 加入{group}，群规：{rules}"})
	if code != 201 || g["name"] != "上海咖啡品专1群" {
		t.Fatalf("group: %d %v", code, g)
	}

	// WeCom's URL verification.
	cr, _ := wecom.NewCrypter(weToken, weAESKey, weCorpID)
	sealed, _ := cr.Encrypt([]byte("1616140317555161061"), "1409659589", "263014780")
	var env struct{ Encrypt, MsgSignature string }
	_ = xml.Unmarshal(sealed, &env)
	q := url.Values{"msg_signature": {env.MsgSignature}, "timestamp": {"1409659589"}, "nonce": {"263014780"}, "echostr": {env.Encrypt}}
	w := httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, httptest.NewRequest("GET", "/v1/webhooks/wecom/"+integ+"?"+q.Encode(), nil))
	if w.Code != 200 || w.Body.String() != "1616140317555161061" {
		t.Fatalf("URL verification: %d %q", w.Code, w.Body.String())
	}
	q.Set("msg_signature", strings.Repeat("0", 40))
	w = httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, httptest.NewRequest("GET", "/v1/webhooks/wecom/"+integ+"?"+q.Encode(), nil))
	if w.Code != 401 {
		t.Fatalf("tampered URL verification: %d", w.Code)
	}

	if code, body := s.weComPost(integ, "add_external_contact.xml"); code != 200 || body != "success" {
		t.Fatalf("add_external_contact: %d %s", code, body)
	}
	for i := 0; i < 3; i++ { // WeCom retries until it hears success in time
		if code, _ := s.weComPost(integ, "external_chat_add_member.xml"); code != 200 {
			t.Fatalf("add_member: %d", code)
		}
	}
	s.drain()

	code, m := s.call("GET", "/v1/members/lookup?provider=wecom&external_id=woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA", nil)
	if code != 200 || m["channel"] != "teststate" {
		t.Fatalf("contact: %d %v", code, m)
	}
	_, g = s.call("GET", "/v1/groups/"+g["id"].(string), nil)
	if g["members"] != float64(2) {
		t.Errorf("group members = %v, want 2 (Jack and Rose, once)", g["members"])
	}
	_, list := s.call("GET", "/v1/groups/"+g["id"].(string)+"/members", nil)
	if n := len(list["data"].([]any)); n != 2 {
		t.Errorf("memberships = %d", n)
	}
	msgs := bot.messages()
	if len(msgs) != 2 || !strings.Contains(msgs[0], "上海咖啡品专1群") || !strings.Contains(msgs[0], "不发广告") {
		t.Errorf("welcome messages: %q", msgs)
	}
	_, dl := s.call("GET", "/v1/deliveries", nil)
	if n := len(dl["data"].([]any)); n != 2 {
		t.Errorf("deliveries = %d", n)
	}
	// The counters count a contact on the day its member arrived (here: today,
	// though WeCom's sample events are from 2014), once, off the member's change.
	today := s.st.Now().Format(time.DateOnly)
	_, stats := s.call("GET", "/v1/channels/"+ch["id"].(string)+"/stats?from="+s.st.Now().AddDate(0, 0, -1).Format(time.DateOnly)+"&to="+today, nil)
	days := stats["data"].([]any)
	if len(days) != 1 || days[0].(map[string]any)["members_added"] != float64(1) {
		t.Errorf("channel stats: %v", stats)
	}
	// A leave takes the member out, once.
	for i := 0; i < 2; i++ {
		if code, _ := s.weComPost(integ, "external_chat_del_member.xml"); code != 200 {
			t.Fatalf("del_member: %d", code)
		}
	}
	s.drain()
	if _, g = s.call("GET", "/v1/groups/"+g["id"].(string), nil); g["members"] != float64(1) {
		t.Errorf("after a leave: members = %v, want 1", g["members"])
	}
}

// TestWeComStaleCallbackRefused: a correctly signed WeCom callback whose timestamp
// is more than 5 minutes from Tribe's clock (here WeCom's documented 2014 sample,
// a replay) is refused with a problem that says so, and nothing is stored.
func TestWeComStaleCallbackRefused(t *testing.T) {
	s := newStand(t, "CNY")
	code, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "wecom", "token": weToken, "encoding_aes_key": weAESKey, "corp_id": weCorpID})
	if code != 201 {
		t.Fatalf("wecom integration: %d %v", code, ig)
	}
	integ := ig["id"].(string)
	for _, ts := range []string{"1409659813", strconv.FormatInt(s.st.Now().Add(-6*time.Minute).Unix(), 10), strconv.FormatInt(s.st.Now().Add(6*time.Minute).Unix(), 10)} {
		code, body, ct := s.weComPostAt(integ, "add_external_contact.xml", ts)
		if code != 401 || ct != "application/problem+json" || !strings.Contains(body, `"code":"invalid_signature"`) || !strings.Contains(body, "5 minutes") {
			t.Errorf("timestamp %s: %d %s %s", ts, code, ct, body)
		}
	}
	s.drain()
	if code, _ := s.call("GET", "/v1/members/lookup?provider=wecom&external_id=woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA", nil); code != 404 {
		t.Errorf("a stale callback created a member: %d", code)
	}
	if code, body := s.weComPost(integ, "add_external_contact.xml"); code != 200 || body != "success" {
		t.Errorf("fresh callback: %d %s", code, body)
	}
}

// TestChatMessagesModerationAndCheckIn: generic chat messages from a tenant's bot:
// "签到" checks in, an ad is warned, recorded and costs points, a flood is caught,
// and an admin is exempt.
func TestChatMessagesModerationAndCheckIn(t *testing.T) {
	bot := newRobot(t)
	s := newCommunityStand(t, bot)
	_, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "chat", "name": "telegram bot"})
	integ, secret := ig["id"].(string), ig["secret"].(string)
	_, con := s.call("POST", "/v1/connectors", map[string]any{"name": "robot", "kind": "wecom_robot", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1"})
	_, g := s.call("POST", "/v1/groups", map[string]any{"platform": "telegram", "external_chat_id": "-100123", "name": "Coffee lovers", "connector_id": con["id"]})
	gid := g["id"].(string)
	now := time.Now().UTC()
	ev := func(id, user, text string, at time.Time) map[string]any {
		return map[string]any{"id": id, "type": "message.posted", "platform": "telegram", "chat_id": "-100123",
			"user": map[string]any{"id": user, "name": "U" + user}, "text": text, "timestamp": at.Format(time.RFC3339)}
	}
	// A member with points to lose.
	if code := s.chatPost(integ, secret, ev("m1", "42", "签到", now)); code != 200 {
		t.Fatalf("chat post: %d", code)
	}
	if code := s.chatPost(integ, secret, ev("m1", "42", "签到", now)); code != 200 {
		t.Fatalf("chat redelivery: %d", code)
	}
	s.drain()
	_, m := s.call("GET", "/v1/members/lookup?provider=telegram&external_id=42", nil)
	id := m["id"].(string)
	_, pts := s.call("GET", "/v1/members/"+id+"/points", nil)
	if pts["balance"] != float64(5) {
		t.Fatalf("after check-in: %v", pts)
	}
	s.call("POST", "/v1/members/"+id+"/points/adjust", map[string]any{"amount": 100, "reason": "gift"}, "Idempotency-Key", "gift")
	s.chatPost(integ, secret, ev("m2", "42", "加微信 abc123 代购优惠", now.Add(time.Second)))
	s.drain()
	_, v := s.call("GET", "/v1/groups/"+gid+"/violations", nil)
	vs := v["data"].([]any)
	if len(vs) != 1 || vs[0].(map[string]any)["rules"].([]any)[0] != "keywords" {
		t.Fatalf("violations: %v", v)
	}
	_, pts = s.call("GET", "/v1/members/"+id+"/points", nil)
	if pts["balance"] != float64(95) {
		t.Errorf("after the ad: %v (10 points deducted)", pts)
	}
	if msgs := bot.messages(); len(msgs) != 1 || !strings.Contains(msgs[0], "U42") {
		t.Errorf("warnings: %q", msgs)
	}
	// An admin may post links.
	s.call("PUT", "/v1/groups/"+gid+"/members/"+id, map[string]any{"role": "admin"})
	s.chatPost(integ, secret, ev("m3", "42", "官网 https://shop.example.com/sale", now.Add(2*time.Second)))
	s.drain()
	if _, v = s.call("GET", "/v1/groups/"+gid+"/violations", nil); len(v["data"].([]any)) != 1 {
		t.Errorf("an admin's link was recorded: %v", v)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestGroupPatchKeepsEveryField(t *testing.T) {
	s := newCommunityStand(t, newRobot(t))
	_, g := s.call("POST", "/v1/groups", map[string]any{"platform": "wechat", "name": "G"})
	id := g["id"].(string)
	rules := map[string]any{"links": map[string]any{"enabled": true, "actions": []string{"warn"}}}
	if code, out := s.call("PATCH", "/v1/groups/"+id, map[string]any{"join_url": "https://example.com/j", "moderation": rules}); code != 200 {
		t.Fatalf("patch: %d %v", code, out)
	}
	_, got := s.call("GET", "/v1/groups/"+id, nil)
	if got["join_url"] != "https://example.com/j" || got["moderation"] == nil {
		t.Errorf("after patch: %v", got)
	}
}

// TestLeavingUnknownCreatesNobody: a contact removal or a group leave of someone
// Tribe has never seen creates no member, while a join does; a known member's
// leave still takes them out of the group.
func TestLeavingUnknownCreatesNobody(t *testing.T) {
	bot := newRobot(t)
	s := newCommunityStand(t, bot)
	code, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "wecom", "token": weToken, "encoding_aes_key": weAESKey, "corp_id": weCorpID})
	if code != 201 {
		t.Fatalf("wecom integration: %d %v", code, ig)
	}
	weInteg := ig["id"].(string)
	_, ig = s.call("POST", "/v1/integrations", map[string]any{"provider": "chat", "name": "telegram bot"})
	chatInteg, secret := ig["id"].(string), ig["secret"].(string)
	_, wg := s.call("POST", "/v1/groups", map[string]any{"platform": "wecom", "external_chat_id": "CHAT_ID", "name": "WeCom group"})
	_, tg := s.call("POST", "/v1/groups", map[string]any{"platform": "telegram", "external_chat_id": "-100777", "name": "Telegram group"})

	// WeCom: the contact is removed and Rose leaves the group; neither is known.
	for _, file := range []string{"del_external_contact.xml", "external_chat_del_member.xml"} {
		if code, body := s.weComPost(weInteg, file); code != 200 || body != "success" {
			t.Fatalf("%s: %d %s", file, code, body)
		}
	}
	// Generic chat: user 77 leaves a group they were never seen joining.
	now := time.Now().UTC()
	ev := func(id, typ, user string) map[string]any {
		return map[string]any{"id": id, "type": typ, "platform": "telegram", "chat_id": "-100777",
			"user": map[string]any{"id": user, "name": "U" + user}, "timestamp": now.Format(time.RFC3339)}
	}
	if code := s.chatPost(chatInteg, secret, ev("l1", "member.left", "77")); code != 200 {
		t.Fatalf("chat post: %d", code)
	}
	s.drain()
	for _, who := range []struct{ provider, id string }{
		{"wecom", "woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA"}, {"wecom", "Rose"}, {"telegram", "77"},
	} {
		if code, m := s.call("GET", "/v1/members/lookup?provider="+who.provider+"&external_id="+who.id, nil); code != 404 {
			t.Errorf("%s/%s: %d %v, want 404 (nobody created)", who.provider, who.id, code, m)
		}
	}
	for _, g := range []map[string]any{wg, tg} {
		if _, got := s.call("GET", "/v1/groups/"+g["id"].(string), nil); got["members"] != float64(0) {
			t.Errorf("group %v members = %v, want 0", g["name"], got["members"])
		}
	}

	// A join creates them; their leave then takes them out again.
	s.chatPost(chatInteg, secret, ev("j1", "member.joined", "77"))
	s.drain()
	if code, m := s.call("GET", "/v1/members/lookup?provider=telegram&external_id=77", nil); code != 200 {
		t.Fatalf("after the join: %d %v", code, m)
	}
	if _, got := s.call("GET", "/v1/groups/"+tg["id"].(string), nil); got["members"] != float64(1) {
		t.Fatalf("after the join: members = %v, want 1", got["members"])
	}
	s.chatPost(chatInteg, secret, ev("l2", "member.left", "77"))
	s.drain()
	if _, got := s.call("GET", "/v1/groups/"+tg["id"].(string), nil); got["members"] != float64(0) {
		t.Errorf("after the leave: members = %v, want 0", got["members"])
	}
}
