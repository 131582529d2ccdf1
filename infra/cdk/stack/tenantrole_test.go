package stack

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tribehq/tribe/shared/catalogue"
)

// TestTenantScopedFunctionsReachTenantsOnlyThroughTheTenantRole proves the IAM
// side of tenant isolation: a tenant-facing function's own role reaches only the
// platform's idempotency partitions; its tenant role allows its table actions only
// where every partition key starts with the session's tenant tag, and only its
// function may assume it, tagging the session.
func TestTenantScopedFunctionsReachTenantsOnlyThroughTheTenantRole(t *testing.T) {
	// GIVEN the synthesized template
	s := synth(t)
	const (
		tenantKeys   = "T#${aws:PrincipalTag/tenant}#*"
		platformIdem = "T#_platform#IDEM#*"
	)
	leadingKeys := func(st map[string]any) []string {
		return asStrings(dig(st, "Condition", "ForAllValues:StringLike", "dynamodb:LeadingKeys"))
	}
	scoped := 0
	for _, f := range catalogue.All() {
		t.Run(f.Name, func(t *testing.T) {
			fnProps := s.doc.Resources[s.functionIDs[f.Name]].Properties
			fnRole, _ := dig(fnProps, "Role", "Fn::GetAtt", 0).(string)
			var assumes []map[string]any
			for _, st := range s.statementsFor(fnRole) {
				if slices.Contains(asStrings(st["Action"]), "sts:AssumeRole") {
					assumes = append(assumes, st)
				}
			}
			if !f.TenantScoped {
				// THEN a function that crosses tenants has no tenant role
				if len(assumes) > 0 || env(fnProps, EnvTenantRoleArn) != nil {
					t.Errorf("not tenant scoped, yet may assume %v", assumes)
				}
				return
			}
			scoped++
			// WHEN its tenant role is found
			roleID := s.idOf(t, "AWS::IAM::Role", pascal(f.Name)+"TenantRole")
			role := s.doc.Resources[roleID]

			// THEN only the function's role may assume it, tagging the session
			trust, _ := dig(role.Properties, "AssumeRolePolicyDocument", "Statement").([]any)
			if len(trust) != 1 || !reflect.DeepEqual(dig(trust[0], "Principal", "AWS"), getAtt(fnRole, "Arn")) ||
				!slices.Equal(sortedStrings(dig(trust[0], "Action")), []string{"sts:AssumeRole", "sts:TagSession"}) {
				t.Errorf("trust policy: %v", trust)
			}
			// AND it grants exactly the catalogue's actions, each under the condition
			granted := map[string]bool{}
			for _, st := range s.statementsFor(roleID) {
				for _, a := range asStrings(st["Action"]) {
					granted[a] = true
				}
				if got := leadingKeys(st); !slices.Equal(got, []string{tenantKeys}) {
					t.Errorf("tenant role statement %v: LeadingKeys %v, want %s", st["Action"], got, tenantKeys)
				}
			}
			want := map[string]bool{}
			for _, a := range f.TableActions {
				want[a] = true
			}
			if !slices.Equal(sortedKeys(granted), sortedKeys(want)) {
				t.Errorf("tenant role actions %v, want %v", sortedKeys(granted), sortedKeys(want))
			}
			// AND the function may assume it with the tenant tag only, and knows its ARN
			if len(assumes) != 1 || !slices.Equal(sortedStrings(assumes[0]["Action"]), []string{"sts:AssumeRole", "sts:TagSession"}) ||
				!reflect.DeepEqual(assumes[0]["Resource"], getAtt(roleID, "Arn")) ||
				!slices.Equal(asStrings(dig(assumes[0], "Condition", "ForAllValues:StringEquals", "aws:TagKeys")), []string{"tenant"}) {
				t.Errorf("function's assume statement: %v", assumes)
			}
			if !reflect.DeepEqual(env(fnProps, EnvTenantRoleArn), getAtt(roleID, "Arn")) {
				t.Errorf("%s = %v", EnvTenantRoleArn, env(fnProps, EnvTenantRoleArn))
			}
			// AND its own role reaches the table only in the platform idempotency partitions
			for _, st := range s.statementsFor(fnRole) {
				if strings.HasPrefix(strings.Join(asStrings(st["Action"]), ","), "dynamodb:") && refersTo(st["Resource"], s.tableID) {
					if got := leadingKeys(st); !slices.Equal(got, []string{platformIdem}) {
						t.Errorf("function role table statement: LeadingKeys %v, want %s", got, platformIdem)
					}
				}
			}
		})
	}
	if scoped == 0 {
		t.Error("no function is tenant scoped")
	}
}

func sortedStrings(v any) []string {
	out := slices.Clone(asStrings(v))
	slices.Sort(out)
	return out
}
