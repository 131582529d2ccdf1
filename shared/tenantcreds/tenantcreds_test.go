package tenantcreds_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tribehq/tribe/shared/tenantcreds"
)

const role = "arn:aws:iam::123456789012:role/Tribe-prod-MembersTenantRole"

// fakeSTS answers AssumeRole with credentials valid for ttl, records every call,
// and waits delay first (a stand-in for the STS round trip).
type fakeSTS struct {
	ttl, delay time.Duration
	mu         sync.Mutex
	calls      []tenantcreds.AssumeRoleInput
}

func (f *fakeSTS) AssumeRole(_ context.Context, in tenantcreds.AssumeRoleInput) (aws.Credentials, error) {
	time.Sleep(f.delay)
	f.mu.Lock()
	f.calls = append(f.calls, in)
	n := len(f.calls)
	f.mu.Unlock()
	return aws.Credentials{
		AccessKeyID: "ASIA" + strings.Repeat("X", n), SecretAccessKey: "secret",
		SessionToken: "token", CanExpire: true, Expires: time.Now().Add(f.ttl),
	}, nil
}

func (f *fakeSTS) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func retrieve(t testing.TB, c *tenantcreds.Clients, tenant string) aws.Credentials {
	t.Helper()
	cl, err := c.ClientFor(tenant)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cl.Options().Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func TestAssumesTheTenantRoleWithTheTenantAsSessionTag(t *testing.T) {
	t.Parallel()
	fake := &fakeSTS{ttl: time.Hour}
	c, err := tenantcreds.New(dynamodb.Options{Region: "ap-east-1"}, fake, role, "members")
	if err != nil {
		t.Fatal(err)
	}
	if cl, _ := c.ClientFor("ten_a"); fake.count() != 0 || cl.Options().Region != "ap-east-1" {
		t.Fatalf("ClientFor called STS (%d) or lost the base options", fake.count())
	}
	retrieve(t, c, "ten_a")
	in := fake.calls[0]
	if in.RoleARN != role || in.SessionName != "members@ten_a" || in.Duration != time.Hour {
		t.Errorf("assume role input: arn %s session %s duration %v", in.RoleARN, in.SessionName, in.Duration)
	}
	if len(in.Tags) != 1 || in.Tags["tenant"] != "ten_a" {
		t.Errorf("session tags = %+v, want tenant=ten_a", in.Tags)
	}
}

func TestCredentialsAreCachedPerTenantUntilTheyExpire(t *testing.T) {
	t.Parallel()
	fake := &fakeSTS{ttl: time.Hour}
	c, _ := tenantcreds.New(dynamodb.Options{}, fake, role, "points")
	a := retrieve(t, c, "ten_a")
	for i := 0; i < 10; i++ {
		if got := retrieve(t, c, "ten_a"); got.AccessKeyID != a.AccessKeyID {
			t.Fatal("a warm tenant assumed the role again")
		}
	}
	if fake.count() != 1 {
		t.Fatalf("STS calls for one warm tenant = %d, want 1", fake.count())
	}
	if b := retrieve(t, c, "ten_b"); b.AccessKeyID == a.AccessKeyID || fake.count() != 2 {
		t.Fatalf("a second tenant shares credentials or was not assumed: %d calls", fake.count())
	}
	if fake.calls[1].Tags["tenant"] != "ten_b" {
		t.Errorf("second session tagged %s", fake.calls[1].Tags["tenant"])
	}

	// Sessions within the cache's expiry window are renewed before use.
	short := &fakeSTS{ttl: 0}
	c, _ = tenantcreds.New(dynamodb.Options{}, short, role, "points")
	retrieve(t, c, "ten_a")
	retrieve(t, c, "ten_a")
	if short.count() != 2 {
		t.Errorf("STS calls with expired sessions = %d, want 2", short.count())
	}
}

func TestSessionNameFitsSTS(t *testing.T) {
	t.Parallel()
	got := tenantcreds.SessionName("integrations", "ten_01m8gepvdpvna8ndfgpb1va4ab/"+strings.Repeat("x", 40))
	if len(got) != 64 || strings.ContainsAny(got, "/ ") {
		t.Errorf("session name %q", got)
	}
}

// BenchmarkColdTenant is what a tenant's first request in a warm Lambda adds, with
// STS answering in 0 ms; add the AssumeRole round trip (measured in-region at tens
// of milliseconds) for the real cost.
func BenchmarkColdTenant(b *testing.B) {
	fake := &fakeSTS{ttl: time.Hour}
	c, _ := tenantcreds.New(dynamodb.Options{}, fake, role, "members")
	for i := 0; b.Loop(); i++ {
		retrieve(b, c, "ten_"+strconv.Itoa(i))
	}
}

// BenchmarkWarmTenant is every later request: a cache hit.
func BenchmarkWarmTenant(b *testing.B) {
	fake := &fakeSTS{ttl: time.Hour}
	c, _ := tenantcreds.New(dynamodb.Options{}, fake, role, "members")
	retrieve(b, c, "ten_a")
	for b.Loop() {
		retrieve(b, c, "ten_a")
	}
}
