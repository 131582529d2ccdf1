// Package config builds what every function needs from its environment, once, at
// cold start: the logger, the AWS configuration, the store and the platform key.
//
//	TRIBE_TABLE                  table name (required)
//	TRIBE_DYNAMO_ENDPOINT        DynamoDB endpoint override (DynamoDB Local)
//	TRIBE_ADMIN_KEY              platform admin key (local)
//	TRIBE_ADMIN_KEY_SECRET_ARN   Secrets Manager secret holding it (AWS)
//	TRIBE_PUBLIC_BASE_URL        base of the webhook and live-code URLs handed out
//	                             ("https://api.brand.example"; unset: the request's host)
package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/store"
)

// Deps are a function's dependencies.
type Deps struct {
	Log   *slog.Logger
	AWS   aws.Config
	Store *store.Store
}

// Logger returns the JSON logger every function logs with.
func Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// Load reads the environment and builds the dependencies.
func Load(ctx context.Context) (Deps, error) {
	log := Logger()
	name := os.Getenv("TRIBE_TABLE")
	if name == "" {
		return Deps{}, errors.New("config: TRIBE_TABLE is not set")
	}
	var cfg aws.Config
	if ep := os.Getenv("TRIBE_DYNAMO_ENDPOINT"); ep != "" {
		cfg = aws.Config{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
			BaseEndpoint: aws.String(ep),
		}
	} else {
		var err error
		if cfg, err = awsconfig.LoadDefaultConfig(ctx); err != nil {
			return Deps{}, fmt.Errorf("config: aws: %w", err)
		}
	}
	st, err := store.New(dynamo.New(cfg), name)
	if err != nil {
		return Deps{}, err
	}
	return Deps{Log: log, AWS: cfg, Store: st}, nil
}

// AdminKey returns the platform admin key: TRIBE_ADMIN_KEY, or the secret named by
// TRIBE_ADMIN_KEY_SECRET_ARN. Empty means no platform access.
func AdminKey(ctx context.Context, cfg aws.Config) (string, error) {
	if k := os.Getenv("TRIBE_ADMIN_KEY"); k != "" {
		return k, nil
	}
	arn := os.Getenv("TRIBE_ADMIN_KEY_SECRET_ARN")
	if arn == "" {
		return "", nil
	}
	out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return "", fmt.Errorf("config: admin key secret: %w", err)
	}
	return aws.ToString(out.SecretString), nil
}

// EnvPublicBaseURL names the public base URL setting.
const EnvPublicBaseURL = "TRIBE_PUBLIC_BASE_URL"

// PublicBaseURL is the base of the URLs the API hands out to be printed or pasted
// into a shop's settings (webhook URLs, live-code URLs): the stack sets it to the
// custom domain. Empty means the request's own host.
func PublicBaseURL() string { return os.Getenv(EnvPublicBaseURL) }
