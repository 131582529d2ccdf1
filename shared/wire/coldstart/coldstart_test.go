// Package coldstart_test checks that no function calls out while it starts
// (issue 14): every catalogue function is built as functions/<name>/main.go builds
// it, from the environment Lambda gives it (region, credentials, KMS key, tenant
// role, staff pool), with every proxy variable pointing at a listener that counts
// what reaches it. The AWS SDK's clients and the plain HTTP clients of
// shared/awscall take their proxy from the environment, so a call to DynamoDB,
// KMS, STS, Cognito, Secrets Manager or Scheduler at start is counted. It lives
// in a package of its own because net/http reads the proxy variables once per
// process: TestMain sets them before anything else runs.
package coldstart_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/config/adminkey"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/lambdamain"
)

// calls counts the connections the proxy listener accepts.
var calls struct {
	sync.Mutex
	n int
}

func connections() int {
	calls.Lock()
	defer calls.Unlock()
	return calls.n
}

func TestMain(m *testing.M) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			calls.Lock()
			calls.n++
			calls.Unlock()
			c.Close()
		}
	}()
	for _, k := range []string{"HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"} {
		os.Setenv(k, "http://"+ln.Addr().String())
	}
	os.Unsetenv("NO_PROXY")
	os.Unsetenv("no_proxy")
	os.Exit(m.Run())
}

// TestColdStartCallsNoOne builds every function with Lambda's environment: none
// connects anywhere (the authorizer loads the admin key on the first platform
// key, not at start).
func TestColdStartCallsNoOne(t *testing.T) {
	for k, v := range map[string]string{
		"TRIBE_TABLE": "tribe", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDCOLDSTART", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN":     "token",
		"TRIBE_TENANT_ROLE_ARN": "arn:aws:iam::111122223333:role/tribe-tenant", "TRIBE_FUNCTION": "coldstart",
		config.EnvStaffIssuer:   "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_ColdStart",
		config.EnvStaffClientID: "coldstartclient", config.EnvPublicBaseURL: "https://tribe.example",
		"TRIBE_DYNAMO_ENDPOINT": "", config.EnvSecretsKeyID: "", config.EnvSecretsKeyFile: "", config.EnvCognitoEndpoint: "",
	} {
		t.Setenv(k, v)
	}
	// The listener sees a call to AWS made as the SDK makes it.
	if resp, err := http.Get("https://dynamodb.eu-west-1.amazonaws.com/"); err == nil {
		resp.Body.Close()
	}
	if connections() != 1 {
		t.Fatalf("the proxy saw %d connections of a call, want 1", connections())
	}
	ctx := context.Background()
	ctors := system.Constructors()
	names := make([]string, 0, len(ctors))
	for name := range ctors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		before := connections()
		e, _ := catalogue.Lookup(name)
		// The stack gives the KMS key only to the functions that handle secrets,
		// and only their main.go passes WithKMS.
		key, opts := "", []config.Option(nil)
		if e.Secrets != 0 {
			key, opts = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000", []config.Option{config.WithKMS(kmsclient.FromConfig)}
		}
		os.Setenv(config.EnvSecretsKeyID, key)
		if e.Authorizer {
			// As functions/authorizer/main.go.
			deps, err := config.Load(ctx)
			if err == nil {
				_, err = wire.Authorizer(wire.Deps{Store: deps.Store, Log: deps.Log, AdminKeyLoader: adminkey.Loader(deps.AWS)})
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		} else if _, err := lambdamain.Build(ctx, name, ctors[name], opts...); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if n := connections() - before; n > 0 {
			t.Errorf("%s made %d connections while starting", name, n)
		}
	}
	if len(names) < 20 {
		t.Fatalf("built %d functions", len(names))
	}
}
