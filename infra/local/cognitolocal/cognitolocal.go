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
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/tribehq/tribe/infra/local/localproc"
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
	*localproc.Process
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
		if port, err = localproc.FreePort(); err != nil {
			return nil, err
		}
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
	s := &Server{Endpoint: endpoint, dataDir: o.DataDir}
	s.Process, err = localproc.Start(ctx, "cognitolocal", cmd, 120*time.Second, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", endpoint+"/health", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("health: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, InstallHint)
	}
	return s, nil
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

// ensure installs the pinned package under <cache>/npm-cognito and returns its start
// script.
func ensure(ctx context.Context) (string, error) {
	cache, err := localproc.CacheDir("")
	if err != nil {
		return "", err
	}
	prefix := filepath.Join(cache, "npm-cognito")
	script := filepath.Join(prefix, "node_modules", "cognito-local", "lib", "bin", "start.js")
	_, err = localproc.Install{
		Package: Package, Prefix: prefix, Lock: filepath.Join(cache, "npm-cognito.lock"), Hint: InstallHint,
		Args:  []string{"--save-exact"},
		Stamp: filepath.Join(prefix, ".installed-"+Package),
		Found: func() (string, bool) {
			_, err := os.Stat(script)
			return script, err == nil
		},
	}.Ensure(ctx)
	if err != nil {
		return "", fmt.Errorf("cognitolocal: %w", err)
	}
	return script, nil
}
