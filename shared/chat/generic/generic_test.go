package generic

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	samplesDir = "../../../events/chat/generic"
	testSecret = "tribe_test_secret"
	// vectorHeader is member_joined.json signed at 1718006400 with testSecret,
	// computed independently with Python's hmac (see the samples' README).
	vectorHeader = "t=1718006400,v1=251b668141615a85570868bcc0fe56712fab267a354257110444f0c46c233496"
)

var vectorTime = time.Unix(1718006400, 0)

func readSample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		tb.Fatalf("read sample: %v", err)
	}
	return b
}

func header(v string) http.Header {
	h := http.Header{}
	if v != "" {
		h.Set(SignatureHeader, v)
	}
	return h
}

func TestSignMatchesVector(t *testing.T) {
	t.Parallel()
	got, err := Sign(testSecret, vectorTime, readSample(t, "member_joined.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorHeader {
		t.Errorf("Sign = %s, want %s", got, vectorHeader)
	}
	if _, err := Sign("", vectorTime, nil); !errors.Is(err, ErrNoSecret) {
		t.Errorf("Sign with no secret: %v", err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := readSample(t, "member_joined.json")
	good := strings.TrimPrefix(vectorHeader, "t=1718006400,")
	other, _ := Sign("another_secret", vectorTime, body)
	otherV1 := strings.TrimPrefix(other, "t=1718006400,")
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", testSecret, vectorHeader, body, vectorTime, nil},
		{"valid 4m59s later", testSecret, vectorHeader, body, vectorTime.Add(4*time.Minute + 59*time.Second), nil},
		{"valid 5m earlier (clock skew)", testSecret, vectorHeader, body, vectorTime.Add(-5 * time.Minute), nil},
		{"rotation: second v1 matches", testSecret, "t=1718006400," + otherV1 + "," + good, body, vectorTime, nil},
		{"spaces after commas", testSecret, "t=1718006400, " + good, body, vectorTime, nil},
		{"unknown scheme ignored", testSecret, vectorHeader + ",v0=abc", body, vectorTime, nil},
		{"too old", testSecret, vectorHeader, body, vectorTime.Add(5*time.Minute + time.Second), ErrStale},
		{"from the future", testSecret, vectorHeader, body, vectorTime.Add(-6 * time.Minute), ErrStale},
		{"wrong secret", "nope", vectorHeader, body, vectorTime, ErrSignature},
		{"body changed", testSecret, vectorHeader, append(body[:len(body):len(body)], ' '), vectorTime, ErrSignature},
		{"timestamp changed", testSecret, strings.Replace(vectorHeader, "1718006400", "1718006401", 1), body, vectorTime, ErrSignature},
		{"missing header", testSecret, "", body, vectorTime, ErrNoSignature},
		{"no v1", testSecret, "t=1718006400", body, vectorTime, ErrSignature},
		{"no t", testSecret, good, body, vectorTime, ErrSignature},
		{"two t", testSecret, "t=1,t=1718006400," + good, body, vectorTime, ErrSignature},
		{"bad t", testSecret, "t=soon," + good, body, vectorTime, ErrSignature},
		{"garbage", testSecret, "hello", body, vectorTime, ErrSignature},
		{"v1 not hex", testSecret, "t=1718006400,v1=zz", body, vectorTime, ErrSignature},
		{"too many v1", testSecret, "t=1718006400" + strings.Repeat(",v1=00", 9), body, vectorTime, ErrSignature},
		{"no secret", "", vectorHeader, body, vectorTime, ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := Verify(tt.secret, header(tt.header), tt.body, tt.now); !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseSamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want Event
	}{
		{"member_joined.json", Event{ID: "evt_01HZX3M7Q2J8", Type: MemberJoined, Platform: Telegram, ChatID: "-1001234567890",
			User: User{ID: "42", Name: "Ana"}, State: "ch_42", Timestamp: time.Date(2024, 6, 10, 8, 0, 0, 0, time.UTC)}},
		{"member_left.json", Event{ID: "evt_01HZX3M7Q2J9", Type: MemberLeft, Platform: Discord, ChatID: "1122334455",
			User: User{ID: "80351110224678912", Name: "Nelly"}, Timestamp: time.Date(2024, 6, 10, 1, 30, 0, 0, time.UTC)}},
		{"message_posted.json", Event{ID: "evt_01HZX3M7Q2JA", Type: MessagePosted, Platform: Feishu, ChatID: "oc_5ad11d72b830411d72b836c20",
			User: User{ID: "ou_7d8a6e6df7621556ce0d21922b676706", Name: "李雷"}, Text: "签到 ✅",
			Timestamp: time.Date(2024, 6, 10, 8, 1, 2, 500e6, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(readSample(t, tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !got.Timestamp.Equal(tt.want.Timestamp) {
				t.Errorf("Timestamp = %v, want %v", got.Timestamp, tt.want.Timestamp)
			}
			got.Timestamp, tt.want.Timestamp = time.Time{}, time.Time{}
			if got != tt.want {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if len(files) != len(tests) {
		t.Errorf("%d sample files, %d tested", len(files), len(tests))
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	valid := `{"id":"e1","type":"member.joined","platform":"slack","chat_id":"C1","user":{"id":"U1"},"timestamp":"2024-06-10T08:00:00Z"}`
	with := func(old, new string) string { return strings.Replace(valid, old, new, 1) }
	tests := []struct {
		name, body string
	}{
		{"unknown field", with(`"id":"e1"`, `"id":"e1","extra":1`)},
		{"unknown user field", with(`{"id":"U1"}`, `{"id":"U1","email":"a@b"}`)},
		{"missing id", with(`"id":"e1",`, ``)},
		{"blank id", with(`"id":"e1"`, `"id":"  "`)},
		{"long id", with(`"id":"e1"`, `"id":"`+strings.Repeat("a", MaxIDLen+1)+`"`)},
		{"control char in id", with(`"id":"e1"`, `"id":"e\n1"`)},
		{"unknown type", with(`member.joined`, `member.kicked`)},
		{"unknown platform", with(`slack`, `irc`)},
		{"missing chat_id", with(`"chat_id":"C1",`, ``)},
		{"missing user", with(`"user":{"id":"U1"},`, ``)},
		{"null user", with(`{"id":"U1"}`, `null`)},
		{"long name", with(`{"id":"U1"}`, `{"id":"U1","name":"`+strings.Repeat("n", MaxNameLen+1)+`"}`)},
		{"long state", with(`"chat_id"`, `"state":"`+strings.Repeat("s", MaxStateLen+1)+`","chat_id"`)},
		{"text on join", with(`"chat_id"`, `"text":"hi","chat_id"`)},
		{"message without text", with(`member.joined`, `message.posted`)},
		{"text too long", strings.Replace(with(`member.joined`, `message.posted`), `"chat_id"`, `"text":"`+strings.Repeat("字", MaxText+1)+`","chat_id"`, 1)},
		{"missing timestamp", with(`,"timestamp":"2024-06-10T08:00:00Z"`, ``)},
		{"timestamp not RFC 3339", with(`2024-06-10T08:00:00Z`, `10/06/2024`)},
		{"timestamp as number", with(`"2024-06-10T08:00:00Z"`, `1718006400`)},
		{"id as number", with(`"id":"e1"`, `"id":1`)},
		{"two objects", valid + valid},
		{"trailing garbage", valid + "x"},
		{"array", "[" + valid + "]"},
		{"not utf-8", with(`"U1"`, "\"U\xff\"")},
		{"empty", ``},
		{"too large", valid + strings.Repeat(" ", MaxBodyBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Parse([]byte(tt.body)); !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse error = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := Parse([]byte(valid + "\n")); err != nil {
		t.Errorf("valid body with trailing newline: %v", err)
	}
}

func TestDedupeKey(t *testing.T) {
	t.Parallel()
	if got := (Event{ID: "e1", Platform: Slack}).DedupeKey(); got != "generic:slack:e1" {
		t.Errorf("DedupeKey = %q", got)
	}
}
