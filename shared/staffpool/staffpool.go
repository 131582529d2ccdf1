// Package staffpool is the staff function's side of the staff user pool (Amazon
// Cognito; cognito-local on this machine): it creates and removes users, sets
// their passwords and role attribute, and logs them in (USER_PASSWORD_AUTH against
// the console's app client). Only the staff function links it; the authorizer
// verifies the pool's tokens with shared/auth alone.
package staffpool

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/aws/smithy-go"

	"github.com/tribehq/tribe/shared/auth"
)

// Pool is one user pool and the console's app client.
type Pool struct {
	c        *cip.Client
	poolID   string
	clientID string
}

// PoolID is the last path element of a Cognito issuer.
func PoolID(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Path == "" {
		return "", fmt.Errorf("staffpool: issuer %q names no pool", issuer)
	}
	return u.Path[strings.LastIndex(u.Path, "/")+1:], nil
}

// New returns the pool auth.StaffPool names. endpoint is cognito-local's address
// (static dummy credentials then, as it checks none), or empty for AWS, where the
// region is the pool id's prefix (eu-west-1_AbC…) and credentials the function's
// (cfg, from config.Load: the SDK's default chain would link SSO, STS and more).
func New(ctx context.Context, p auth.StaffPool, endpoint string, cfg aws.Config) (*Pool, error) {
	poolID, err := PoolID(p.Issuer)
	if err != nil {
		return nil, err
	}
	region, _, _ := strings.Cut(poolID, "_")
	var c *cip.Client
	if endpoint != "" {
		c = cip.New(cip.Options{Region: region, BaseEndpoint: aws.String(endpoint),
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	} else {
		cfg.Region = region
		c = cip.NewFromConfig(cfg)
	}
	return &Pool{c: c, poolID: poolID, clientID: p.ClientID}, nil
}

// Client is the pool's Cognito client (tests create pools with it).
func (p *Pool) Client() *cip.Client { return p.c }

func attrs(tenantID, role, email string) []types.AttributeType {
	return []types.AttributeType{
		{Name: aws.String("email"), Value: aws.String(email)},
		{Name: aws.String("email_verified"), Value: aws.String("true")},
		{Name: aws.String("custom:tenant"), Value: aws.String(tenantID)},
		{Name: aws.String("custom:role"), Value: aws.String(role)},
	}
}

// CreateUser creates the user (no invitation message) with a permanent password.
// A user that exists already (a retried create) gets the password and attributes.
func (p *Pool) CreateUser(ctx context.Context, tenantID, staffID, email, role, password string) error {
	username := auth.StaffUsername(tenantID, staffID)
	_, err := p.c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &p.poolID, Username: &username,
		MessageAction: types.MessageActionTypeSuppress, UserAttributes: attrs(tenantID, role, email)})
	if code(err) == "UsernameExistsException" {
		err = p.SetRole(ctx, tenantID, staffID, email, role)
	}
	if err != nil {
		return fmt.Errorf("staffpool: create user: %w", err)
	}
	return p.SetPassword(ctx, tenantID, staffID, password)
}

// SetPassword sets a user's permanent password.
func (p *Pool) SetPassword(ctx context.Context, tenantID, staffID, password string) error {
	username := auth.StaffUsername(tenantID, staffID)
	_, err := p.c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &p.poolID, Username: &username,
		Password: &password, Permanent: true})
	if err != nil {
		return fmt.Errorf("staffpool: set password: %w", err)
	}
	return nil
}

// SetRole keeps the user's role attribute in step with the staff item (the
// authorizer reads the item; the attribute is for people looking at the pool).
func (p *Pool) SetRole(ctx context.Context, tenantID, staffID, email, role string) error {
	username := auth.StaffUsername(tenantID, staffID)
	_, err := p.c.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: &p.poolID,
		Username: &username, UserAttributes: attrs(tenantID, role, email)})
	if err != nil {
		return fmt.Errorf("staffpool: set role: %w", err)
	}
	return nil
}

// DeleteUser removes a user; one already gone is no error.
func (p *Pool) DeleteUser(ctx context.Context, tenantID, staffID string) error {
	username := auth.StaffUsername(tenantID, staffID)
	_, err := p.c.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: &p.poolID, Username: &username})
	if err != nil && code(err) != "UserNotFoundException" {
		return fmt.Errorf("staffpool: delete user: %w", err)
	}
	return nil
}

// Login runs USER_PASSWORD_AUTH for a user; auth.ErrCredentials when the pool refuses.
func (p *Pool) Login(ctx context.Context, tenantID, staffID, password string) (auth.StaffTokens, error) {
	out, err := p.c.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: &p.clientID, AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": auth.StaffUsername(tenantID, staffID), "PASSWORD": password}})
	return tokens(out, err)
}

// Refresh trades a refresh token for new ID and access tokens.
func (p *Pool) Refresh(ctx context.Context, refreshToken string) (auth.StaffTokens, error) {
	out, err := p.c.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: &p.clientID, AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": refreshToken}})
	return tokens(out, err)
}

func tokens(out *cip.InitiateAuthOutput, err error) (auth.StaffTokens, error) {
	switch code(err) {
	// cognito-local answers a wrong password with InvalidPasswordException where
	// Cognito answers NotAuthorizedException.
	case "NotAuthorizedException", "UserNotFoundException", "InvalidPasswordException":
		return auth.StaffTokens{}, auth.ErrCredentials
	}
	switch {
	case err != nil:
		return auth.StaffTokens{}, fmt.Errorf("staffpool: login: %w", err)
	case out.AuthenticationResult == nil:
		// A challenge (new password, MFA): staff are created with permanent
		// passwords and no MFA, so this is a pool set up otherwise.
		return auth.StaffTokens{}, fmt.Errorf("staffpool: login: unexpected challenge %s", out.ChallengeName)
	}
	r := out.AuthenticationResult
	return auth.StaffTokens{IDToken: aws.ToString(r.IdToken), AccessToken: aws.ToString(r.AccessToken),
		RefreshToken: aws.ToString(r.RefreshToken), ExpiresIn: r.ExpiresIn}, nil
}

// code is the Cognito error code of err ("" for none). By code, not by the SDK's
// typed errors: cognito-local's answers deserialise only as generic API errors.
func code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
