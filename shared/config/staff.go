package config

import (
	"os"

	"github.com/tribehq/tribe/shared/auth"
)

// The staff user pool settings (Amazon Cognito on AWS, cognito-local here).
const (
	// EnvStaffIssuer is the pool's token issuer,
	// https://cognito-idp.<region>.amazonaws.com/<pool id>.
	EnvStaffIssuer = "TRIBE_STAFF_ISSUER"
	// EnvStaffClientID is the console's app client id.
	EnvStaffClientID = "TRIBE_STAFF_CLIENT_ID"
	// EnvCognitoEndpoint overrides the Cognito API endpoint (cognito-local).
	EnvCognitoEndpoint = "TRIBE_COGNITO_ENDPOINT"
)

// StaffPool is the staff user pool the environment names; not Enabled when unset.
func StaffPool() auth.StaffPool {
	return auth.StaffPool{Issuer: os.Getenv(EnvStaffIssuer), ClientID: os.Getenv(EnvStaffClientID)}
}

// CognitoEndpoint is the Cognito API endpoint override, empty on AWS.
func CognitoEndpoint() string { return os.Getenv(EnvCognitoEndpoint) }
