package lambdamain

import (
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

// heavyPackages are packages no function may link, each of which put binaries
// over 10 MiB or would (issue 14; `make sizes` builds them all and checks), with
// what to use instead.
var heavyPackages = map[string]string{
	"github.com/aws/aws-sdk-go-v2/service/sts":                 "tenantcreds.NewSTS (shared/awscall)",
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds":        "tenantcreds.NewSTS (shared/awscall)",
	"github.com/aws/aws-sdk-go-v2/service/kms":                 "envelope/kmsclient (shared/awscall)",
	"github.com/aws/aws-sdk-go-v2/config":                      "config.Load, which reads Lambda's environment",
	"github.com/aws/aws-sdk-go-v2/service/sso":                 "config.Load, which reads Lambda's environment",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc":             "config.Load, which reads Lambda's environment",
	"github.com/aws/aws-sdk-go-v2/service/signin":              "config.Load, which reads Lambda's environment",
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds":            "config.Load, which reads Lambda's environment",
	"github.com/aws/aws-sdk-go-v2/service/s3":                  "a signed call through shared/awscall",
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams":     "store.DecodeChange on the Lambda event (only its types)",
	"github.com/aws/aws-sdk-go-v2/service/lambda":              "a signed call through shared/awscall",
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch":          "EMF lines on stdout (shared/metrics)",
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs":      "EMF lines on stdout (shared/metrics)",
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression": "guregu/dynamo's expressions",
	"time/tzdata":   "shared/zoneinfo (the same zones gzipped: 80 KB, not 400)",
	"html/template": "explicit escaping (shared/api/landingpage.go); its reflection keeps every exported method",
	"text/template": "explicit code; its reflection keeps every exported method of every reachable type",
}

// qrFunctions are the functions whose routes draw or read QR images
// (shared/wire/qrwire).
var qrFunctions = []string{"channels", "groups", "landing", "livecodes", "referrals"}

// ownPackages are packages only some functions may link: one function's heavy
// dependency must not reach the others through a shared package (each is wired
// in the functions' own package, as staffwire and qrwire do).
var ownPackages = map[string][]string{
	"image/png":                  qrFunctions,
	"image/jpeg":                 qrFunctions,
	"github.com/skip2/go-qrcode": qrFunctions,
	"github.com/tribehq/tribe/shared/qrimage":                      qrFunctions,
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider": {"staff"},
	"github.com/tribehq/tribe/shared/staffpool":                    {"staff"},
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager":          {"authorizer"},
	"github.com/tribehq/tribe/shared/config/adminkey":              {"authorizer"},
	"github.com/aws/aws-sdk-go-v2/service/scheduler":               {"campaigns"},
}

// allowedHeavy are the heavy packages one function needs and may link: `make
// sizes` keeps it under the limit.
var allowedHeavy = map[string]string{
	// The reconciler reads the table's stream itself (shared/streamread).
	"github.com/tribehq/tribe/functions/reconcile": "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams",
}

// TestNoFunctionLinksAHeavyPackage reads every function's import graph as `make
// build` compiles it (linux/arm64, -tags lambda.norpc): none reaches a package of
// heavyPackages, and only the functions ownPackages names reach its packages. Building the binaries to measure them takes minutes (`make
// sizes`); the graph takes a second.
func TestNoFunctionLinksAHeavyPackage(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "list", "-tags", "lambda.norpc", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "github.com/tribehq/tribe/functions/...")
	cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	functions := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		functions++
		for _, dep := range fields[1:] {
			if instead, ok := heavyPackages[dep]; ok && allowedHeavy[fields[0]] != dep {
				t.Errorf("%s links %s: use %s", fields[0], dep, instead)
			}
			if owners, ok := ownPackages[dep]; ok && !slices.Contains(owners, path.Base(fields[0])) {
				t.Errorf("%s links %s, which only %v may link", fields[0], dep, owners)
			}
		}
	}
	if functions < 20 {
		t.Fatalf("read %d functions' graphs", functions)
	}
}
