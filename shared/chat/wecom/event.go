package wecom

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Event types, change types and update details the product handles. Other
// values parse without error; Event.Supported reports false for them.
const (
	MsgTypeEvent = "event"
	MsgTypeText  = "text"

	EventExternalContact = "change_external_contact"
	EventExternalChat    = "change_external_chat"

	// change_external_contact change types.
	AddExternalContact = "add_external_contact" // State carries the channel code
	DelExternalContact = "del_external_contact" // the staff member removed the customer
	DelFollowUser      = "del_follow_user"      // the customer removed the staff member

	// change_external_chat change types and update details.
	ChatCreate    = "create"
	ChatUpdate    = "update"
	ChatDismiss   = "dismiss"
	ChatAddMember = "add_member"
	ChatDelMember = "del_member"
)

// Event is the decrypted inner XML of a WeCom callback, flattened over the
// shapes the product handles:
//
//   - Self-built app customer-contact events (客户联系, document 92130):
//     change_external_contact (add_external_contact, del_external_contact,
//     del_follow_user) and change_external_chat (create, update with
//     add_member/del_member, dismiss).
//   - App text messages (接收消息, MsgType text): a member of the corp writing
//     to the self-built app one-to-one. WeCom does not deliver messages posted
//     in customer groups (客户群) to callbacks; reading those needs the
//     chat-archive API (会话内容存档), which this package does not support.
//     Group-robot (智能机器人) callbacks are JSON, not XML, and are not handled.
//
// Third-party suite callbacks (InfoType, SuiteId, AuthCorpId) are out of scope.
type Event struct {
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"` // "sys" for customer-contact events
	CreateTime   int64  `xml:"CreateTime"`   // Unix seconds
	MsgType      string `xml:"MsgType"`
	Event        string `xml:"Event"`
	ChangeType   string `xml:"ChangeType"`
	AgentID      string `xml:"AgentID"`

	// change_external_contact
	UserID         string `xml:"UserID"`         // the staff member
	ExternalUserID string `xml:"ExternalUserID"` // the customer
	State          string `xml:"State"`          // channel code of the 联系我 way, ≤30 chars
	WelcomeCode    string `xml:"WelcomeCode"`    // valid 20 s; absent in documented cases
	Source         string `xml:"Source"`         // del_external_contact: DELETE_BY_TRANSFER

	// change_external_chat
	ChatID        string   `xml:"ChatId"`
	UpdateDetail  string   `xml:"UpdateDetail"`
	JoinScene     int      `xml:"JoinScene"` // 0 invited (direct or link), 3 group QR code
	QuitScene     int      `xml:"QuitScene"` // 0 left, 1 removed
	MemChangeCnt  int      `xml:"MemChangeCnt"`
	MemChangeList []string `xml:"-"`
	LastMemVer    string   `xml:"LastMemVer"`
	CurMemVer     string   `xml:"CurMemVer"`

	// app messages
	MsgID   string `xml:"MsgId"` // a 64-bit number, kept as text
	Content string `xml:"Content"`
}

// rawEvent adds what Event flattens: the documented MemChangeList is a list of
// <Item> user ids.
type rawEvent struct {
	XMLName xml.Name `xml:"xml"`
	Event
	MemChangeList struct {
		Items []string `xml:"Item"`
		Text  string   `xml:",chardata"`
	} `xml:"MemChangeList"`
}

// Parse reads the inner XML returned by Decrypt. It fails with ErrMalformed when
// the input is over MaxBodyBytes, is not an <xml> document, has a non-numeric
// number field, or lacks MsgType. Unknown elements are ignored.
func Parse(inner []byte) (Event, error) {
	if len(inner) > MaxBodyBytes {
		return Event{}, fmt.Errorf("%w: over %d bytes", ErrMalformed, MaxBodyBytes)
	}
	var raw rawEvent
	if err := xml.Unmarshal(inner, &raw); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	ev := raw.Event
	trim(&ev.ToUserName, &ev.FromUserName, &ev.MsgType, &ev.Event, &ev.ChangeType, &ev.AgentID,
		&ev.UserID, &ev.ExternalUserID, &ev.State, &ev.WelcomeCode, &ev.Source,
		&ev.ChatID, &ev.UpdateDetail, &ev.LastMemVer, &ev.CurMemVer, &ev.MsgID)
	if ev.MsgType == "" {
		return Event{}, fmt.Errorf("%w: no MsgType", ErrMalformed)
	}
	for _, it := range raw.MemChangeList.Items {
		if it = strings.TrimSpace(it); it != "" {
			ev.MemChangeList = append(ev.MemChangeList, it)
		}
	}
	// Some SDKs show MemChangeList as comma-separated text rather than <Item>s;
	// accept that too rather than silently dropping members.
	if len(raw.MemChangeList.Items) == 0 {
		for _, it := range strings.Split(raw.MemChangeList.Text, ",") {
			if it = strings.TrimSpace(it); it != "" {
				ev.MemChangeList = append(ev.MemChangeList, it)
			}
		}
	}
	return ev, nil
}

func trim(fields ...*string) {
	for _, f := range fields {
		*f = strings.TrimSpace(*f)
	}
}

// Time returns CreateTime as a UTC time.
func (e Event) Time() time.Time { return time.Unix(e.CreateTime, 0).UTC() }

// Supported reports whether the product acts on this event (see Event).
func (e Event) Supported() bool {
	switch e.MsgType {
	case MsgTypeText:
		return true
	case MsgTypeEvent:
		switch e.Event {
		case EventExternalContact:
			switch e.ChangeType {
			case AddExternalContact, DelExternalContact, DelFollowUser:
				return true
			}
		case EventExternalChat:
			switch e.ChangeType {
			case ChatCreate, ChatDismiss:
				return true
			case ChatUpdate:
				return e.UpdateDetail == ChatAddMember || e.UpdateDetail == ChatDelMember
			}
		}
	}
	return false
}

// DedupeKey identifies one delivery across WeCom's retries (up to three when we
// do not answer within 5 s). Messages carry MsgId, which is used alone. Events
// have none; the usual FromUserName+CreateTime is not enough because
// FromUserName is "sys" for every customer-contact event, so two customers
// added in the same second would collide. The key therefore also carries the
// event, change type, detail, chat, staff and customer ids and the member-list
// version: all fixed within one retried delivery, different between
// distinct events.
func (e Event) DedupeKey() string {
	if e.MsgID != "" {
		return "msg:" + e.MsgID
	}
	return strings.Join([]string{
		"evt", e.FromUserName, strconv.FormatInt(e.CreateTime, 10), e.Event, e.ChangeType,
		e.UpdateDetail, e.ChatID, e.UserID, e.ExternalUserID, e.CurMemVer,
	}, "|")
}
