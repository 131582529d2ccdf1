package wecom

import (
	"context"
	"net/http"
	"net/url"
)

// Contact ways (联系我, externalcontact/add_contact_way): type 1 is one staff
// member, 2 several; scene 1 a mini-program button, 2 a QR code.
const (
	ContactWaySingle = 1
	ContactWayMulti  = 2
	SceneMiniProgram = 1
	SceneQRCode      = 2
)

// MaxState is the longest state WeCom keeps on a contact way or join way.
const MaxState = 30

// MaxJoinWayChats is how many groups one join way may list.
const MaxJoinWayChats = 5

// ContactWay is a 联系我 configuration.
type ContactWay struct {
	ConfigID   string   `json:"config_id,omitempty"`
	Type       int      `json:"type,omitempty"`
	Scene      int      `json:"scene,omitempty"`
	Remark     string   `json:"remark,omitempty"`
	SkipVerify bool     `json:"skip_verify"`
	State      string   `json:"state,omitempty"`
	User       []string `json:"user,omitempty"`
	QRCode     string   `json:"qr_code,omitempty"`
}

// AddContactWay creates a contact way and returns its config_id and qr_code.
func (c *Client) AddContactWay(ctx context.Context, w ContactWay) (configID, qrCode string, err error) {
	var out struct {
		ConfigID string `json:"config_id"`
		QRCode   string `json:"qr_code"`
	}
	err = c.call(ctx, http.MethodPost, "externalcontact/add_contact_way", nil, w, &out)
	return out.ConfigID, out.QRCode, err
}

// UpdateContactWay changes a contact way's staff, verification, state or remark
// (its type and scene stay; its QR code stays the same).
func (c *Client) UpdateContactWay(ctx context.Context, w ContactWay) error {
	body := struct {
		ConfigID   string   `json:"config_id"`
		Remark     string   `json:"remark,omitempty"`
		SkipVerify bool     `json:"skip_verify"`
		State      string   `json:"state,omitempty"`
		User       []string `json:"user,omitempty"`
	}{w.ConfigID, w.Remark, w.SkipVerify, w.State, w.User}
	return c.call(ctx, http.MethodPost, "externalcontact/update_contact_way", nil, body, nil)
}

// DelContactWay deletes a contact way; its QR code stops working.
func (c *Client) DelContactWay(ctx context.Context, configID string) error {
	return c.call(ctx, http.MethodPost, "externalcontact/del_contact_way", nil, map[string]string{"config_id": configID}, nil)
}

// JoinWay is a customer-group join way (客户群「加入群聊」, 群活码).
type JoinWay struct {
	ConfigID       string   `json:"config_id,omitempty"`
	Scene          int      `json:"scene"`
	Remark         string   `json:"remark,omitempty"`
	AutoCreateRoom int      `json:"auto_create_room"`
	RoomBaseName   string   `json:"room_base_name,omitempty"`
	RoomBaseID     int      `json:"room_base_id,omitempty"`
	ChatIDList     []string `json:"chat_id_list"`
	QRCode         string   `json:"qr_code,omitempty"`
	State          string   `json:"state,omitempty"`
}

// AddJoinWay creates a join way and returns its config_id (its QR code comes
// from GetJoinWay).
func (c *Client) AddJoinWay(ctx context.Context, w JoinWay) (string, error) {
	var out struct {
		ConfigID string `json:"config_id"`
	}
	w.ConfigID, w.QRCode = "", ""
	err := c.call(ctx, http.MethodPost, "externalcontact/groupchat/add_join_way", nil, w, &out)
	return out.ConfigID, err
}

// GetJoinWay returns a join way with its QR code.
func (c *Client) GetJoinWay(ctx context.Context, configID string) (JoinWay, error) {
	var out struct {
		JoinWay JoinWay `json:"join_way"`
	}
	err := c.call(ctx, http.MethodPost, "externalcontact/groupchat/get_join_way", nil, map[string]string{"config_id": configID}, &out)
	return out.JoinWay, err
}

// UpdateJoinWay replaces a join way's settings (WeCom's update takes them all).
func (c *Client) UpdateJoinWay(ctx context.Context, w JoinWay) error {
	w.QRCode = ""
	return c.call(ctx, http.MethodPost, "externalcontact/groupchat/update_join_way", nil, w, nil)
}

// DelJoinWay deletes a join way.
func (c *Client) DelJoinWay(ctx context.Context, configID string) error {
	return c.call(ctx, http.MethodPost, "externalcontact/groupchat/del_join_way", nil, map[string]string{"config_id": configID}, nil)
}

// GroupChatRef is one group of groupchat/list.
type GroupChatRef struct {
	ChatID string `json:"chat_id"`
	Status int    `json:"status"`
}

// ListGroupChats lists one page (at most limit, 1..1000) of the corp's customer
// groups from cursor ("" first); next is "" on the last page.
func (c *Client) ListGroupChats(ctx context.Context, cursor string, limit int) (groups []GroupChatRef, next string, err error) {
	var out struct {
		GroupChatList []GroupChatRef `json:"group_chat_list"`
		NextCursor    string         `json:"next_cursor"`
	}
	in := map[string]any{"status_filter": 0, "limit": limit}
	if cursor != "" {
		in["cursor"] = cursor
	}
	err = c.call(ctx, http.MethodPost, "externalcontact/groupchat/list", nil, in, &out)
	return out.GroupChatList, out.NextCursor, err
}

// Group member types of groupchat/get.
const (
	MemberStaff    = 1 // a member of the corp (userid)
	MemberExternal = 2 // an external contact (external_userid)
)

// GroupChatMember is one member of groupchat/get.
type GroupChatMember struct {
	UserID        string `json:"userid"`
	Type          int    `json:"type"`
	UnionID       string `json:"unionid,omitempty"`
	JoinTime      int64  `json:"join_time"`
	JoinScene     int    `json:"join_scene"`
	GroupNickname string `json:"group_nickname,omitempty"`
	Name          string `json:"name,omitempty"`
	State         string `json:"state,omitempty"`
}

// GroupChat is groupchat/get's group_chat.
type GroupChat struct {
	ChatID     string            `json:"chat_id"`
	Name       string            `json:"name"`
	Owner      string            `json:"owner"`
	CreateTime int64             `json:"create_time"`
	Notice     string            `json:"notice,omitempty"`
	MemberList []GroupChatMember `json:"member_list"`
	AdminList  []struct {
		UserID string `json:"userid"`
	} `json:"admin_list"`
}

// GetGroupChat returns one group with its owner, admins and members (names too).
func (c *Client) GetGroupChat(ctx context.Context, chatID string) (GroupChat, error) {
	var out struct {
		GroupChat GroupChat `json:"group_chat"`
	}
	err := c.call(ctx, http.MethodPost, "externalcontact/groupchat/get", nil, map[string]any{"chat_id": chatID, "need_name": 1}, &out)
	return out.GroupChat, err
}

// ExternalContact is externalcontact/get's external_contact. It carries no
// phone number: WeCom's profile (https://developer.work.weixin.qq.com/document/path/96315)
// has none of the customer's own; the follow_user entries' remark_mobiles are
// numbers a staff member typed as a note, verified by no one, so a WeCom
// contact never links or merges members by phone (store.Contact.PhoneVerified
// stays false for it).
type ExternalContact struct {
	ExternalUserID string `json:"external_userid"`
	Name           string `json:"name"`
	Type           int    `json:"type"`
	Gender         int    `json:"gender"`
	// UnionID is the person's WeChat unionid, present only when the corp is bound
	// to a WeChat open platform account and the contact is a WeChat user.
	UnionID string `json:"unionid,omitempty"`
}

// GetExternalContact returns a customer's profile.
func (c *Client) GetExternalContact(ctx context.Context, externalUserID string) (ExternalContact, error) {
	var out struct {
		ExternalContact ExternalContact `json:"external_contact"`
	}
	err := c.call(ctx, http.MethodGet, "externalcontact/get", url.Values{"external_userid": {externalUserID}}, nil, &out)
	return out.ExternalContact, err
}

// WelcomeMsg is send_welcome_msg's body: text and up to nine attachments.
type WelcomeMsg struct {
	WelcomeCode string `json:"welcome_code"`
	Text        *struct {
		Content string `json:"content"`
	} `json:"text,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is one welcome attachment: a link or a mini-program card.
type Attachment struct {
	MsgType     string       `json:"msgtype"`
	Link        *Link        `json:"link,omitempty"`
	MiniProgram *MiniProgram `json:"miniprogram,omitempty"`
}

// Link is a link attachment.
type Link struct {
	Title  string `json:"title"`
	PicURL string `json:"picurl,omitempty"`
	Desc   string `json:"desc,omitempty"`
	URL    string `json:"url"`
}

// MiniProgram is a mini-program attachment.
type MiniProgram struct {
	Title      string `json:"title"`
	PicMediaID string `json:"pic_media_id"`
	AppID      string `json:"appid"`
	Page       string `json:"page"`
}

// SendWelcomeMsg sends a welcome with the code of an add_external_contact event
// (valid 20 s, usable once).
func (c *Client) SendWelcomeMsg(ctx context.Context, m WelcomeMsg) error {
	return c.call(ctx, http.MethodPost, "externalcontact/send_welcome_msg", nil, m, nil)
}
