package wecom

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// WeCom's documented sample (加解密方案说明, developer.work.weixin.qq.com/document/path/91144,
// and the official sample code github.com/sbzhu/weworkapi_golang sample.go).
const (
	sampleToken     = "QDG6eK"
	sampleKey       = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	sampleCorpID    = "wx5823bf96d3bd56c7"
	verifySignature = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
	verifyTimestamp = "1409659589"
	verifyNonce     = "263014780"
	verifyEchoStr   = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
	// verifyEchoPlain is what the sample echostr decrypts to.
	verifyEchoPlain = "1616140317555161061"
	postSignature   = "477715d11cdb4164915debcba66cb864d751f3e6"
	postTimestamp   = "1409659813"
	postNonce       = "1372623149"
)

const samplesDir = "../../../events/chat/wecom"

func readSample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		tb.Fatalf("read sample: %v", err)
	}
	return b
}

func sampleCrypter(tb testing.TB) *Crypter {
	tb.Helper()
	c, err := NewCrypter(sampleToken, sampleKey, sampleCorpID)
	if err != nil {
		tb.Fatalf("NewCrypter: %v", err)
	}
	return c
}

func TestSignatureDocumentedVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, timestamp, nonce, encrypted, want string
	}{
		{"url check", verifyTimestamp, verifyNonce, verifyEchoStr, verifySignature},
		{"post", postTimestamp, postNonce, encryptText(t, readSample(t, "official_post.xml")), postSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Signature(sampleToken, tt.timestamp, tt.nonce, tt.encrypted); got != tt.want {
				t.Errorf("Signature = %s, want %s", got, tt.want)
			}
		})
	}
}

func encryptText(tb testing.TB, body []byte) string {
	tb.Helper()
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		tb.Fatalf("envelope: %v", err)
	}
	return env.Encrypt
}

func TestVerifyURLDocumentedVector(t *testing.T) {
	t.Parallel()
	got, err := sampleCrypter(t).VerifyURL(verifySignature, verifyTimestamp, verifyNonce, verifyEchoStr)
	if err != nil {
		t.Fatalf("VerifyURL: %v", err)
	}
	if string(got) != verifyEchoPlain {
		t.Errorf("VerifyURL = %q, want %q", got, verifyEchoPlain)
	}
}

func TestDecryptDocumentedVector(t *testing.T) {
	t.Parallel()
	got, err := sampleCrypter(t).Decrypt(postSignature, postTimestamp, postNonce, readSample(t, "official_post.xml"))
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if want := readSample(t, "official_post.plain.xml"); !bytes.Equal(got, want) {
		t.Errorf("Decrypt =\n%s\nwant\n%s", got, want)
	}
	ev, err := Parse(got)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := Event{ToUserName: sampleCorpID, FromUserName: "mycreate", CreateTime: 1409659813,
		MsgType: "text", Content: "hello", MsgID: "4561255354251345929", AgentID: "218"}
	if !reflect.DeepEqual(ev, want) {
		t.Errorf("Parse = %+v, want %+v", ev, want)
	}
}

// flip returns s with one base64 character changed, keeping it valid base64.
func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestVerifyURLFailures(t *testing.T) {
	t.Parallel()
	c := sampleCrypter(t)
	otherCorp, err := NewCrypter(sampleToken, sampleKey, "ww0000000000000000")
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := NewCrypter(sampleToken, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", sampleCorpID)
	if err != nil {
		t.Fatal(err)
	}
	// Flip a character in the last block: CBC is not authenticated (the
	// signature is), so a flip in an earlier block would only garble the
	// plaintext, while the last block holds the padding.
	tampered := flip(verifyEchoStr, len(verifyEchoStr)-5)
	truncated := verifyEchoStr[:40]
	tests := []struct {
		name                 string
		c                    *Crypter
		sig, ts, nonce, echo string
		want                 error
	}{
		{"tampered signature", c, flip(verifySignature, 0), verifyTimestamp, verifyNonce, verifyEchoStr, ErrSignature},
		{"uppercase signature accepted", c, strings.ToUpper(verifySignature), verifyTimestamp, verifyNonce, verifyEchoStr, nil},
		{"other timestamp", c, verifySignature, "1409659590", verifyNonce, verifyEchoStr, ErrSignature},
		{"tampered ciphertext, old signature", c, verifySignature, verifyTimestamp, verifyNonce, tampered, ErrSignature},
		{"tampered ciphertext, re-signed", c, Signature(sampleToken, verifyTimestamp, verifyNonce, tampered), verifyTimestamp, verifyNonce, tampered, ErrDecrypt},
		{"wrong receive id", otherCorp, verifySignature, verifyTimestamp, verifyNonce, verifyEchoStr, ErrReceiveID},
		{"wrong key", otherKey, verifySignature, verifyTimestamp, verifyNonce, verifyEchoStr, ErrDecrypt},
		{"truncated base64", c, Signature(sampleToken, verifyTimestamp, verifyNonce, truncated), verifyTimestamp, verifyNonce, truncated, ErrDecrypt},
		{"url-decoded twice (+ became space)", c, Signature(sampleToken, verifyTimestamp, verifyNonce, strings.ReplaceAll(verifyEchoStr, "+", " ")), verifyTimestamp, verifyNonce, strings.ReplaceAll(verifyEchoStr, "+", " "), ErrDecrypt},
		{"empty echostr", c, Signature(sampleToken, verifyTimestamp, verifyNonce, ""), verifyTimestamp, verifyNonce, "", ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.c.VerifyURL(tt.sig, tt.ts, tt.nonce, tt.echo)
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyURL error = %v, want %v", err, tt.want)
			}
			if tt.want == nil && string(got) != verifyEchoPlain {
				t.Errorf("VerifyURL = %q", got)
			}
		})
	}
}

func TestDecryptFailures(t *testing.T) {
	t.Parallel()
	c := sampleCrypter(t)
	body := readSample(t, "official_post.xml")
	enc := encryptText(t, body)
	resign := func(e string) string { return Signature(sampleToken, postTimestamp, postNonce, e) }
	withEncrypt := func(e string) []byte {
		return bytes.Replace(body, []byte(enc), []byte(e), 1)
	}
	otherCorp, err := NewCrypter(sampleToken, sampleKey, "ww0000000000000000")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	oddLength := base64.StdEncoding.EncodeToString(raw[:len(raw)-1])
	lastBlockGone := base64.StdEncoding.EncodeToString(raw[:len(raw)-16])
	tests := []struct {
		name string
		c    *Crypter
		sig  string
		body []byte
		want error
	}{
		{"tampered signature", c, flip(postSignature, 3), body, ErrSignature},
		{"tampered ciphertext", c, postSignature, withEncrypt(flip(enc, 100)), ErrSignature},
		{"tampered ciphertext, re-signed", c, resign(flip(enc, len(enc)-5)), withEncrypt(flip(enc, len(enc)-5)), ErrDecrypt},
		{"not a block multiple", c, resign(oddLength), withEncrypt(oddLength), ErrDecrypt},
		{"last block removed", c, resign(lastBlockGone), withEncrypt(lastBlockGone), ErrDecrypt},
		{"truncated base64", c, resign(enc[:len(enc)-3]), withEncrypt(enc[:len(enc)-3]), ErrDecrypt},
		{"wrong receive id", otherCorp, postSignature, body, ErrReceiveID},
		{"not xml", c, postSignature, []byte("hello"), ErrMalformed},
		{"no Encrypt", c, postSignature, []byte("<xml><ToUserName>x</ToUserName></xml>"), ErrMalformed},
		{"other root", c, postSignature, []byte("<doc><Encrypt>" + enc + "</Encrypt></doc>"), ErrMalformed},
		{"too large", c, postSignature, bytes.Repeat([]byte(" "), MaxBodyBytes+1), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := tt.c.Decrypt(tt.sig, postTimestamp, postNonce, tt.body); !errors.Is(err, tt.want) {
				t.Errorf("Decrypt error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNewCrypterRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, token, key string }{
		{"empty token", "", sampleKey},
		{"short key", sampleToken, sampleKey[:42]},
		{"long key", sampleToken, sampleKey + "A"},
		{"not base64", sampleToken, strings.Repeat("!", 43)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewCrypter(tt.token, tt.key, sampleCorpID); !errors.Is(err, ErrConfig) {
				t.Errorf("NewCrypter error = %v, want ErrConfig", err)
			}
		})
	}
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	t.Parallel()
	c := sampleCrypter(t)
	// Lengths around the 32-byte pad boundary, including a full pad block.
	for _, n := range []int{0, 1, 5, 6, 7, 31, 32, 33, 100, 4096} {
		msg := bytes.Repeat([]byte("x"), n)
		out, err := c.Encrypt(msg, "1700000000", "nonce]]>&<")
		if err != nil {
			t.Fatalf("Encrypt(%d): %v", n, err)
		}
		var r struct {
			Encrypt, MsgSignature, TimeStamp, Nonce string
		}
		if err := xml.Unmarshal(out, &r); err != nil {
			t.Fatalf("reply xml: %v\n%s", err, out)
		}
		if r.TimeStamp != "1700000000" || r.Nonce != "nonce]]>&<" {
			t.Errorf("reply TimeStamp/Nonce = %q/%q", r.TimeStamp, r.Nonce)
		}
		raw, _ := base64.StdEncoding.DecodeString(r.Encrypt)
		if len(raw)%padBlock != 0 {
			t.Errorf("ciphertext length %d not a multiple of %d", len(raw), padBlock)
		}
		got, err := c.Decrypt(r.MsgSignature, r.TimeStamp, r.Nonce, out)
		if err != nil {
			t.Fatalf("Decrypt(%d): %v", n, err)
		}
		if !bytes.Equal(got, msg) {
			t.Errorf("round trip of %d bytes = %d bytes", n, len(got))
		}
	}
}

func TestEncryptIsRandomised(t *testing.T) {
	t.Parallel()
	c := sampleCrypter(t)
	a, _ := c.Encrypt([]byte("same"), "1", "n")
	b, _ := c.Encrypt([]byte("same"), "1", "n")
	if bytes.Equal(a, b) {
		t.Error("two encryptions of the same message are identical")
	}
}

func TestParseSamples(t *testing.T) {
	t.Parallel()
	created := int64(1403610513)
	tests := []struct {
		file      string
		want      Event
		supported bool
		dedupe    string
	}{
		{"add_external_contact.xml", Event{ToUserName: "toUser", FromUserName: "sys", CreateTime: created, MsgType: "event",
			Event: EventExternalContact, ChangeType: AddExternalContact, UserID: "zhangsan",
			ExternalUserID: "woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA", State: "teststate", WelcomeCode: "WELCOMECODE"}, true,
			"evt|sys|1403610513|change_external_contact|add_external_contact|||zhangsan|woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA|"},
		{"del_external_contact.xml", Event{ToUserName: "toUser", FromUserName: "sys", CreateTime: created, MsgType: "event",
			Event: EventExternalContact, ChangeType: DelExternalContact, UserID: "zhangsan",
			ExternalUserID: "woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA", Source: "DELETE_BY_TRANSFER"}, true,
			"evt|sys|1403610513|change_external_contact|del_external_contact|||zhangsan|woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA|"},
		{"del_follow_user.xml", Event{ToUserName: "toUser", FromUserName: "sys", CreateTime: created, MsgType: "event",
			Event: EventExternalContact, ChangeType: DelFollowUser, UserID: "zhangsan",
			ExternalUserID: "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA"}, true,
			"evt|sys|1403610513|change_external_contact|del_follow_user|||zhangsan|woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA|"},
		{"external_chat_create.xml", Event{ToUserName: "toUser", FromUserName: "sys", CreateTime: created, MsgType: "event",
			Event: EventExternalChat, ChangeType: ChatCreate, ChatID: "CHAT_ID"}, true,
			"evt|sys|1403610513|change_external_chat|create||CHAT_ID|||"},
		{"external_chat_add_member.xml", Event{ToUserName: "toUser", FromUserName: "sys", CreateTime: created, MsgType: "event",
			Event: EventExternalChat, ChangeType: ChatUpdate, UpdateDetail: ChatAddMember, ChatID: "CHAT_ID",
			JoinScene: 1, MemChangeCnt: 10, MemChangeList: []string{"Jack", "Rose"},
			LastMemVer: "9c3f97c2ada667dfb5f6d03308d963e1", CurMemVer: "71217227bbd112ecfe3a49c482195cb4"}, true,
			"evt|sys|1403610513|change_external_chat|update|add_member|CHAT_ID|||71217227bbd112ecfe3a49c482195cb4"},
		{"external_chat_del_member.xml", Event{ToUserName: "toUser", FromUserName: "sys", CreateTime: 1403610600, MsgType: "event",
			Event: EventExternalChat, ChangeType: ChatUpdate, UpdateDetail: ChatDelMember, ChatID: "CHAT_ID",
			QuitScene: 1, MemChangeCnt: 1, MemChangeList: []string{"Rose"},
			LastMemVer: "71217227bbd112ecfe3a49c482195cb4", CurMemVer: "0b1c6e371b5f44492ca01e026ccce6f1"}, true,
			"evt|sys|1403610600|change_external_chat|update|del_member|CHAT_ID|||0b1c6e371b5f44492ca01e026ccce6f1"},
		{"external_chat_dismiss.xml", Event{ToUserName: "toUser", FromUserName: "sys", CreateTime: created, MsgType: "event",
			Event: EventExternalChat, ChangeType: ChatDismiss, ChatID: "CHAT_ID"}, true,
			"evt|sys|1403610513|change_external_chat|dismiss||CHAT_ID|||"},
		{"text_message.xml", Event{ToUserName: "toUser", FromUserName: "fromUser", CreateTime: 1348831860, MsgType: "text",
			Content: "this is a test", MsgID: "1234567890123456", AgentID: "1"}, true, "msg:1234567890123456"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(readSample(t, tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
			if got.Supported() != tt.supported {
				t.Errorf("Supported = %v, want %v", got.Supported(), tt.supported)
			}
			if d := got.DedupeKey(); d != tt.dedupe {
				t.Errorf("DedupeKey = %q, want %q", d, tt.dedupe)
			}
		})
	}
}

func TestParseAllSamplesCovered(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "official_post") {
			continue
		}
		b, _ := os.ReadFile(f)
		ev, err := Parse(b)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !ev.Supported() {
			t.Errorf("%s: not supported", f)
		}
	}
}

func TestParseVariants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		wantErr   error
		members   []string
		supported bool
	}{
		{"comma-separated member list", `<xml><MsgType>event</MsgType><Event>change_external_chat</Event><ChangeType>update</ChangeType><UpdateDetail>add_member</UpdateDetail><MemChangeList><![CDATA[wmA, wmB]]></MemChangeList></xml>`, nil, []string{"wmA", "wmB"}, true},
		{"change_owner not handled", `<xml><MsgType>event</MsgType><Event>change_external_chat</Event><ChangeType>update</ChangeType><UpdateDetail>change_owner</UpdateDetail></xml>`, nil, nil, false},
		{"edit_external_contact not handled", `<xml><MsgType>event</MsgType><Event>change_external_contact</Event><ChangeType>edit_external_contact</ChangeType></xml>`, nil, nil, false},
		{"image message not handled", `<xml><MsgType>image</MsgType><MsgId>1</MsgId></xml>`, nil, nil, false},
		{"spaces around numbers", `<xml><MsgType>event</MsgType><CreateTime> 12 </CreateTime></xml>`, nil, nil, false},
		{"no MsgType", `<xml><Event>x</Event></xml>`, ErrMalformed, nil, false},
		{"bad CreateTime", `<xml><MsgType>text</MsgType><CreateTime>soon</CreateTime></xml>`, ErrMalformed, nil, false},
		{"wrong root", `<msg><MsgType>text</MsgType></msg>`, ErrMalformed, nil, false},
		{"truncated", `<xml><MsgType>text`, ErrMalformed, nil, false},
		{"empty", ``, ErrMalformed, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := Parse([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !reflect.DeepEqual(ev.MemChangeList, tt.members) {
				t.Errorf("MemChangeList = %q, want %q", ev.MemChangeList, tt.members)
			}
			if ev.Supported() != tt.supported {
				t.Errorf("Supported = %v, want %v", ev.Supported(), tt.supported)
			}
		})
	}
}

func TestDedupeKeyDistinguishesSameSecondEvents(t *testing.T) {
	t.Parallel()
	base := Event{FromUserName: "sys", CreateTime: 1, MsgType: "event", Event: EventExternalContact, ChangeType: AddExternalContact, UserID: "li"}
	a, b := base, base
	a.ExternalUserID, b.ExternalUserID = "wmA", "wmB"
	if a.DedupeKey() == b.DedupeKey() {
		t.Error("two customers added in the same second share a dedupe key")
	}
	if a.DedupeKey() != a.DedupeKey() {
		t.Error("dedupe key is not stable")
	}
}

func TestEventTime(t *testing.T) {
	t.Parallel()
	if got, want := (Event{CreateTime: 1409659813}).Time(), time.Date(2014, 9, 2, 12, 10, 13, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Time = %v, want %v", got, want)
	}
}
