// Package config builds what every function needs from its environment, once, at
// cold start: the logger, the AWS configuration, the store and the platform key.
//
//	TRIBE_TABLE                  table name (required)
//	TRIBE_DYNAMO_ENDPOINT        DynamoDB endpoint override (DynamoDB Local)
//	TRIBE_ADMIN_KEY              platform admin key (local)
//	TRIBE_ADMIN_KEY_SECRET_ARN   Secrets Manager secret holding it (AWS)
//	TRIBE_SECRETS_KEY_ID         KMS key sealing secrets at rest (AWS; only the
//	                             functions the catalogue marks Secrets get it)
//	TRIBE_SECRETS_KEY_FILE       local key file sealing secrets at rest (make dev)
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
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/envelope"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/tenantcreds"
)

// Environment variables naming the key that seals secrets at rest. The CDK stack
// sets EnvSecretsKeyID; make dev and tests use a key file.
const (
	EnvSecretsKeyID   = "TRIBE_SECRETS_KEY_ID"
	EnvSecretsKeyFile = "TRIBE_SECRETS_KEY_FILE"
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
	var opts []store.Option
	sealer, err := Sealer(cfg)
	if err != nil {
		return Deps{}, err
	}
	if sealer != nil {
		opts = append(opts, store.WithSealer(sealer))
	}
	st, err := store.New(dynamo.New(cfg), name, opts...)
	if err != nil {
		return Deps{}, err
	}
	// A tenant-facing function reaches each tenant's data as the tenant role,
	// assumed per tenant with the tenant as session tag (shared/tenantcreds).
	if role := os.Getenv("TRIBE_TENANT_ROLE_ARN"); role != "" {
		clients, err := tenantcreds.New(st.BaseClient().Options(), sts.NewFromConfig(cfg), role, os.Getenv("TRIBE_FUNCTION"))
		if err != nil {
			return Deps{}, fmt.Errorf("config: %w", err)
		}
		st = st.WithTenantClients(clients)
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

// Sealer returns the sealer for secrets at rest: over the KMS key
// TRIBE_SECRETS_KEY_ID, or else the local key file TRIBE_SECRETS_KEY_FILE (created
// when missing). It is nil when neither is set: such a function's store refuses to
// write or open a secret, and only functions the catalogue marks Secrets get the
// key.
func Sealer(cfg aws.Config) (*envelope.Sealer, error) {
	var kek envelope.KEK
	switch id, file := os.Getenv(EnvSecretsKeyID), os.Getenv(EnvSecretsKeyFile); {
	case id != "":
		k, err := envelope.NewKMSKey(kms.NewFromConfig(cfg), id)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		kek = k
	case file != "":
		k, err := envelope.LoadOrCreateKeyFile(file)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		kek = k
	default:
		return nil, nil
	}
	return envelope.New(kek)
}

// EnvPublicBaseURL names the public base URL setting.
const EnvPublicBaseURL = "TRIBE_PUBLIC_BASE_URL"

// PublicBaseURL is the base of the URLs the API hands out to be printed or pasted
// into a shop's settings (webhook URLs, live-code URLs): the stack sets it to the
// custom domain. Empty means the request's own host.
func PublicBaseURL() string { return os.Getenv(EnvPublicBaseURL) }
