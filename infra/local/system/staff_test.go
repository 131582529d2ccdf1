package system_test

import (
	"strings"
	"testing"

	"github.com/tribehq/tribe/infra/local/cognitolocal"
	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/shared/catalogue"
)

// staffStand is a stand whose staff pool is a cognito-local of its own.
func staffStand(t *testing.T) *stand {
	t.Helper()
	srv, pool := cognitolocal.ForTest(t)
	return newStand(t, "CNY", system.WithStaffPool(pool, srv.Endpoint))
}

// as calls with another bearer token.
func (s *stand) as(token, method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	key := s.key
	s.key = token
	defer func() { s.key = key }()
	return s.call(method, path, body)
}

// TestStaffLoginRolesAndAudit: an owner made with the API key logs in through the
// API (cognito-local behind it), and its RS256 ID token, verified against the
// pool's JWKS, works as a bearer token with the owner's scopes; an analyst can
// read but not write; a wrong password and an unknown email get the same 401; an
// admin cannot touch an owner; a disabled or removed staff member's token stops
// working at once; writes are audited under the staff id.
func TestStaffLoginRolesAndAudit(t *testing.T) {
	s := staffStand(t)
	code, owner := s.call("POST", "/v1/staff", map[string]any{"email": "Boss@Example.com", "name": "老板", "role": "owner", "password": "correct-horse-1"})
	if code != 201 || owner["email"] != "boss@example.com" || owner["status"] != "active" {
		t.Fatalf("create owner: %d %v", code, owner)
	}
	if code, out := s.call("POST", "/v1/staff", map[string]any{"email": "boss@example.com", "role": "admin", "password": "correct-horse-2"}); code != 409 {
		t.Fatalf("same email again: %d %v", code, out)
	}
	for _, bad := range []struct{ field, body string }{
		{"email", `{"email":"not an email","role":"admin","password":"0123456789"}`},
		{"role", `{"email":"x@example.com","role":"king","password":"0123456789"}`},
		{"password", `{"email":"x@example.com","role":"admin","password":"short"}`},
		{"groups[0]", `{"email":"x@example.com","role":"admin","password":"0123456789","groups":["nope"]}`},
	} {
		if code, out := s.call("POST", "/v1/staff", []byte(bad.body)); code != 400 || out["field"] != bad.field {
			t.Errorf("%s: %d %v", bad.body, code, out)
		}
	}
	login := func(email, password string) (int, map[string]any) {
		t.Helper()
		return s.as("", "POST", "/v1/staff/login", map[string]any{"email": email, "password": password})
	}
	code, sess := login("boss@example.com", "correct-horse-1")
	if code != 200 || sess["tenant_id"] != s.tenant || !strings.HasPrefix(sess["id_token"].(string), "eyJ") {
		t.Fatalf("login: %d %v", code, sess)
	}
	ownerTok := sess["id_token"].(string)
	if code, me := s.as(ownerTok, "GET", "/v1/staff/me", nil); code != 200 || me["id"] != owner["id"] || me["role"] != "owner" {
		t.Fatalf("me: %d %v", code, me)
	}
	// The access token works too (client_id instead of aud).
	if code, _ := s.as(sess["access_token"].(string), "GET", "/v1/tenant", nil); code != 200 {
		t.Errorf("access token: %d", code)
	}
	if code, out := login("boss@example.com", "wrong-password"); code != 401 || out["code"] != "unauthenticated" {
		t.Errorf("wrong password: %d %v", code, out)
	}
	if code, out := login("nobody@example.com", "wrong-password"); code != 401 || out["detail"] == nil && out["title"] == nil {
		t.Errorf("unknown email: %d %v", code, out)
	}
	// The owner makes an analyst and an admin with their token.
	code, analyst := s.as(ownerTok, "POST", "/v1/staff", map[string]any{"email": "ana@example.com", "role": "analyst", "password": "analyst-pass-1"})
	if code != 201 {
		t.Fatalf("create analyst: %d %v", code, analyst)
	}
	code, admin := s.as(ownerTok, "POST", "/v1/staff", map[string]any{"email": "adm@example.com", "role": "admin", "password": "admin-pass-11"})
	if code != 201 {
		t.Fatalf("create admin: %d %v", code, admin)
	}
	_, as := login("ana@example.com", "analyst-pass-1")
	anaTok := as["id_token"].(string)
	if code, _ := s.as(anaTok, "GET", "/v1/members", nil); code != 200 {
		t.Errorf("analyst reads: %d", code)
	}
	if code, out := s.as(anaTok, "POST", "/v1/members", map[string]any{"name": "x"}); code != 403 || out["code"] != "forbidden" {
		t.Errorf("analyst writes: %d %v", code, out)
	}
	_, ad := login("adm@example.com", "admin-pass-11")
	admTok := ad["id_token"].(string)
	if code, _ := s.as(admTok, "PATCH", "/v1/staff/"+owner["id"].(string), map[string]any{"role": "analyst"}); code != 403 {
		t.Errorf("admin demotes owner: %d", code)
	}
	if code, _ := s.as(admTok, "POST", "/v1/staff", map[string]any{"email": "o2@example.com", "role": "owner", "password": "owner-pass-22"}); code != 403 {
		t.Errorf("admin makes owner: %d", code)
	}
	if code, _ := s.as(admTok, "DELETE", "/v1/staff/"+admin["id"].(string), nil); code != 403 {
		t.Errorf("admin removes self: %d", code)
	}
	// A write by the owner is audited under the owner's staff id.
	code, m := s.as(ownerTok, "POST", "/v1/members", map[string]any{"name": "由员工创建"})
	if code != 201 {
		t.Fatalf("owner writes: %d %v", code, m)
	}
	_, log := s.call("GET", "/v1/audit-log?action=createMember", nil)
	if e := log["data"].([]any); len(e) != 1 || e[0].(map[string]any)["actor"] != owner["id"] {
		t.Errorf("audit actor: %v", e)
	}
	// Disabled: the same token is refused by the authorizer once API Gateway's
	// cached answer for it expires (catalogue.AuthorizerCacheTTL), not before.
	if code, out := s.as(ownerTok, "PATCH", "/v1/staff/"+analyst["id"].(string), map[string]any{"status": "disabled", "groups": []string{}}); code != 200 || out["status"] != "disabled" {
		t.Fatalf("disable: %d %v", code, out)
	}
	if code, _ := s.as(anaTok, "GET", "/v1/members", nil); code != 200 {
		t.Errorf("disabled analyst's token within the authorizer cache TTL: %d, want the cached allow", code)
	}
	s.sys.Gateway.Advance(catalogue.AuthorizerCacheTTL)
	if code, _ := s.as(anaTok, "GET", "/v1/members", nil); code != 403 {
		t.Errorf("disabled analyst's token after the TTL: %d", code)
	}
	if code, _ := login("ana@example.com", "analyst-pass-1"); code != 403 {
		t.Errorf("disabled analyst logs in: %d", code)
	}
	// Removed: token refused (once the answer cached by a request just before
	// expires), email free again, pool user gone.
	if code, _ := s.as(admTok, "GET", "/v1/tenant", nil); code != 200 {
		t.Fatalf("admin's token: %d", code)
	}
	if code, _ := s.as(ownerTok, "DELETE", "/v1/staff/"+admin["id"].(string), nil); code != 204 {
		t.Fatalf("remove admin: %d", code)
	}
	if code, _ := s.as(admTok, "GET", "/v1/tenant", nil); code != 200 {
		t.Errorf("removed admin's token within the authorizer cache TTL: %d, want the cached allow", code)
	}
	s.sys.Gateway.Advance(catalogue.AuthorizerCacheTTL)
	if code, _ := s.as(admTok, "GET", "/v1/tenant", nil); code != 403 {
		t.Errorf("removed admin's token after the TTL: %d", code)
	}
	if code, _ := login("adm@example.com", "admin-pass-11"); code != 401 {
		t.Errorf("removed admin logs in: %d", code)
	}
	// A password change: the old one fails, the new one works.
	if code, _ := s.as(ownerTok, "PATCH", "/v1/staff/"+owner["id"].(string), map[string]any{"password": "new-horse-battery"}); code != 200 {
		t.Fatalf("own password: %d", code)
	}
	if code, _ := login("boss@example.com", "correct-horse-1"); code != 401 {
		t.Errorf("old password: %d", code)
	}
	if code, _ := login("boss@example.com", "new-horse-battery"); code != 200 {
		t.Errorf("new password: %d", code)
	}
	// A forged token (right shape, wrong signature) is refused.
	parts := strings.Split(ownerTok, ".")
	if code, _ := s.as(parts[0]+"."+parts[1]+".AAAA", "GET", "/v1/tenant", nil); code != 403 {
		t.Errorf("forged token: %d", code)
	}
	code, list := s.call("GET", "/v1/staff", nil)
	if code != 200 || len(list["data"].([]any)) != 2 {
		t.Errorf("list: %d %v", code, list)
	}
}
