// Package wecomfake is a WeCom server API for tests (net/http/httptest): the
// request and response shapes of every endpoint Tribe's client uses, WeCom's
// error codes for bad tokens, busy answers and bad parameters, and switches to
// expire every token mid-run and to answer busy.
//
// Error codes it answers, with their meaning on WeCom's 全局错误码 page
// (https://developer.work.weixin.qq.com/document/path/90313; read through the
// copy generated from it in github.com/xen0n/go-workwx errcodes/mod.go, crawled
// 2023-08-20, and community answers where noted):
//
//   - 41001 缺少access_token参数, 40014 不合法的access_token, 42001 access_token已过期,
//     40013 不合法的CorpID, 40001 不合法的secret参数, -1 系统繁忙 (when set busy).
//   - 40058 不合法的参数: the page lists invalid JSON, a value over its length or
//     count limit, a required value left empty and a GET where POST is required
//     among its causes; the fake answers it for those.
//   - 41037/41038 缺少「联系我」type/scene, 41039/41040 无效的「联系我」type/scene,
//     41044 无效的「联系我」config_id: contact ways.
//   - 41091 配置客户群进群方式最多只能关联5个群: a join way with more than 5 chats.
//   - 40050 chatid不存在: groupchat/get of an unknown chat (WeCom answers
//     "invalid group id", https://developers.weixin.qq.com/community/enterprisewechat/doc/000ccaf35c43c0c7e85a5a78251800).
//     Unverified: that add_join_way/update_join_way answer 40050 for an unknown
//     chat id, and which code a join way's unknown config_id gets (the fake
//     answers 40058).
//   - 50100 分页查询的游标无效: groupchat/list with a cursor it did not hand out.
//   - 84061 不存在外部联系人的关系: externalcontact/get of an unknown contact.
//   - 41050 无效的欢迎语code ("welcome_code具有时效性，须在添加好友后20秒内使用"):
//     a welcome code unknown or older than 20 s.
//   - 41051 客户和服务人员已经开始聊天了: a welcome code used already. The
//     send_welcome_msg page (https://developer.work.weixin.qq.com/document/path/92137,
//     as quoted in hex.pm wechat_sdk 0.12.5 welcome.ex) says only the first call
//     with a code succeeds and later ones get 41051 (externaluser has started
//     chatting).
//   - 60011 指定的成员/部门/标签参数无权限: a path the fake does not serve.
package wecomfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tribehq/tribe/shared/wecom"
)

// TokenTTL is expires_in of the tokens the fake issues.
const TokenTTL = 7200 * time.Second

// Server is the fake. Its fields are read and set through its methods.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	now      func() time.Time
	corps    map[string]string // corp id → app secret
	tokens   map[string]token
	busy     int
	busyCode int
	calls    map[string]int
	seq      int
	ways     map[string]wecom.ContactWay
	joinWays map[string]wecom.JoinWay
	groups   map[string]wecom.GroupChat
	contacts map[string]wecom.ExternalContact
	codes    map[string]time.Time // welcome code → issued
	welcomes map[string]wecom.WelcomeMsg
}

type token struct {
	corp    string
	expires time.Time
}

// New starts a fake for one corp and its app secret.
func New(corp, secret string) *Server {
	f := &Server{now: time.Now, corps: map[string]string{corp: secret}, tokens: map[string]token{}, calls: map[string]int{},
		ways: map[string]wecom.ContactWay{}, joinWays: map[string]wecom.JoinWay{}, groups: map[string]wecom.GroupChat{},
		contacts: map[string]wecom.ExternalContact{}, codes: map[string]time.Time{}, welcomes: map[string]wecom.WelcomeMsg{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// SetClock sets the fake's clock (token expiry, welcome code age).
func (f *Server) SetClock(now func() time.Time) { f.mu.Lock(); f.now = now; f.mu.Unlock() }

// ExpireTokens ends every token issued so far: calls with them get 42001.
func (f *Server) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, t := range f.tokens {
		t.expires = f.now().Add(-time.Second)
		f.tokens[k] = t
	}
}

// Busy makes the next n requests answer -1 (系统繁忙).
func (f *Server) Busy(n int) { f.mu.Lock(); f.busy, f.busyCode = n, wecom.CodeBusy; f.mu.Unlock() }

// Crowded makes the next n requests answer 45033 (接口并发调用超过限制).
func (f *Server) Crowded(n int) {
	f.mu.Lock()
	f.busy, f.busyCode = n, wecom.CodeConcurrencyLimit
	f.mu.Unlock()
}

// Calls is how many requests reached path ("gettoken",
// "externalcontact/add_contact_way"…), busy answers included.
func (f *Server) Calls(path string) int { f.mu.Lock(); defer f.mu.Unlock(); return f.calls[path] }

// SetGroup adds or replaces a customer group.
func (f *Server) SetGroup(g wecom.GroupChat) { f.mu.Lock(); f.groups[g.ChatID] = g; f.mu.Unlock() }

// Group returns a customer group.
func (f *Server) Group(chatID string) (wecom.GroupChat, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.groups[chatID]
	return g, ok
}

// SetContact adds or replaces an external contact.
func (f *Server) SetContact(c wecom.ExternalContact) {
	f.mu.Lock()
	f.contacts[c.ExternalUserID] = c
	f.mu.Unlock()
}

// IssueWelcomeCode makes code a welcome code WeCom just put in a callback.
func (f *Server) IssueWelcomeCode(code string) { f.mu.Lock(); f.codes[code] = f.now(); f.mu.Unlock() }

// Welcome returns the welcome sent with code.
func (f *Server) Welcome(code string) (wecom.WelcomeMsg, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.welcomes[code]
	return m, ok
}

// ContactWay returns a contact way by config id.
func (f *Server) ContactWay(id string) (wecom.ContactWay, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.ways[id]
	return w, ok
}

// JoinWay returns a join way by config id.
func (f *Server) JoinWay(id string) (wecom.JoinWay, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.joinWays[id]
	return w, ok
}

type answer map[string]any

func fail(code int, msg string) answer { return answer{"errcode": code, "errmsg": msg} }

func ok(a answer) answer {
	if a == nil {
		a = answer{}
	}
	a["errcode"], a["errmsg"] = 0, "ok"
	return a
}

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/cgi-bin/")
	f.mu.Lock()
	f.calls[path]++
	var a answer
	if f.busy > 0 {
		f.busy--
		a = fail(f.busyCode, "system busy")
		if f.busyCode == wecom.CodeConcurrencyLimit {
			a = fail(f.busyCode, "api concurrent out of limit")
		}
	} else {
		a = f.route(path, r)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(a)
}

func (f *Server) route(path string, r *http.Request) answer {
	q := r.URL.Query()
	if path == "gettoken" {
		return f.getToken(q.Get("corpid"), q.Get("corpsecret"))
	}
	tok := q.Get("access_token")
	if tok == "" {
		return fail(wecom.CodeMissingToken, "access_token missing")
	}
	t, known := f.tokens[tok]
	if !known {
		return fail(wecom.CodeInvalidToken, "invalid access_token")
	}
	if !f.now().Before(t.expires) {
		return fail(wecom.CodeExpiredToken, "access_token expired")
	}
	if path == "externalcontact/get" {
		c, found := f.contacts[q.Get("external_userid")]
		if !found {
			return fail(84061, "not external contact")
		}
		return ok(answer{"external_contact": c, "follow_user": []any{}})
	}
	if r.Method != http.MethodPost {
		return fail(40058, "invalid method")
	}
	var body json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return fail(40058, "invalid json")
	}
	handlers := map[string]func(json.RawMessage) answer{
		"externalcontact/add_contact_way":           f.addContactWay,
		"externalcontact/update_contact_way":        f.updateContactWay,
		"externalcontact/del_contact_way":           f.delContactWay,
		"externalcontact/groupchat/add_join_way":    f.addJoinWay,
		"externalcontact/groupchat/get_join_way":    f.getJoinWay,
		"externalcontact/groupchat/update_join_way": f.updateJoinWay,
		"externalcontact/groupchat/del_join_way":    f.delJoinWay,
		"externalcontact/groupchat/list":            f.listGroups,
		"externalcontact/groupchat/get":             f.getGroup,
		"externalcontact/send_welcome_msg":          f.sendWelcome,
	}
	h, found := handlers[path]
	if !found {
		return fail(60011, "no privilege to access/modify contact/party/agent (unknown path "+path+")")
	}
	return h(body)
}

func (f *Server) getToken(corp, secret string) answer {
	want, known := f.corps[corp]
	if !known {
		return fail(40013, "invalid corpid")
	}
	if secret != want {
		return fail(40001, "invalid credential")
	}
	now := f.now()
	// Within its validity, gettoken answers the same token.
	for k, t := range f.tokens {
		if t.corp == corp && now.Before(t.expires) {
			return ok(answer{"access_token": k, "expires_in": int(t.expires.Sub(now).Seconds())})
		}
	}
	f.seq++
	k := fmt.Sprintf("tok-%s-%d", corp, f.seq)
	f.tokens[k] = token{corp: corp, expires: now.Add(TokenTTL)}
	return ok(answer{"access_token": k, "expires_in": int(TokenTTL.Seconds())})
}

func decode(body json.RawMessage, v any) bool { return json.Unmarshal(body, v) == nil }

// validWay returns the code and message WeCom answers for a contact way it
// refuses, 0 when it takes it.
func validWay(w wecom.ContactWay) (int, string) {
	switch {
	case w.Type == 0:
		return 41037, "type missing"
	case w.Type != wecom.ContactWaySingle && w.Type != wecom.ContactWayMulti:
		return 41039, "type must be 1 or 2"
	case w.Scene == 0:
		return 41038, "scene missing"
	case w.Scene != wecom.SceneMiniProgram && w.Scene != wecom.SceneQRCode:
		return 41040, "scene must be 1 or 2"
	case len(w.User) == 0:
		return 40058, "user required"
	case w.Type == wecom.ContactWaySingle && len(w.User) != 1:
		return 40058, "type 1 takes exactly one user"
	case len([]rune(w.State)) > wecom.MaxState:
		return 40058, "state longer than 30"
	}
	return 0, ""
}

func (f *Server) addContactWay(body json.RawMessage) answer {
	var w wecom.ContactWay
	if !decode(body, &w) {
		return fail(40058, "invalid json")
	}
	if code, msg := validWay(w); code != 0 {
		return fail(code, msg)
	}
	f.seq++
	w.ConfigID = fmt.Sprintf("cfg%04d", f.seq)
	if w.Scene == wecom.SceneQRCode {
		w.QRCode = "https://wework.qpic.cn/wwpic/" + w.ConfigID + "/0"
	}
	f.ways[w.ConfigID] = w
	return ok(answer{"config_id": w.ConfigID, "qr_code": w.QRCode})
}

func (f *Server) updateContactWay(body json.RawMessage) answer {
	var in wecom.ContactWay
	if !decode(body, &in) {
		return fail(40058, "invalid json")
	}
	w, found := f.ways[in.ConfigID]
	if !found {
		return fail(41044, "invalid config_id")
	}
	w.SkipVerify = in.SkipVerify
	if in.Remark != "" {
		w.Remark = in.Remark
	}
	if in.State != "" {
		w.State = in.State
	}
	if len(in.User) > 0 {
		w.User = in.User
	}
	if code, msg := validWay(w); code != 0 {
		return fail(code, msg)
	}
	f.ways[w.ConfigID] = w
	return ok(nil)
}

func (f *Server) delContactWay(body json.RawMessage) answer {
	var in struct {
		ConfigID string `json:"config_id"`
	}
	if !decode(body, &in) {
		return fail(40058, "invalid json")
	}
	if f.ways[in.ConfigID].ConfigID == "" {
		return fail(41044, "invalid config_id")
	}
	delete(f.ways, in.ConfigID)
	return ok(nil)
}

// validJoinWay is validWay for join ways.
func validJoinWay(w wecom.JoinWay) (int, string) {
	switch {
	case w.Scene != wecom.SceneMiniProgram && w.Scene != wecom.SceneQRCode:
		return 40058, "scene must be 1 or 2"
	case len(w.ChatIDList) == 0:
		return 40058, "chat_id_list required"
	case len(w.ChatIDList) > wecom.MaxJoinWayChats:
		return 41091, "at most 5 chats"
	case len([]rune(w.State)) > wecom.MaxState:
		return 40058, "state longer than 30"
	case len([]rune(w.RoomBaseName)) > 40:
		return 40058, "room_base_name longer than 40"
	case w.AutoCreateRoom != 0 && w.AutoCreateRoom != 1:
		return 40058, "auto_create_room must be 0 or 1"
	}
	return 0, ""
}

func (f *Server) addJoinWay(body json.RawMessage) answer {
	w := wecom.JoinWay{AutoCreateRoom: 1} // WeCom's default
	if !decode(body, &w) {
		return fail(40058, "invalid json")
	}
	if code, msg := validJoinWay(w); code != 0 {
		return fail(code, msg)
	}
	for _, id := range w.ChatIDList {
		if _, known := f.groups[id]; !known {
			return fail(40050, "chatid not found: "+id)
		}
	}
	if r := []rune(w.Remark); len(r) > 30 {
		w.Remark = string(r[:30])
	}
	f.seq++
	w.ConfigID = fmt.Sprintf("jw%04d", f.seq)
	w.QRCode = "https://wework.qpic.cn/wwpic/" + w.ConfigID + "/0"
	f.joinWays[w.ConfigID] = w
	return ok(answer{"config_id": w.ConfigID})
}

func (f *Server) getJoinWay(body json.RawMessage) answer {
	var in struct {
		ConfigID string `json:"config_id"`
	}
	if !decode(body, &in) {
		return fail(40058, "invalid json")
	}
	w, found := f.joinWays[in.ConfigID]
	if !found {
		return fail(40058, "invalid config_id")
	}
	return ok(answer{"join_way": w})
}

func (f *Server) updateJoinWay(body json.RawMessage) answer {
	w := wecom.JoinWay{AutoCreateRoom: 1}
	if !decode(body, &w) {
		return fail(40058, "invalid json")
	}
	cur, found := f.joinWays[w.ConfigID]
	if !found {
		return fail(40058, "invalid config_id")
	}
	if code, msg := validJoinWay(w); code != 0 {
		return fail(code, msg)
	}
	w.QRCode = cur.QRCode
	f.joinWays[w.ConfigID] = w
	return ok(nil)
}

func (f *Server) delJoinWay(body json.RawMessage) answer {
	var in struct {
		ConfigID string `json:"config_id"`
	}
	if !decode(body, &in) {
		return fail(40058, "invalid json")
	}
	if _, found := f.joinWays[in.ConfigID]; !found {
		return fail(40058, "invalid config_id")
	}
	delete(f.joinWays, in.ConfigID)
	return ok(nil)
}

func (f *Server) listGroups(body json.RawMessage) answer {
	var in struct {
		StatusFilter int    `json:"status_filter"`
		Cursor       string `json:"cursor"`
		Limit        int    `json:"limit"`
	}
	if !decode(body, &in) {
		return fail(40058, "invalid json")
	}
	if in.Limit < 1 || in.Limit > 1000 {
		return fail(40058, "limit must be 1 to 1000")
	}
	ids := make([]string, 0, len(f.groups))
	for id := range f.groups {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	start := 0
	if in.Cursor != "" {
		n, err := strconv.Atoi(in.Cursor)
		if err != nil || n < 0 || n > len(ids) {
			return fail(50100, "invalid cursor")
		}
		start = n
	}
	end := min(start+in.Limit, len(ids))
	list := make([]wecom.GroupChatRef, 0, end-start)
	for _, id := range ids[start:end] {
		list = append(list, wecom.GroupChatRef{ChatID: id})
	}
	next := ""
	if end < len(ids) {
		next = strconv.Itoa(end)
	}
	return ok(answer{"group_chat_list": list, "next_cursor": next})
}

func (f *Server) getGroup(body json.RawMessage) answer {
	var in struct {
		ChatID   string `json:"chat_id"`
		NeedName int    `json:"need_name"`
	}
	if !decode(body, &in) {
		return fail(40058, "invalid json")
	}
	g, found := f.groups[in.ChatID]
	if !found {
		return fail(40050, "chatid not found")
	}
	if in.NeedName != 1 {
		members := append([]wecom.GroupChatMember(nil), g.MemberList...)
		for i := range members {
			members[i].Name = ""
		}
		g.MemberList = members
	}
	return ok(answer{"group_chat": g})
}

// welcomeWindow is how long a welcome code may be used.
const welcomeWindow = 20 * time.Second

func (f *Server) sendWelcome(body json.RawMessage) answer {
	var m wecom.WelcomeMsg
	if !decode(body, &m) {
		return fail(40058, "invalid json")
	}
	issued, known := f.codes[m.WelcomeCode]
	if !known || f.now().Sub(issued) > welcomeWindow {
		return fail(41050, "invalid welcome_code")
	}
	if _, used := f.welcomes[m.WelcomeCode]; used {
		return fail(41051, "externaluser has started chatting")
	}
	if (m.Text == nil || m.Text.Content == "") && len(m.Attachments) == 0 {
		return fail(40058, "text or attachments required")
	}
	if len(m.Attachments) > 9 {
		return fail(40058, "at most 9 attachments")
	}
	f.welcomes[m.WelcomeCode] = m
	return ok(nil)
}
