package auth

import (
	"context"
	"errors"

	"github.com/tribehq/tribe/shared/catalogue"
)

// Staff roles. Each maps onto the key scopes: an owner and an admin hold admin (an
// admin cannot touch an owner; see api/staff.go), an operator write, an analyst
// read.
const (
	RoleOwner    = "owner"
	RoleAdmin    = "admin"
	RoleOperator = "operator"
	RoleAnalyst  = "analyst"
)

// Roles are the staff roles, most privileged first.
var Roles = []string{RoleOwner, RoleAdmin, RoleOperator, RoleAnalyst}

// RoleScopes returns the scopes a staff role holds, false for an unknown role.
func RoleScopes(role string) ([]catalogue.Scope, bool) {
	switch role {
	case RoleOwner, RoleAdmin:
		return []catalogue.Scope{catalogue.ScopeAdmin}, true
	case RoleOperator:
		return []catalogue.Scope{catalogue.ScopeWrite}, true
	case RoleAnalyst:
		return []catalogue.Scope{catalogue.ScopeRead}, true
	}
	return nil, false
}

// StoredStaff is what the authorizer needs to know of a staff member.
type StoredStaff struct {
	ID       string
	Role     string
	Disabled bool
	Currency string
}

// StaffFinder finds a staff member by tenant and id; it returns an error with code
// problem.NotFound when there is none.
type StaffFinder interface {
	FindStaff(ctx context.Context, tenantID, staffID string) (StoredStaff, error)
}

// StaffTokens are what a staff login gives the console.
type StaffTokens struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    int32  `json:"expires_in"`
}

// ErrCredentials is a login with a wrong password or an unknown user.
var ErrCredentials = errors.New("auth: wrong email or password")
