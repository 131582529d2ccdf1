// Package chat is the normalised chat event every platform adapter produces:
// a member joined or left a group, posted a message, or added or removed a
// staff member as a contact. Converters from the WeCom and generic formats live
// here so the adapters do not depend on each other.
package chat

import (
	"errors"
	"fmt"
	"time"

	"github.com/tribehq/tribe/shared/chat/generic"
	"github.com/tribehq/tribe/shared/chat/wecom"
)

// Kind is what happened.
type Kind string

// Kinds.
const (
	Joined         Kind = "joined"          // joined a group
	Left           Kind = "left"            // left or was removed from a group
	Message        Kind = "message"         // posted a message
	ContactAdded   Kind = "contact_added"   // became a staff member's contact (WeCom)
	ContactRemoved Kind = "contact_removed" // the contact was removed by either side (WeCom)
	// GroupChanged: a WeCom customer group's member list changed; the community
	// consumer reads the group from WeCom's API (shared/wecomsync) when the
	// integration holds an app secret. ChatID names the group, UserID is empty.
	GroupChanged Kind = "group_changed"
)

// PlatformWeCom names WeCom in Event.Platform; other platforms use generic's names.
const PlatformWeCom = "wecom"

// Sentinel errors of the converters.
var (
	// ErrUnsupported means the event is valid but not one the product acts on
	// (say edit_external_contact or change_owner): acknowledge it and drop it.
	ErrUnsupported = errors.New("chat: unsupported event")
	// ErrNoMembers means a WeCom member change came without a member list;
	// the caller must read the group's members from the API instead.
	ErrNoMembers = errors.New("chat: member change without member list")
)

// Event is one normalised chat event.
type Event struct {
	Kind     Kind
	Platform string // "wecom" or a generic.Platform
	ChatID   string // group id; empty for contact events and WeCom app messages
	UserID   string // the platform's id of the member (WeCom: external or member userid)
	UserName string
	Text     string // Message only
	State    string // channel code the member came through, when known
	// WelcomeCode is WeCom's welcome code of a new contact (valid 20 s, once).
	WelcomeCode string
	At          time.Time
	DedupeKey   string // unique per event, stable across the platform's retries
}

// FromWeCom converts a parsed WeCom callback. A member change lists several
// members and yields one event each, with the member id appended to the
// callback's dedupe key. Group create and dismiss yield no events and no
// error. Unhandled events fail with ErrUnsupported; member changes without a
// member list with ErrNoMembers.
//
// Mapping: add_external_contact → ContactAdded (UserID = ExternalUserID, State =
// the 联系我 channel code); del_external_contact and del_follow_user →
// ContactRemoved; change_external_chat update add_member/del_member →
// Joined/Left per member; text → Message (UserID = FromUserName, the member
// writing to the app).
func FromWeCom(e wecom.Event) ([]Event, error) {
	if !e.Supported() {
		return nil, fmt.Errorf("%w: wecom %s/%s/%s/%s", ErrUnsupported, e.MsgType, e.Event, e.ChangeType, e.UpdateDetail)
	}
	base := Event{Platform: PlatformWeCom, At: e.Time(), DedupeKey: e.DedupeKey()}
	switch {
	case e.MsgType == wecom.MsgTypeText:
		ev := base
		ev.Kind, ev.UserID, ev.Text = Message, e.FromUserName, e.Content
		return []Event{ev}, nil
	case e.Event == wecom.EventExternalContact:
		ev := base
		ev.UserID = e.ExternalUserID
		if e.ChangeType == wecom.AddExternalContact {
			ev.Kind, ev.State, ev.WelcomeCode = ContactAdded, e.State, e.WelcomeCode
		} else {
			ev.Kind = ContactRemoved
		}
		return []Event{ev}, nil
	case e.ChangeType == wecom.ChatUpdate:
		kind := Joined
		if e.UpdateDetail == wecom.ChatDelMember {
			kind = Left
		}
		if len(e.MemChangeList) == 0 {
			return nil, fmt.Errorf("%w: chat %s", ErrNoMembers, e.ChatID)
		}
		out := make([]Event, 0, len(e.MemChangeList))
		seen := make(map[string]bool, len(e.MemChangeList))
		for _, member := range e.MemChangeList {
			if seen[member] {
				continue
			}
			seen[member] = true
			ev := base
			ev.Kind, ev.ChatID, ev.UserID = kind, e.ChatID, member
			ev.DedupeKey = base.DedupeKey + "|" + member
			out = append(out, ev)
		}
		return out, nil
	default: // group create or dismiss: nothing for members
		return nil, nil
	}
}

// GroupChangeOf returns the GroupChanged event of a WeCom member change
// (change_external_chat update add_member or del_member), with or without its
// member list, and false for every other callback.
func GroupChangeOf(e wecom.Event) (Event, bool) {
	if e.Event != wecom.EventExternalChat || e.ChangeType != wecom.ChatUpdate || e.ChatID == "" ||
		(e.UpdateDetail != wecom.ChatAddMember && e.UpdateDetail != wecom.ChatDelMember) {
		return Event{}, false
	}
	return Event{Kind: GroupChanged, Platform: PlatformWeCom, ChatID: e.ChatID, At: e.Time(), DedupeKey: e.DedupeKey() + "|group"}, true
}

// FromGeneric converts a parsed generic event.
func FromGeneric(e generic.Event) Event {
	kind := Message
	switch e.Type {
	case generic.MemberJoined:
		kind = Joined
	case generic.MemberLeft:
		kind = Left
	}
	return Event{
		Kind:      kind,
		Platform:  string(e.Platform),
		ChatID:    e.ChatID,
		UserID:    e.User.ID,
		UserName:  e.User.Name,
		Text:      e.Text,
		State:     e.State,
		At:        e.Timestamp.UTC(),
		DedupeKey: e.DedupeKey(),
	}
}
