package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/config"
)

// Staff logins: an Amazon Cognito user pool and the console's app client. The
// staff function creates, changes and removes users (Admin* actions on this pool
// only) and logs them in with USER_PASSWORD_AUTH; the authorizer verifies the
// pool's tokens against its JWKS (issuer and client id in its environment) and
// needs no IAM for that.
const (
	EnvStaffIssuer   = config.EnvStaffIssuer
	EnvStaffClientID = config.EnvStaffClientID
)

// staffPoolUsers are the functions that get the pool's issuer and client id.
var staffPoolUsers = []string{"authorizer", "staff"}

func (t *tribe) addStaffPool() {
	pool := awscognito.NewUserPool(t.stack, jsii.String("StaffPool"), &awscognito.UserPoolProps{
		UserPoolName:      jsii.String("tribe-staff-" + t.props.Stage),
		SelfSignUpEnabled: jsii.Bool(false),
		// Users are named <tenant>.<staff id> by the staff function; people log in
		// with their email through POST /v1/staff/login.
		SignInAliases:       &awscognito.SignInAliases{Username: jsii.Bool(true)},
		SignInCaseSensitive: jsii.Bool(false),
		CustomAttributes: &map[string]awscognito.ICustomAttribute{
			"tenant": awscognito.NewStringAttribute(&awscognito.StringAttributeProps{Mutable: jsii.Bool(false), MaxLen: jsii.Number(64)}),
			"role":   awscognito.NewStringAttribute(&awscognito.StringAttributeProps{Mutable: jsii.Bool(true), MaxLen: jsii.Number(16)}),
		},
		PasswordPolicy: &awscognito.PasswordPolicy{MinLength: jsii.Number(10), RequireDigits: jsii.Bool(false),
			RequireLowercase: jsii.Bool(false), RequireUppercase: jsii.Bool(false), RequireSymbols: jsii.Bool(false)},
		// Owners and admins reset passwords (PATCH /v1/staff/{id}); no email flow.
		AccountRecovery: awscognito.AccountRecovery_NONE,
		RemovalPolicy:   awscdk.RemovalPolicy_RETAIN,
	})
	client := pool.AddClient(jsii.String("Console"), &awscognito.UserPoolClientOptions{
		UserPoolClientName:         jsii.String("console"),
		GenerateSecret:             jsii.Bool(false),
		AuthFlows:                  &awscognito.AuthFlow{UserPassword: jsii.Bool(true)},
		PreventUserExistenceErrors: jsii.Bool(true),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
		RefreshTokenValidity:       awscdk.Duration_Days(jsii.Number(30)),
		EnableTokenRevocation:      jsii.Bool(true),
	})
	for _, name := range staffPoolUsers {
		fn, ok := t.functions[name]
		if !ok {
			panic("stack: staff pool: no function " + name)
		}
		fn.AddEnvironment(jsii.String(EnvStaffIssuer), pool.UserPoolProviderUrl(), nil)
		fn.AddEnvironment(jsii.String(EnvStaffClientID), client.UserPoolClientId(), nil)
	}
	t.functions["staff"].AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("cognito-idp:AdminCreateUser", "cognito-idp:AdminSetUserPassword",
			"cognito-idp:AdminUpdateUserAttributes", "cognito-idp:AdminDeleteUser"),
		Resources: jsii.Strings(*pool.UserPoolArn()),
	}))
	awscdk.NewCfnOutput(t.stack, jsii.String("StaffPoolId"), &awscdk.CfnOutputProps{Value: pool.UserPoolId()})
	awscdk.NewCfnOutput(t.stack, jsii.String("StaffClientId"), &awscdk.CfnOutputProps{Value: client.UserPoolClientId()})
}
