package stack

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestStaffPool: one Cognito user pool without self sign-up, a console client
// with USER_PASSWORD_AUTH and no secret; the authorizer and the staff function get
// its issuer and client id; only the staff function may administer its users.
func TestStaffPool(t *testing.T) {
	s := synth(t)
	pool := s.find(t, "AWS::Cognito::UserPool", func(map[string]any) bool { return true })
	if dig(pool, "AdminCreateUserConfig", "AllowAdminCreateUserOnly") != true {
		t.Errorf("self sign-up is on: %v", pool["AdminCreateUserConfig"])
	}
	client := s.find(t, "AWS::Cognito::UserPoolClient", func(map[string]any) bool { return true })
	if flows, _ := json.Marshal(client["ExplicitAuthFlows"]); !strings.Contains(string(flows), "ALLOW_USER_PASSWORD_AUTH") {
		t.Errorf("client flows %s", flows)
	}
	if client["GenerateSecret"] == true {
		t.Error("the console's client has a secret")
	}
	for _, name := range []string{"authorizer", "staff"} {
		env := dig(s.doc.Resources[s.functionIDs[name]].Properties, "Environment", "Variables").(map[string]any)
		if env[EnvStaffIssuer] == nil || env[EnvStaffClientID] == nil {
			t.Errorf("%s lacks the staff pool settings: %v", name, env)
		}
	}
	var admins []string
	for id, r := range s.doc.Resources {
		if r.Type != "AWS::IAM::Policy" && r.Type != "AWS::IAM::Role" {
			continue
		}
		raw, _ := json.Marshal(r.Properties)
		if strings.Contains(string(raw), "cognito-idp:AdminCreateUser") {
			admins = append(admins, id)
		}
	}
	if len(admins) != 1 || !strings.HasPrefix(admins[0], "Staff") {
		t.Errorf("cognito admin actions granted to %v, want the staff function's role only", admins)
	}
}
