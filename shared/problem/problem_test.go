package problem

import (
	"errors"
	"fmt"
	"testing"
)

func TestRenderHidesInternalErrors(t *testing.T) {
	t.Parallel()
	doc := Render(fmt.Errorf("dynamo: secret table arn:aws:xyz exploded"), "/v1/x", "req-1")
	if doc.Status != 500 || doc.Code != Internal || doc.Detail != "internal error" {
		t.Errorf("internal = %+v", doc)
	}
	wrapped := fmt.Errorf("get: %w", Wrap(NotFound, errors.New("dynamo: not found"), "member not found"))
	doc = Render(wrapped, "/v1/members/x", "req-2")
	if doc.Status != 404 || doc.Code != NotFound || doc.Detail != "member not found" || doc.RequestID != "req-2" {
		t.Errorf("not found = %+v", doc)
	}
	for code := range status {
		if Status(code) < 400 {
			t.Errorf("%s maps to %d", code, Status(code))
		}
	}
}
