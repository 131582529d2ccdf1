package system_test

import (
	"strings"
	"testing"
)

// TestIdempotencyRecordsHoldNoPersonalData: a member created, given an identity
// and merged with Idempotency-Keys. Replays answer as the first responses did,
// with no idempotency record holding the name, email or phone; after erasure a
// scan of the whole table finds them nowhere, and a replay answers the
// anonymised member.
func TestIdempotencyRecordsHoldNoPersonalData(t *testing.T) {
	s := newStand(t, "USD")
	const name, email, phone = "Wang Xiaoming", "xiaoming.wang@example.cn", "+8613800138000"
	body := map[string]any{"name": name, "email": email, "phone": phone}
	code, first := s.call("POST", "/v1/members", body, "Idempotency-Key", "create-1")
	if code != 201 {
		t.Fatalf("create: %d %v", code, first)
	}
	id := first["id"].(string)
	code, again := s.call("POST", "/v1/members", body, "Idempotency-Key", "create-1")
	if code != 201 || again["id"] != id || again["email"] != email || again["name"] != name || again["phone"] != phone {
		t.Fatalf("replay before erasure: %d %v, want the member %s as created", code, again, id)
	}
	identity := map[string]any{"provider": "email", "external_id": "xiaoming@work.example.cn"}
	if code, out := s.call("POST", "/v1/members/"+id+"/identities", identity, "Idempotency-Key", "ident-1"); code != 201 {
		t.Fatalf("identity: %d %v", code, out)
	}
	if code, out := s.call("POST", "/v1/members/"+id+"/identities", identity, "Idempotency-Key", "ident-1"); code != 201 || out["external_id"] != "xiaoming@work.example.cn" || out["member_id"] != id {
		t.Fatalf("identity replay: %d %v", code, out)
	}
	// A refused request with personal data keeps no record: the same key may be
	// used again once the request is right.
	if code, out := s.call("POST", "/v1/members", map[string]any{"name": name, "email": "not-an-email " + phone}, "Idempotency-Key", "bad-1"); code != 400 {
		t.Fatalf("bad create: %d %v", code, out)
	}
	_, other := s.call("POST", "/v1/members", map[string]any{"name": "Xiaoming W."}, "Idempotency-Key", "merge-src")
	merge := map[string]any{"from": other["id"]}
	if code, out := s.call("POST", "/v1/members/"+id+"/merge", merge, "Idempotency-Key", "merge-1"); code != 200 || out["email"] != email {
		t.Fatalf("merge: %d %v", code, out)
	}
	if code, out := s.call("POST", "/v1/members/"+id+"/merge", merge, "Idempotency-Key", "merge-1"); code != 200 || out["id"] != id || out["email"] != email {
		t.Fatalf("merge replay: %d %v", code, out)
	}

	needles := []string{name, email, phone, "xiaoming@work.example.cn", "Xiaoming W."}
	hits := s.scanFor(needles...)
	if len(hits) == 0 {
		t.Fatal("the scan finds nothing before erasure: it proves nothing after")
	}
	for _, h := range hits {
		if strings.Contains(h, "(idempotency)") {
			t.Errorf("an idempotency record holds personal data: %s", h)
		}
	}

	if code, out := s.call("DELETE", "/v1/members/"+id, nil); code != 200 || out["status"] != "erased" {
		t.Fatalf("erase: %d %v", code, out)
	}
	if hits := s.scanFor(needles...); len(hits) > 0 {
		t.Fatalf("after erasure the table still holds the person:\n%s", strings.Join(hits, "\n"))
	}
	code, after := s.call("POST", "/v1/members", body, "Idempotency-Key", "create-1")
	if code != 201 || after["id"] != id || after["status"] != "erased" || after["email"] != "" {
		t.Fatalf("replay after erasure: %d %v, want the anonymised member %s", code, after, id)
	}
	if code, out := s.call("POST", "/v1/members/"+id+"/identities", identity, "Idempotency-Key", "ident-1"); code != 404 {
		t.Fatalf("identity replay after erasure: %d %v, want 404", code, out)
	}
	if hits := s.scanFor(needles...); len(hits) > 0 {
		t.Fatalf("the replays brought the person back:\n%s", strings.Join(hits, "\n"))
	}
}
