// Package config builds what every function needs from its environment, once, at
// cold start and without network calls: the logger, the AWS configuration and the
// store. The platform key is the authorizer's alone (config/adminkey).
//
//	TRIBE_TABLE                  table name (required)
//	TRIBE_DYNAMO_ENDPOINT        DynamoDB endpoint override (DynamoDB Local)
//	TRIBE_ADMIN_KEY              platform admin key (local; the authorizer, adminkey)
//	TRIBE_ADMIN_KEY_SECRET_ARN   Secrets Manager secret holding it (AWS; read on
//	                             the first platform key, not at cold start)
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
	"github.com/aws/aws-sdk-go-v2/credentials"
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

// Option adjusts Load.
type Option func(*options)

type options struct {
	kms func(aws.Config) envelope.KMSClient
}

// WithKMS gives Load the KMS client to seal secrets at rest with
// (envelope/kmsclient.FromConfig). Only the functions the catalogue marks Secrets
// pass it, so no other binary links the KMS client; Load fails when
// TRIBE_SECRETS_KEY_ID is set without it.
func WithKMS(client func(aws.Config) envelope.KMSClient) Option {
	return func(o *options) { o.kms = client }
}

// Load reads the environment and builds the dependencies. It makes no network
// calls: clients connect on first use.
func Load(ctx context.Context, opts ...Option) (Deps, error) {
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
		if cfg, err = lambdaAWS(); err != nil {
			return Deps{}, err
		}
	}
	var storeOpts []store.Option
	sealer, err := Sealer(cfg, opts...)
	if err != nil {
		return Deps{}, err
	}
	if sealer != nil {
		storeOpts = append(storeOpts, store.WithSealer(sealer))
	}
	st, err := store.New(dynamo.New(cfg), name, storeOpts...)
	if err != nil {
		return Deps{}, err
	}
	// A tenant-facing function reaches each tenant's data as the tenant role,
	// assumed per tenant with the tenant as session tag (shared/tenantcreds).
	if role := os.Getenv("TRIBE_TENANT_ROLE_ARN"); role != "" {
		clients, err := tenantcreds.New(st.BaseClient().Options(), tenantcreds.NewSTS(cfg, ""), role, os.Getenv("TRIBE_FUNCTION"))
		if err != nil {
			return Deps{}, fmt.Errorf("config: %w", err)
		}
		st = st.WithTenantClients(clients)
	}
	return Deps{Log: log, AWS: cfg, Store: st}, nil
}

// lambdaAWS is the AWS configuration of a Lambda function: its region and its
// execution role's credentials, both from the environment Lambda sets. It stands in
// for the SDK's LoadDefaultConfig, whose credential chain (shared config files, SSO,
// sign-in, process, container and instance credentials) would add more than a
// megabyte to every binary and is never used in Lambda: the environment is the
// first link of that chain, and Lambda's credentials there last as long as the
// execution environment.
func lambdaAWS() (aws.Config, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" || id == "" || secret == "" {
		return aws.Config{}, errors.New("config: AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them; locally set TRIBE_DYNAMO_ENDPOINT)")
	}
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")),
	}, nil
}

// Sealer returns the sealer for secrets at rest: over the KMS key
// TRIBE_SECRETS_KEY_ID, or else the local key file TRIBE_SECRETS_KEY_FILE (created
// when missing). It is nil when neither is set: such a function's store refuses to
// write or open a secret, and only functions the catalogue marks Secrets get the
// key. The KMS key needs WithKMS.
func Sealer(cfg aws.Config, opts ...Option) (*envelope.Sealer, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var kek envelope.KEK
	switch id, file := os.Getenv(EnvSecretsKeyID), os.Getenv(EnvSecretsKeyFile); {
	case id != "":
		if o.kms == nil {
			return nil, errors.New("config: " + EnvSecretsKeyID + " is set but this function was built without KMS (its main passes config.WithKMS when the catalogue marks it Secrets)")
		}
		k, err := envelope.NewKMSKey(o.kms(cfg), id)
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

// EnvWeComBaseURL names WeCom's API host setting.
const EnvWeComBaseURL = "TRIBE_WECOM_BASE_URL"

// WeComBaseURL is WeCom's API host (shared/wecom); empty means WeCom's own,
// https://qyapi.weixin.qq.com. Only a test stand points it elsewhere.
func WeComBaseURL() string { return os.Getenv(EnvWeComBaseURL) }
