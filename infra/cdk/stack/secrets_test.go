package stack

import (
	"slices"
	"strings"
	"testing"

	"github.com/tribehq/tribe/shared/catalogue"
)

// kmsUse reports whether a KMS action (or pattern) lets its holder encrypt or
// decrypt with a key, or hand that right on (grants).
func kmsUse(action string) bool {
	switch {
	case action == "*" || action == "kms:*":
		return true
	case strings.HasPrefix(action, "kms:Decrypt"), strings.HasPrefix(action, "kms:Encrypt"),
		strings.HasPrefix(action, "kms:GenerateDataKey"), strings.HasPrefix(action, "kms:ReEncrypt"),
		strings.HasPrefix(action, "kms:CreateGrant"), action == "kms:Create*":
		return true
	}
	return false
}

func TestSecretsKeyIsUsedOnlyByTheCatalogueSecretsFunctions(t *testing.T) {
	// GIVEN the catalogue's Secrets flags and the synthesized stack
	s := synth(t)
	var keyID string
	for id, r := range s.doc.Resources {
		if r.Type == "AWS::KMS::Key" {
			if keyID != "" {
				t.Fatalf("two KMS keys: %s and %s", keyID, id)
			}
			keyID = id
		}
	}
	if keyID == "" {
		t.Fatal("no KMS key for secrets")
	}
	key := s.doc.Resources[keyID]
	if key.Properties["EnableKeyRotation"] != true || key.DeletionPolicy != "Retain" {
		t.Errorf("secrets key: rotation %v, deletion policy %q; want rotation and Retain", key.Properties["EnableKeyRotation"], key.DeletionPolicy)
	}
	roleOf := map[string]string{} // role logical id → function
	for name, id := range s.functionIDs {
		role, _ := dig(s.doc.Resources[id].Properties, "Role", "Fn::GetAtt", 0).(string)
		roleOf[role] = name
	}

	// WHEN the key policy's use statements are collected by principal
	used := map[string][]string{} // function → actions the key policy allows it
	statements, _ := dig(key.Properties, "KeyPolicy", "Statement").([]any)
	for _, raw := range statements {
		st := raw.(map[string]any)
		var uses []string
		for _, a := range asStrings(st["Action"]) {
			if kmsUse(a) {
				uses = append(uses, a)
			}
		}
		if len(uses) == 0 {
			continue
		}
		if st["Effect"] != "Allow" {
			continue
		}
		role, _ := dig(st, "Principal", "AWS", "Fn::GetAtt", 0).(string)
		fn, ok := roleOf[role]
		if !ok {
			t.Errorf("key policy lets %v use the key (%v): only catalogue functions may", st["Principal"], uses)
			continue
		}
		if dig(st, "Condition", "Null", "kms:EncryptionContext:tenant") != "false" {
			t.Errorf("%s may use the key without a tenant encryption context: %v", fn, st["Condition"])
		}
		used[fn] = append(used[fn], uses...)
	}

	// THEN each function may do exactly what its catalogue Secrets say, in the key
	// policy, in its role and through its environment
	for _, f := range catalogue.All() {
		t.Run(f.Name, func(t *testing.T) {
			var want []string
			if f.Secrets&catalogue.Encrypt != 0 {
				want = append(want, SecretsKeyActions[catalogue.Encrypt]...)
			}
			if f.Secrets&catalogue.Decrypt != 0 {
				want = append(want, SecretsKeyActions[catalogue.Decrypt]...)
			}
			slices.Sort(want)
			got := slices.Sorted(slices.Values(used[f.Name]))
			if !slices.Equal(got, want) {
				t.Errorf("key policy: %v, want %v", got, want)
			}
			roleID, _ := dig(s.doc.Resources[s.functionIDs[f.Name]].Properties, "Role", "Fn::GetAtt", 0).(string)
			var inRole []string
			for _, st := range s.statementsFor(roleID) {
				for _, a := range asStrings(st["Action"]) {
					if strings.HasPrefix(a, "kms:") || a == "*" {
						inRole = append(inRole, a)
						if !refersTo(st["Resource"], keyID) {
							t.Errorf("role: %s on %v, not on the secrets key", a, st["Resource"])
						}
					}
				}
			}
			slices.Sort(inRole)
			if !slices.Equal(inRole, want) {
				t.Errorf("role: %v, want %v", inRole, want)
			}
			v := env(s.doc.Resources[s.functionIDs[f.Name]].Properties, EnvSecretsKeyID)
			if (v != nil) != (f.Secrets != 0) || (v != nil && !refersTo(v, keyID)) {
				t.Errorf("%s = %v; want the key's ARN exactly when the function has Secrets", EnvSecretsKeyID, v)
			}
		})
	}
	for _, name := range []string{"webhooks", "chat", "community", "connectors", "livecodes"} {
		if f, _ := catalogue.Lookup(name); f.Secrets&catalogue.Decrypt == 0 {
			t.Errorf("%s verifies or sends but may not decrypt", name)
		}
	}
}
