// Package cognitolocal runs cognito-local (the npm package that emulates Amazon
// Cognito user pools: AdminCreateUser, InitiateAuth, RS256 tokens and the pool's
// JWKS) for `make dev` and for tests, and creates the staff pool and the console's
// app client in it. It installs the pinned package into the cache folder on first
// use, as dynamolocal does for DynamoDB Local; it needs Node.js and npm.
package cognitolocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/shared/auth"
)

// Package is the pinned npm package.
const Package = "cognito-local@3.23.3"

// InstallHint is what to do when it cannot be installed.
const InstallHint = "cognito-local needs Node.js and npm (apt-get install -y nodejs npm); it is installed with npm into .cache/npm-cognito on first use"

// Options configure a server.
type Options struct {
	// DataDir keeps users and pools between runs (cognito-local's .cognito folder
	// goes under it); required.
	DataDir string
	// Port to listen on; zero picks a free one.
	Port int
	// Log receives the emulator's output; nil discards it.
	Log *os.File
}

// Server is a running cognito-local.
type Server struct {
	Endpoint string
	dataDir  string
	cmd      *exec.Cmd
	done     chan struct{}
	once     sync.Once
}

// Start installs cognito-local if needed, starts it on loopback and waits until it
// answers.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.DataDir == "" {
		return nil, errors.New("cognitolocal: a data dir is required")
	}
	script, err := ensure(ctx)
	if err != nil {
		return nil, err
	}
	port := o.Port
	if port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	// Tokens name the issuer the API checks: this server's own address.
	conf := filepath.Join(o.DataDir, ".cognito")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		return nil, err
	}
	cfg, _ := json.Marshal(map[string]any{"TokenConfig": map[string]string{"IssuerDomain": endpoint}})
	if err := os.WriteFile(filepath.Join(conf, "config.json"), cfg, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("node", script)
	cmd.Dir = o.DataDir
	cmd.Env = append(os.Environ(), "HOST=127.0.0.1", "PORT="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = o.Log, o.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cognitolocal: start node: %w (%s)", err, InstallHint)
	}
	s := &Server{Endpoint: endpoint, dataDir: o.DataDir, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop ends the server and waits for it to exit.
func (s *Server) Stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// Done is closed when the server has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.Endpoint + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return errors.New("cognitolocal: cognito-local exited while starting")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cognitolocal: not ready after 30s: %v", err)
		}
	}
}

// Client is a Cognito client for the server.
func (s *Server) Client() *cip.Client {
	return cip.New(cip.Options{Region: "local", BaseEndpoint: aws.String(s.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}

type poolFile struct {
	PoolID   string `json:"pool_id"`
	ClientID string `json:"client_id"`
}

// StaffPool returns the staff pool and console client, creating them on first use
// and keeping their ids in the data dir, so a restart finds the same users.
func (s *Server) StaffPool(ctx context.Context) (auth.StaffPool, error) {
	path := filepath.Join(s.dataDir, "staff-pool.json")
	c := s.Client()
	var pf poolFile
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &pf) == nil && pf.PoolID != "" {
		if _, err := c.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: &pf.PoolID, ClientId: &pf.ClientID}); err == nil {
			return s.pool(pf), nil
		}
	}
	custom := func(name string) types.SchemaAttributeType {
		return types.SchemaAttributeType{Name: aws.String(name), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)}
	}
	p, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("tribe-staff"),
		Schema: []types.SchemaAttributeType{custom("tenant"), custom("role")}})
	if err != nil {
		return auth.StaffPool{}, fmt.Errorf("cognitolocal: create pool: %w", err)
	}
	pf.PoolID = aws.ToString(p.UserPool.Id)
	cl, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: &pf.PoolID, ClientName: aws.String("console"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}})
	if err != nil {
		return auth.StaffPool{}, fmt.Errorf("cognitolocal: create client: %w", err)
	}
	pf.ClientID = aws.ToString(cl.UserPoolClient.ClientId)
	b, _ := json.Marshal(pf)
	return s.pool(pf), os.WriteFile(path, b, 0o644)
}

func (s *Server) pool(pf poolFile) auth.StaffPool {
	return auth.StaffPool{Issuer: s.Endpoint + "/" + pf.PoolID, ClientID: pf.ClientID}
}

var installMu sync.Mutex

// ensure installs the pinned package under <cache>/npm-cognito and returns its start
// script.
func ensure(ctx context.Context) (string, error) {
	installMu.Lock()
	defer installMu.Unlock()
	cache := os.Getenv("TRIBE_CACHE")
	if cache == "" {
		root, err := dynamolocal.RepoRoot()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(root, ".cache")
	}
	prefix := filepath.Join(cache, "npm-cognito")
	script := filepath.Join(prefix, "node_modules", "cognito-local", "lib", "bin", "start.js")
	stamp := filepath.Join(prefix, ".installed-"+Package)
	if _, err := os.Stat(stamp); err == nil {
		return script, nil
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("cognitolocal: %s not found: %s", tool, InstallHint)
		}
	}
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(cache, "npm-cognito.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(stamp); err == nil {
		return script, nil
	}
	out, err := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--silent", "--save-exact",
		"--prefix", prefix, Package).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("cognitolocal: npm install %s: %w: %s (%s)", Package, err, out, InstallHint)
	}
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("cognitolocal: %s installed but %s is missing", Package, script)
	}
	return script, os.WriteFile(stamp, nil, 0o644)
}
