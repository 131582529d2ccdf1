package streampump

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/catalogue"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/table"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// stream is a fresh table on DynamoDB Local with its stream.
type stream struct {
	db      *dynamodb.Client
	table   string
	arn     string
	streams *dynamodbstreams.Client
}

func newStream(t *testing.T) stream {
	t.Helper()
	db, name := dynamotest.Table(t)
	out, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return stream{
		db: db, table: name, arn: aws.ToString(out.Table.LatestStreamArn),
		streams: dynamolocal.StreamsClient(dynamotest.Endpoint(t)),
	}
}

// put writes items "<type>:<sk>" in order, e.g. "member:m1".
func (s stream) put(t *testing.T, items ...string) {
	t.Helper()
	for _, it := range items {
		typ, sk, _ := strings.Cut(it, ":")
		_, err := s.db.PutItem(context.Background(), &dynamodb.PutItemInput{
			TableName: aws.String(s.table),
			Item: map[string]ddbtypes.AttributeValue{
				table.PK:   &ddbtypes.AttributeValueMemberS{Value: "TENANT#t1"},
				table.SK:   &ddbtypes.AttributeValueMemberS{Value: sk},
				table.Type: &ddbtypes.AttributeValueMemberS{Value: typ},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (s stream) pump(t *testing.T, dir string, consumers ...Consumer) *Pump {
	t.Helper()
	p, err := New(s.streams, consumers, Options{
		StreamARN: s.arn, DataDir: dir, PollInterval: 10 * time.Millisecond,
		RetryDelay: time.Millisecond, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func drain(t *testing.T, p *Pump) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func members(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("member:m%d", i))
	}
	return out
}

func sks(items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		_, out[i], _ = strings.Cut(it, ":")
	}
	return out
}

// fake is a handler that records every call and acknowledges records unless poison
// says a record fails on that attempt.
type fake struct {
	mu    sync.Mutex
	calls [][]string // the SKs of each call
	acked []string   // records the handler finished, in order
	tries map[string]int
	// mode: "partial" reports the first failing record and stops, like the AWS
	// example; "error" fails the whole call; "panic" panics.
	mode   string
	poison func(sk string, try int) bool
}

func sk(r events.DynamoDBEventRecord) string {
	img := r.Change.NewImage
	if img == nil {
		img = r.Change.OldImage
	}
	return img[table.SK].String()
}

func (f *fake) handle(_ context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tries == nil {
		f.tries = map[string]int{}
	}
	var call []string
	failing := -1
	for i, r := range e.Records {
		call = append(call, sk(r))
		f.tries[sk(r)]++
		if failing < 0 && f.poison != nil && f.poison(sk(r), f.tries[sk(r)]) {
			failing = i
		}
	}
	f.calls = append(f.calls, call)
	switch {
	case failing < 0:
		f.acked = append(f.acked, call...)
		return events.DynamoDBEventResponse{}, nil
	case f.mode == "error":
		return events.DynamoDBEventResponse{}, errors.New("poison in batch")
	case f.mode == "panic":
		panic("poison in batch")
	default:
		f.acked = append(f.acked, call[:failing]...)
		return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{
			{ItemIdentifier: e.Records[failing].Change.SequenceNumber},
		}}, nil
	}
}

func (f *fake) consumer(name string, batch, retries int, types ...string) Consumer {
	return Consumer{Name: name, ItemTypes: types, BatchSize: batch, MaxRetries: retries, Handler: f.handle}
}

func TestFiltersAndBatches(t *testing.T) {
	t.Parallel()
	writes := []string{
		"member:m1", "order:o1", "member:m2", "member:m3", "tier:t1",
		"member:m4", "order:o2", "member:m5", "member:m6", "member:m7",
	}
	tests := []struct {
		name  string
		types []string
		batch int
		want  [][]string
	}{
		{"one type in batches of 3", []string{"member"}, 3, [][]string{{"m1", "m2", "m3"}, {"m4", "m5", "m6"}, {"m7"}}},
		{"two types in batches of 4", []string{"member", "order"}, 4, [][]string{{"m1", "o1", "m2", "m3"}, {"m4", "o2", "m5", "m6"}, {"m7"}}},
		{"batch larger than the stream", []string{"order"}, 100, [][]string{{"o1", "o2"}}},
		{"nothing matches", []string{"reward"}, 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStream(t)
			s.put(t, writes...)
			f := &fake{}
			drain(t, s.pump(t, "", f.consumer("fn", tt.batch, 1, tt.types...)))
			if !reflect.DeepEqual(f.calls, tt.want) {
				t.Errorf("calls = %v, want %v", f.calls, tt.want)
			}
		})
	}
}

func TestDeliversLambdaRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStream(t)
	key := map[string]ddbtypes.AttributeValue{
		table.PK: &ddbtypes.AttributeValueMemberS{Value: "TENANT#t1"},
		table.SK: &ddbtypes.AttributeValueMemberS{Value: "m1"},
	}
	s.put(t, "member:m1")
	if _, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key,
		UpdateExpression:          aws.String("SET points = :p"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": &ddbtypes.AttributeValueMemberN{Value: "10"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key}); err != nil {
		t.Fatal(err)
	}
	var got []events.DynamoDBEventRecord
	p := s.pump(t, "", Consumer{Name: "fn", ItemTypes: []string{"member"}, BatchSize: 10, MaxRetries: 1,
		Handler: func(_ context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			got = append(got, e.Records...)
			return events.DynamoDBEventResponse{}, nil
		}})
	drain(t, p)

	tests := []struct {
		name      string
		event     string
		hasNew    bool
		hasOld    bool
		wantPoint string
	}{
		{"insert", "INSERT", true, false, ""},
		{"modify", "MODIFY", true, true, "10"},
		{"remove, matched on its old image", "REMOVE", false, true, "10"},
	}
	if len(got) != len(tests) {
		t.Fatalf("got %d records, want %d", len(got), len(tests))
	}
	for i, tt := range tests {
		r := got[i]
		t.Run(tt.name, func(t *testing.T) {
			if r.EventName != tt.event || r.EventSource != "aws:dynamodb" || r.EventSourceArn != s.arn || r.EventID == "" || r.AWSRegion == "" {
				t.Errorf("record header = %+v", r)
			}
			c := r.Change
			if c.StreamViewType != "NEW_AND_OLD_IMAGES" || c.SequenceNumber == "" || c.SizeBytes <= 0 || c.ApproximateCreationDateTime.IsZero() {
				t.Errorf("change = %+v", c)
			}
			if c.Keys[table.SK].String() != "m1" || c.Keys[table.PK].String() != "TENANT#t1" || len(c.Keys) != 2 {
				t.Errorf("keys = %v", c.Keys)
			}
			if (c.NewImage != nil) != tt.hasNew || (c.OldImage != nil) != tt.hasOld {
				t.Errorf("new image %v, old image %v; want new %v, old %v", c.NewImage, c.OldImage, tt.hasNew, tt.hasOld)
			}
			if tt.wantPoint != "" {
				img := c.NewImage
				if img == nil {
					img = c.OldImage
				}
				if got := img["points"].Number(); got != tt.wantPoint {
					t.Errorf("points = %s, want %s", got, tt.wantPoint)
				}
			}
		})
	}
	if !(got[0].Change.SequenceNumber < got[1].Change.SequenceNumber || len(got[0].Change.SequenceNumber) < len(got[1].Change.SequenceNumber)) {
		t.Errorf("sequence numbers out of order: %s, %s", got[0].Change.SequenceNumber, got[1].Change.SequenceNumber)
	}
}

func TestConvertsEveryAttributeType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   ddbtypes.AttributeValue
		want events.DynamoDBAttributeValue
	}{
		{"S", &ddbtypes.AttributeValueMemberS{Value: "héllo"}, events.NewStringAttribute("héllo")},
		{"N", &ddbtypes.AttributeValueMemberN{Value: "-12.5"}, events.NewNumberAttribute("-12.5")},
		{"B", &ddbtypes.AttributeValueMemberB{Value: []byte{0, 1, 255}}, events.NewBinaryAttribute([]byte{0, 1, 255})},
		{"BOOL", &ddbtypes.AttributeValueMemberBOOL{Value: true}, events.NewBooleanAttribute(true)},
		{"NULL", &ddbtypes.AttributeValueMemberNULL{Value: true}, events.NewNullAttribute()},
		{"SS", &ddbtypes.AttributeValueMemberSS{Value: []string{"a", "b"}}, events.NewStringSetAttribute([]string{"a", "b"})},
		{"NS", &ddbtypes.AttributeValueMemberNS{Value: []string{"1", "2"}}, events.NewNumberSetAttribute([]string{"1", "2"})},
		{"BS", &ddbtypes.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}}, events.NewBinarySetAttribute([][]byte{{1}, {2, 3}})},
		{"L", &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{
			&ddbtypes.AttributeValueMemberS{Value: "x"}, &ddbtypes.AttributeValueMemberN{Value: "1"},
		}}, events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewStringAttribute("x"), events.NewNumberAttribute("1")})},
		{"M", &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{
			"tags": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{&ddbtypes.AttributeValueMemberBOOL{Value: false}}},
			"none": &ddbtypes.AttributeValueMemberNULL{Value: true},
		}}, events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{
			"tags": events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewBooleanAttribute(false)}),
			"none": events.NewNullAttribute(),
		})},
	}
	// Every type, written to DynamoDB Local and read back from its stream.
	item := map[string]ddbtypes.AttributeValue{
		table.PK:   &ddbtypes.AttributeValueMemberS{Value: "TENANT#t1"},
		table.SK:   &ddbtypes.AttributeValueMemberS{Value: "all"},
		table.Type: &ddbtypes.AttributeValueMemberS{Value: "member"},
	}
	for _, tt := range tests {
		item["a"+tt.name] = tt.in
	}
	s := newStream(t)
	if _, err := s.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		t.Fatal(err)
	}
	var img map[string]events.DynamoDBAttributeValue
	drain(t, s.pump(t, "", Consumer{Name: "fn", ItemTypes: []string{"member"}, BatchSize: 1, MaxRetries: 0,
		Handler: func(_ context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			img = e.Records[0].Change.NewImage
			return events.DynamoDBEventResponse{}, nil
		}}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := img["a"+tt.name]; !reflect.DeepEqual(avJSON(t, got), avJSON(t, tt.want)) {
				t.Errorf("from the stream = %s, want %s", avJSON(t, got), avJSON(t, tt.want))
			}
			if got := convertItem(map[string]streamtypes.AttributeValue{"a": toStreams(t, tt.in)})["a"]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("convertItem = %s, want %s", avJSON(t, got), avJSON(t, tt.want))
			}
		})
	}
}

// toStreams rebuilds a DynamoDB attribute value as the Streams API's type of it.
func toStreams(tb testing.TB, v ddbtypes.AttributeValue) streamtypes.AttributeValue {
	tb.Helper()
	switch v := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return &streamtypes.AttributeValueMemberS{Value: v.Value}
	case *ddbtypes.AttributeValueMemberN:
		return &streamtypes.AttributeValueMemberN{Value: v.Value}
	case *ddbtypes.AttributeValueMemberB:
		return &streamtypes.AttributeValueMemberB{Value: v.Value}
	case *ddbtypes.AttributeValueMemberBOOL:
		return &streamtypes.AttributeValueMemberBOOL{Value: v.Value}
	case *ddbtypes.AttributeValueMemberNULL:
		return &streamtypes.AttributeValueMemberNULL{Value: v.Value}
	case *ddbtypes.AttributeValueMemberSS:
		return &streamtypes.AttributeValueMemberSS{Value: v.Value}
	case *ddbtypes.AttributeValueMemberNS:
		return &streamtypes.AttributeValueMemberNS{Value: v.Value}
	case *ddbtypes.AttributeValueMemberBS:
		return &streamtypes.AttributeValueMemberBS{Value: v.Value}
	case *ddbtypes.AttributeValueMemberL:
		out := &streamtypes.AttributeValueMemberL{}
		for _, e := range v.Value {
			out.Value = append(out.Value, toStreams(tb, e))
		}
		return out
	case *ddbtypes.AttributeValueMemberM:
		out := &streamtypes.AttributeValueMemberM{Value: map[string]streamtypes.AttributeValue{}}
		for k, e := range v.Value {
			out.Value[k] = toStreams(tb, e)
		}
		return out
	}
	tb.Fatalf("no stream type for %T", v)
	return nil
}

func avJSON(tb testing.TB, v events.DynamoDBAttributeValue) string {
	tb.Helper()
	b, err := v.MarshalJSON()
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mode    string
		writes  []string
		batch   int
		retries int
		poison  func(sk string, try int) bool
		// wantCalls is every call the handler saw, in order.
		wantCalls [][]string
		wantDead  []string
		// wantAttempts is how often the dead-lettered record failed.
		wantAttempts int
	}{
		{
			name: "batch item failure retries from the failed record", mode: "partial",
			writes: members(1, 5), batch: 10, retries: 2,
			poison:    func(sk string, try int) bool { return sk == "m3" && try == 1 },
			wantCalls: [][]string{{"m1", "m2", "m3", "m4", "m5"}, {"m3", "m4", "m5"}},
		},
		{
			name: "error retries the whole batch", mode: "error",
			writes: members(1, 4), batch: 10, retries: 2,
			poison:    func(sk string, try int) bool { return sk == "m2" && try == 1 },
			wantCalls: [][]string{{"m1", "m2", "m3", "m4"}, {"m1", "m2", "m3", "m4"}},
		},
		{
			name: "a record that always fails is dead-lettered after its retries", mode: "partial",
			writes: members(1, 6), batch: 6, retries: 2,
			poison: func(sk string, _ int) bool { return sk == "m4" },
			wantCalls: [][]string{
				{"m1", "m2", "m3", "m4", "m5", "m6"},
				{"m4", "m5", "m6"}, {"m4", "m5", "m6"},
				{"m5", "m6"},
			},
			wantDead: []string{"m4"}, wantAttempts: 3,
		},
		{
			name: "repeated errors bisect down to the poison record", mode: "error",
			writes: members(1, 6), batch: 6, retries: 2,
			poison: func(sk string, _ int) bool { return sk == "m4" },
			wantCalls: [][]string{
				{"m1", "m2", "m3", "m4", "m5", "m6"}, {"m1", "m2", "m3", "m4", "m5", "m6"},
				{"m1", "m2", "m3"},
				{"m4", "m5", "m6"}, {"m4", "m5", "m6"},
				{"m4"}, {"m4"}, {"m4"},
				{"m5", "m6"},
			},
			wantDead: []string{"m4"}, wantAttempts: 3,
		},
		{
			name: "a panicking handler is treated as an error", mode: "panic",
			writes: members(1, 2), batch: 2, retries: 0,
			poison:    func(sk string, _ int) bool { return sk == "m2" },
			wantCalls: [][]string{{"m1", "m2"}, {"m1", "m2"}, {"m1"}, {"m2"}},
			wantDead:  []string{"m2"}, wantAttempts: 1,
		},
		{
			name: "later batches wait for the dead letter", mode: "partial",
			writes: members(1, 4), batch: 2, retries: 1,
			poison:    func(sk string, _ int) bool { return sk == "m1" },
			wantCalls: [][]string{{"m1", "m2"}, {"m1", "m2"}, {"m2"}, {"m3", "m4"}},
			wantDead:  []string{"m1"}, wantAttempts: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStream(t)
			s.put(t, tt.writes...)
			dir := t.TempDir()
			f := &fake{mode: tt.mode, poison: tt.poison}
			p := s.pump(t, dir, f.consumer("fn", tt.batch, tt.retries, "member"))
			drain(t, p)
			if !reflect.DeepEqual(f.calls, tt.wantCalls) {
				t.Errorf("calls = %v\nwant %v", f.calls, tt.wantCalls)
			}
			// Every record is finished exactly once, in order, or dead-lettered.
			var wantAcked []string
			for _, k := range sks(tt.writes) {
				if !contains(tt.wantDead, k) {
					wantAcked = append(wantAcked, k)
				}
			}
			if !reflect.DeepEqual(f.acked, wantAcked) {
				t.Errorf("acknowledged %v, want %v", f.acked, wantAcked)
			}
			var dead []string
			for _, d := range p.DeadLetters("fn") {
				dead = append(dead, sk(d.Record))
				if d.Attempts != tt.wantAttempts || d.Error == "" || d.Function != "fn" || d.ShardID == "" {
					t.Errorf("dead letter = %+v, want %d attempts and an error", d, tt.wantAttempts)
				}
			}
			if !reflect.DeepEqual(dead, tt.wantDead) {
				t.Errorf("dead letters = %v, want %v", dead, tt.wantDead)
			}
			if got := countLines(t, filepath.Join(dir, "dlq", "fn.jsonl")); got != len(tt.wantDead) {
				t.Errorf("dead-letter file has %d lines, want %d", got, len(tt.wantDead))
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func countLines(tb testing.TB, path string) int {
	tb.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		tb.Fatal(err)
	}
	return len(bytes.Split(bytes.TrimSpace(b), []byte("\n")))
}

// A restart with the same data dir resumes each function where it stopped; a new
// function starts at the beginning; dead letters are still there.
func TestRestartResumesEachFunction(t *testing.T) {
	t.Parallel()
	s := newStream(t)
	dir := t.TempDir()
	s.put(t, members(1, 3)...)
	first := &fake{mode: "partial", poison: func(sk string, _ int) bool { return sk == "m2" }}
	drain(t, s.pump(t, dir, first.consumer("counters", 10, 0, "member")))
	if want := []string{"m1", "m3"}; !reflect.DeepEqual(first.acked, want) {
		t.Fatalf("first run acknowledged %v, want %v", first.acked, want)
	}

	s.put(t, members(4, 5)...)
	again, other := &fake{}, &fake{}
	p := s.pump(t, dir, again.consumer("counters", 10, 0, "member"), other.consumer("audit", 10, 0, "member"))
	drain(t, p)
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"resumed function gets only new records", again.acked, []string{"m4", "m5"}},
		{"new function gets everything", other.acked, []string{"m1", "m2", "m3", "m4", "m5"}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if dead := p.DeadLetters("counters"); len(dead) != 1 || sk(dead[0].Record) != "m2" {
		t.Errorf("dead letters after restart = %+v, want m2 from the first run", dead)
	}

	// Nothing new: a third run delivers nothing.
	third := &fake{}
	drain(t, s.pump(t, dir, third.consumer("counters", 10, 0, "member")))
	if len(third.calls) != 0 {
		t.Errorf("third run calls = %v, want none", third.calls)
	}
}

func TestStartAtLatest(t *testing.T) {
	t.Parallel()
	s := newStream(t)
	dir := t.TempDir()
	s.put(t, members(1, 2)...)
	f := &fake{}
	p, err := New(s.streams, []Consumer{f.consumer("fn", 10, 0, "member")}, Options{
		StreamARN: s.arn, DataDir: dir, StartAtLatest: true, RetryDelay: time.Millisecond, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, p)
	s.put(t, members(3, 3)...)
	drain(t, p)
	if want := []string{"m3"}; !reflect.DeepEqual(f.acked, want) {
		t.Errorf("acknowledged %v, want %v", f.acked, want)
	}
}

func TestRunDeliversUntilCancelled(t *testing.T) {
	t.Parallel()
	s := newStream(t)
	got := make(chan string, 10)
	p := s.pump(t, "", Consumer{Name: "fn", ItemTypes: []string{"member"}, BatchSize: 10, MaxRetries: 0,
		Handler: func(_ context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			for _, r := range e.Records {
				got <- sk(r)
			}
			return events.DynamoDBEventResponse{}, nil
		}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	s.put(t, members(1, 2)...)
	for _, want := range []string{"m1", "m2"} {
		select {
		case k := <-got:
			if k != want {
				t.Errorf("got %s, want %s", k, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Run did not deliver %s", want)
		}
	}
	if err := p.Drain(ctx); err == nil {
		t.Error("Drain while running = nil, want an error")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	f := &fake{}
	good := f.consumer("fn", 10, 1, "member")
	tests := []struct {
		name      string
		streams   Streams
		arn       string
		consumers []Consumer
	}{
		{"nil client", nil, "arn", []Consumer{good}},
		{"no stream", &dynamodbstreams.Client{}, "", []Consumer{good}},
		{"duplicate", &dynamodbstreams.Client{}, "arn", []Consumer{good, good}},
		{"bad name", &dynamodbstreams.Client{}, "arn", []Consumer{f.consumer("Fn/x", 10, 1, "member")}},
		{"no types", &dynamodbstreams.Client{}, "arn", []Consumer{f.consumer("fn", 10, 1)}},
		{"zero batch", &dynamodbstreams.Client{}, "arn", []Consumer{f.consumer("fn", 0, 1, "member")}},
		{"negative retries", &dynamodbstreams.Client{}, "arn", []Consumer{f.consumer("fn", 10, -1, "member")}},
		{"nil handler", &dynamodbstreams.Client{}, "arn", []Consumer{{Name: "fn", ItemTypes: []string{"member"}, BatchSize: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tt.streams, tt.consumers, Options{StreamARN: tt.arn}); err == nil {
				t.Fatal("New = nil error, want one")
			}
		})
	}
}

func TestFromCatalogue(t *testing.T) {
	t.Parallel()
	h := (&fake{}).handle
	all := map[string]Handler{}
	var streams []catalogue.Function
	for _, f := range catalogue.All() {
		if f.Stream != nil {
			all[f.Name] = h
			streams = append(streams, f)
		}
	}
	if len(streams) == 0 {
		t.Skip("no stream functions in the catalogue")
	}
	with := func(extra string) map[string]Handler {
		m := map[string]Handler{extra: h}
		for k, v := range all {
			m[k] = v
		}
		return m
	}
	missing := map[string]Handler{}
	for k, v := range all {
		if k != streams[0].Name {
			missing[k] = v
		}
	}
	tests := []struct {
		name     string
		handlers map[string]Handler
		wantErr  string
	}{
		{"every stream function", all, ""},
		{"missing handler", missing, streams[0].Name + " has no handler"},
		{"handler of a non-stream function", with("members"), "members is not a stream function"},
		{"unknown handler", with("countres"), "countres is not a stream function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := FromCatalogue(tt.handlers)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FromCatalogue = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(streams) {
				t.Fatalf("FromCatalogue gave %d consumers, want %d", len(got), len(streams))
			}
			for i, f := range streams {
				c := got[i]
				if c.Name != f.Name || c.BatchSize != f.Stream.BatchSize || c.MaxRetries != f.Stream.MaxRetries ||
					!reflect.DeepEqual(c.ItemTypes, f.Stream.ItemTypes) || c.Handler == nil {
					t.Errorf("consumer %+v, want %s as in the catalogue", c, f.Name)
				}
			}
		})
	}
}
