// Package adminkey is where the authorizer gets the platform admin key:
// TRIBE_ADMIN_KEY (local), or the Secrets Manager secret named by
// TRIBE_ADMIN_KEY_SECRET_ARN, read on the first request that may carry it rather
// than at cold start. Only the authorizer imports it, so only its binary links the
// Secrets Manager client.
package adminkey

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Loader returns the function that reads the admin key, making no call until it
// is called. The key is "" (no platform access) when neither variable is set.
func Loader(cfg aws.Config) func(context.Context) (string, error) {
	if k := os.Getenv("TRIBE_ADMIN_KEY"); k != "" {
		return func(context.Context) (string, error) { return k, nil }
	}
	arn := os.Getenv("TRIBE_ADMIN_KEY_SECRET_ARN")
	if arn == "" {
		return func(context.Context) (string, error) { return "", nil }
	}
	client := secretsmanager.NewFromConfig(cfg)
	return func(ctx context.Context) (string, error) {
		out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
		if err != nil {
			return "", fmt.Errorf("adminkey: secret: %w", err)
		}
		return aws.ToString(out.SecretString), nil
	}
}
