package system_test

import (
	"fmt"
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

func newWeComStand(t *testing.T) *weComStand {
	t.Helper()
	fake := wecomfake.New(weCorpID, weAppSecret)
	t.Cleanup(fake.Close)
	cs := wecom.NewClients(wecom.Config{BaseURL: fake.URL, Guard: netguard.New(netguard.AllowLoopback(), netguard.AllowHTTP()),
		Backoff: time.Millisecond, RatePerSecond: 1000, Burst: 1000})
	s := newStand(t, "CNY", system.WithWeCom(cs))
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
