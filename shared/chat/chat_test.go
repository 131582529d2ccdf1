package chat

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/chat/generic"
	"github.com/tribehq/tribe/shared/chat/wecom"
)

func wecomSample(tb testing.TB, name string) wecom.Event {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("../../events/chat/wecom", name))
	if err != nil {
		tb.Fatal(err)
	}
	e, err := wecom.Parse(b)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func TestFromWeCom(t *testing.T) {
	t.Parallel()
	at := time.Unix(1403610513, 0).UTC()
	tests := []struct {
		file string
		want []Event
	}{
		{"add_external_contact.xml", []Event{{Kind: ContactAdded, Platform: "wecom", UserID: "woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA", State: "teststate", WelcomeCode: "WELCOMECODE", At: at,
			DedupeKey: "evt|sys|1403610513|change_external_contact|add_external_contact|||zhangsan|woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA|"}}},
		{"del_external_contact.xml", []Event{{Kind: ContactRemoved, Platform: "wecom", UserID: "woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA", At: at,
			DedupeKey: "evt|sys|1403610513|change_external_contact|del_external_contact|||zhangsan|woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA|"}}},
		{"del_follow_user.xml", []Event{{Kind: ContactRemoved, Platform: "wecom", UserID: "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA", At: at,
			DedupeKey: "evt|sys|1403610513|change_external_contact|del_follow_user|||zhangsan|woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA|"}}},
		{"external_chat_add_member.xml", []Event{
			{Kind: Joined, Platform: "wecom", ChatID: "CHAT_ID", UserID: "Jack", At: at,
				DedupeKey: "evt|sys|1403610513|change_external_chat|update|add_member|CHAT_ID|||71217227bbd112ecfe3a49c482195cb4|Jack"},
			{Kind: Joined, Platform: "wecom", ChatID: "CHAT_ID", UserID: "Rose", At: at,
				DedupeKey: "evt|sys|1403610513|change_external_chat|update|add_member|CHAT_ID|||71217227bbd112ecfe3a49c482195cb4|Rose"},
		}},
		{"external_chat_del_member.xml", []Event{
			{Kind: Left, Platform: "wecom", ChatID: "CHAT_ID", UserID: "Rose", At: time.Unix(1403610600, 0).UTC(),
				DedupeKey: "evt|sys|1403610600|change_external_chat|update|del_member|CHAT_ID|||0b1c6e371b5f44492ca01e026ccce6f1|Rose"},
		}},
		{"external_chat_create.xml", nil},
		{"external_chat_dismiss.xml", nil},
		{"text_message.xml", []Event{{Kind: Message, Platform: "wecom", UserID: "fromUser", Text: "this is a test",
			At: time.Unix(1348831860, 0).UTC(), DedupeKey: "msg:1234567890123456"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, err := FromWeCom(wecomSample(t, tt.file))
			if err != nil {
				t.Fatalf("FromWeCom: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromWeCom =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestFromWeComErrors(t *testing.T) {
	t.Parallel()
	noList := wecomSample(t, "external_chat_add_member.xml")
	noList.MemChangeList = nil
	owner := wecomSample(t, "external_chat_add_member.xml")
	owner.UpdateDetail = "change_owner"
	dup := wecomSample(t, "external_chat_add_member.xml")
	dup.MemChangeList = []string{"Jack", "Jack"}
	tests := []struct {
		name string
		in   wecom.Event
		want error
		n    int
	}{
		{"member change without list", noList, ErrNoMembers, 0},
		{"change_owner", owner, ErrUnsupported, 0},
		{"image message", wecom.Event{MsgType: "image", MsgID: "1"}, ErrUnsupported, 0},
		{"duplicate member listed once", dup, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := FromWeCom(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("FromWeCom error = %v, want %v", err, tt.want)
			}
			if len(got) != tt.n {
				t.Errorf("FromWeCom gave %d events, want %d", len(got), tt.n)
			}
		})
	}
}

func TestFromGeneric(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want Event
	}{
		{"member_joined.json", Event{Kind: Joined, Platform: "telegram", ChatID: "-1001234567890", UserID: "42", UserName: "Ana",
			State: "ch_42", At: time.Date(2024, 6, 10, 8, 0, 0, 0, time.UTC), DedupeKey: "generic:telegram:evt_01HZX3M7Q2J8"}},
		{"member_left.json", Event{Kind: Left, Platform: "discord", ChatID: "1122334455", UserID: "80351110224678912", UserName: "Nelly",
			At: time.Date(2024, 6, 10, 1, 30, 0, 0, time.UTC), DedupeKey: "generic:discord:evt_01HZX3M7Q2J9"}},
		{"message_posted.json", Event{Kind: Message, Platform: "feishu", ChatID: "oc_5ad11d72b830411d72b836c20",
			UserID: "ou_7d8a6e6df7621556ce0d21922b676706", UserName: "李雷", Text: "签到 ✅",
			At: time.Date(2024, 6, 10, 8, 1, 2, 500e6, time.UTC), DedupeKey: "generic:feishu:evt_01HZX3M7Q2JA"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("../../events/chat/generic", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			e, err := generic.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if got := FromGeneric(e); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromGeneric =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}
