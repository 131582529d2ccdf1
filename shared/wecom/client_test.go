package wecom_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/envelope/envelopetest"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/netguard"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/wecom"
	"github.com/tribehq/tribe/shared/wecom/wecomfake"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

const (
	corp   = "ww-corp"
	secret = "app-secret"
)

// stand is one table and tenant, a fake WeCom and a clock both follow.
type stand struct {
	raw    *dynamodb.Client
	table  string
	fake   *wecomfake.Server
	tenant *store.Tenant
	mu     sync.Mutex
	now    time.Time
}

func (s *stand) clock() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now }
func (s *stand) advance(d time.Duration) {
	s.mu.Lock()
	s.now = s.now.Add(d)
	s.mu.Unlock()
}

func newStand(t *testing.T) *stand {
	t.Helper()
	raw, name := dynamotest.Table(t)
	st, err := store.New(dynamo.New(dynamolocal.Config(dynamotest.Endpoint(t))), name, store.WithSealer(envelopetest.Sealer(t)))
	if err != nil {
		t.Fatal(err)
	}
	s := &stand{raw: raw, table: name, now: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	st.SetClock(s.clock)
	s.tenant, err = st.Tenant(ids.New(ids.Tenant))
	if err != nil {
		t.Fatal(err)
	}
	s.fake = wecomfake.New(corp, secret)
	s.fake.SetClock(s.clock)
	t.Cleanup(s.fake.Close)
	return s
}

// lambda is one process's client: its own factory, sharing only the table.
func (s *stand) lambda(t *testing.T) *wecom.Client {
	t.Helper()
	cs := wecom.NewClients(wecom.Config{BaseURL: s.fake.URL, Guard: netguard.New(netguard.AllowLoopback(), netguard.AllowHTTP()),
		Backoff: time.Millisecond, Now: s.clock, RatePerSecond: 1000, Burst: 1000})
	c, err := cs.New(corp, secret, wecom.TenantCache{T: s.tenant})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func way() wecom.ContactWay {
	return wecom.ContactWay{Type: wecom.ContactWaySingle, Scene: wecom.SceneQRCode, State: "douyin", User: []string{"li"}}
}

func TestTokenSharedThroughTheTableByTwoLambdas(t *testing.T) {
	s := newStand(t)
	ctx := context.Background()
	a, b := s.lambda(t), s.lambda(t)
	if _, _, err := a.AddContactWay(ctx, way()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.AddContactWay(ctx, way()); err != nil {
		t.Fatal(err)
	}
	if got := s.fake.Calls("gettoken"); got != 1 {
		t.Fatalf("gettoken calls = %d, want 1 (the second Lambda reads the table)", got)
	}
	// Five minutes before expiry the token is refreshed, once for both.
	s.advance(wecomfake.TokenTTL - 4*time.Minute)
	for _, c := range []*wecom.Client{a, b, a} {
		if _, _, err := c.AddContactWay(ctx, way()); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.fake.Calls("gettoken"); got != 2 {
		t.Fatalf("gettoken calls = %d, want 2", got)
	}
	// WeCom answered the same token with 4 minutes left: it is used for half of
	// them, not fetched again on every call.
	s.advance(time.Minute)
	if _, _, err := b.AddContactWay(ctx, way()); err != nil {
		t.Fatal(err)
	}
	if got := s.fake.Calls("gettoken"); got != 2 {
		t.Fatalf("gettoken calls = %d, want 2", got)
	}
	s.advance(2 * time.Minute)
	if _, _, err := b.AddContactWay(ctx, way()); err != nil {
		t.Fatal(err)
	}
	if got := s.fake.Calls("gettoken"); got != 3 {
		t.Fatalf("gettoken calls = %d, want 3 (past expiry a new token)", got)
	}
}

func TestConcurrentLambdasFetchOneToken(t *testing.T) {
	s := newStand(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		c := s.lambda(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := c.AddContactWay(ctx, way())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := s.fake.Calls("gettoken"); got != 1 {
		t.Fatalf("gettoken calls = %d, want 1 (the refresh lock)", got)
	}
}

func TestExpiredTokenMidRunIsRefetchedOnce(t *testing.T) {
	s := newStand(t)
	ctx := context.Background()
	a, b := s.lambda(t), s.lambda(t)
	if _, _, err := a.AddContactWay(ctx, way()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.AddContactWay(ctx, way()); err != nil {
		t.Fatal(err)
	}
	s.fake.ExpireTokens() // WeCom ends the token early
	if _, _, err := a.AddContactWay(ctx, way()); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	// b still holds the old token in memory: it is refused, b reads the new one
	// a cached in the table rather than fetching its own.
	if _, _, err := b.AddContactWay(ctx, way()); err != nil {
		t.Fatalf("b after expiry: %v", err)
	}
	if got := s.fake.Calls("gettoken"); got != 2 {
		t.Fatalf("gettoken calls = %d, want 2", got)
	}
	if got := s.fake.Calls("externalcontact/add_contact_way"); got != 6 {
		t.Fatalf("add_contact_way calls = %d, want 6 (two refused with 42001)", got)
	}
}

func TestBusyIsRetriedWithBackoff(t *testing.T) {
	s := newStand(t)
	ctx := context.Background()
	c := s.lambda(t)
	s.fake.Busy(3) // gettoken busy once, then the call twice
	if _, _, err := c.AddContactWay(ctx, way()); err != nil {
		t.Fatalf("busy not retried: %v", err)
	}
	s.fake.Busy(4) // more than the three retries
	_, _, err := c.AddContactWay(ctx, way())
	if !wecom.IsCode(err, wecom.CodeBusy) {
		t.Fatalf("err = %v, want errcode -1 after three retries", err)
	}
}

func TestOtherErrcodesAreTypedErrors(t *testing.T) {
	s := newStand(t)
	ctx := context.Background()
	c := s.lambda(t)
	bad := way()
	bad.State = "a-state-that-is-longer-than-thirty-chars"
	_, _, err := c.AddContactWay(ctx, bad)
	var we *wecom.Error
	if !errors.As(err, &we) || we.Code != 40058 || we.Path != "externalcontact/add_contact_way" {
		t.Fatalf("err = %v, want *wecom.Error 40058 naming the path", err)
	}
	cs := wecom.NewClients(wecom.Config{BaseURL: s.fake.URL, Guard: netguard.New(netguard.AllowLoopback(), netguard.AllowHTTP()), Now: s.clock})
	wrong, err := cs.New(corp, "wrong-secret", wecom.TenantCache{T: s.tenant})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := wrong.AddContactWay(ctx, way()); !wecom.IsCode(err, wecom.CodeInvalidSecret) {
		t.Fatalf("wrong secret: %v, want 40001", err)
	}
}

func TestProductionGuardRefusesLoopback(t *testing.T) {
	s := newStand(t)
	cs := wecom.NewClients(wecom.Config{BaseURL: s.fake.URL, Now: s.clock})
	c, err := cs.New(corp, secret, wecom.TenantCache{T: s.tenant})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.AddContactWay(context.Background(), way()); err == nil {
		t.Fatal("the production guard let a call reach a loopback server")
	}
}

// TestTokenIsSealedAtRest: the access token cached in the table is sealed, not
// the token WeCom issued.
func TestTokenIsSealedAtRest(t *testing.T) {
	s := newStand(t)
	if _, _, err := s.lambda(t).AddContactWay(context.Background(), way()); err != nil {
		t.Fatal(err)
	}
	out, err := s.raw.Scan(context.Background(), &dynamodb.ScanInput{TableName: &s.table})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, it := range out.Items {
		if typ, ok := it["type"].(*types.AttributeValueMemberS); !ok || typ.Value != "wecom_token" {
			continue
		}
		found++
		tok, ok := it["token"].(*types.AttributeValueMemberS)
		if !ok || tok.Value == "" || strings.Contains(tok.Value, "tok-") {
			t.Fatalf("token at rest: %v", it["token"])
		}
	}
	if found != 1 {
		t.Fatalf("token items = %d, want 1", found)
	}
}

// 45033 (too many concurrent calls) is retried like a busy answer.
func TestConcurrencyLimitIsRetried(t *testing.T) {
	s := newStand(t)
	ctx := context.Background()
	c := s.lambda(t)
	if _, _, err := c.AddContactWay(ctx, way()); err != nil { // the token, cached
		t.Fatal(err)
	}
	s.fake.Crowded(2)
	if _, _, err := c.AddContactWay(ctx, way()); err != nil {
		t.Fatalf("45033 not retried: %v", err)
	}
	s.fake.Crowded(4)
	if _, _, err := c.AddContactWay(ctx, way()); !wecom.IsCode(err, wecom.CodeConcurrencyLimit) {
		t.Fatalf("err = %v, want 45033 after three retries", err)
	}
}

// WeCom's documented codes for welcome codes: 41050 for one unknown or past its
// 20 s, 41051 for every call after the first with a code; contact ways' unknown
// config ids are 41044.
func TestDocumentedErrcodes(t *testing.T) {
	s := newStand(t)
	ctx := context.Background()
	c := s.lambda(t)
	msg := func(code string) wecom.WelcomeMsg {
		return wecom.WelcomeMsg{WelcomeCode: code, Text: &struct {
			Content string `json:"content"`
		}{"hi"}}
	}
	if err := c.SendWelcomeMsg(ctx, msg("never-issued")); !wecom.IsCode(err, wecom.CodeWelcomeCodeInvalid) {
		t.Fatalf("unknown code: %v, want 41050", err)
	}
	s.fake.IssueWelcomeCode("wc1")
	if err := c.SendWelcomeMsg(ctx, msg("wc1")); err != nil {
		t.Fatal(err)
	}
	if err := c.SendWelcomeMsg(ctx, msg("wc1")); !wecom.IsCode(err, wecom.CodeWelcomeTaken) {
		t.Fatalf("second send: %v, want 41051", err)
	}
	s.fake.IssueWelcomeCode("wc2")
	s.advance(21 * time.Second)
	if err := c.SendWelcomeMsg(ctx, msg("wc2")); !wecom.IsCode(err, wecom.CodeWelcomeCodeInvalid) {
		t.Fatalf("code past 20 s: %v, want 41050", err)
	}
	if err := c.DelContactWay(ctx, "no-such-config"); !wecom.IsCode(err, 41044) {
		t.Fatalf("unknown contact way: %v, want 41044", err)
	}
}
