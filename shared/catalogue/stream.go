package catalogue

import (
	"fmt"
	"slices"

	"github.com/tribehq/tribe/shared/table"
)

// Stream record event names.
const (
	EventInsert = "INSERT"
	EventModify = "MODIFY"
	EventRemove = "REMOVE"
)

// Patterns are the stream's filter: a record reaches the function when it matches
// any of them. They are Lambda event filtering patterns over the stream record
// (eventName and the dynamodb images); the CDK stack deploys them as the event
// source mapping's filter criteria and the local stream pump applies the same
// patterns, so a consumer sees the same records here and on AWS.
//
// One pattern per event: an INSERT or MODIFY matches on its new image's item type,
// a REMOVE (a delete or a TTL expiry) on its old image's; InsertedTypes,
// ModifiedTypes and RemovedTypes narrow each to those types; ModifiedStatuses narrows
// MODIFY to new images with one of those statuses.
func (s Stream) Patterns() []map[string]any {
	types := make([]any, len(s.ItemTypes))
	for i, t := range s.ItemTypes {
		types[i] = t
	}
	var out []map[string]any
	for _, e := range s.Events {
		image, attrs := "NewImage", map[string]any{table.Type: map[string]any{"S": types}}
		switch e {
		case EventInsert:
			if len(s.InsertedTypes) > 0 {
				attrs[table.Type] = map[string]any{"S": anys(s.InsertedTypes)}
			}
		case EventRemove:
			image = "OldImage"
			if len(s.RemovedTypes) > 0 {
				attrs[table.Type] = map[string]any{"S": anys(s.RemovedTypes)}
			}
		case EventModify:
			if len(s.ModifiedTypes) > 0 {
				attrs[table.Type] = map[string]any{"S": anys(s.ModifiedTypes)}
			}
			if len(s.ModifiedStatuses) > 0 {
				statuses := make([]any, len(s.ModifiedStatuses))
				for i, st := range s.ModifiedStatuses {
					statuses[i] = st
				}
				attrs[table.Status] = map[string]any{"S": statuses}
			}
		}
		out = append(out, map[string]any{
			"eventName": []any{e},
			"dynamodb":  map[string]any{image: attrs},
		})
	}
	return out
}

func anys(v []string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}

// validateEvents requires known, distinct event names, and ModifiedStatuses only
// with MODIFY.
func (s Stream) validateEvents() error {
	if len(s.Events) == 0 {
		return fmt.Errorf("stream needs the event names it acts on")
	}
	for i, e := range s.Events {
		if e != EventInsert && e != EventModify && e != EventRemove {
			return fmt.Errorf("stream event %q is not INSERT, MODIFY or REMOVE", e)
		}
		if slices.Contains(s.Events[:i], e) {
			return fmt.Errorf("stream event %s given twice", e)
		}
	}
	for _, t := range slices.Concat(s.InsertedTypes, s.ModifiedTypes, s.RemovedTypes) {
		if !slices.Contains(s.ItemTypes, t) {
			return fmt.Errorf("stream narrows to item type %s it does not take", t)
		}
	}
	if len(s.ModifiedStatuses) > 0 && !slices.Contains(s.Events, EventModify) {
		return fmt.Errorf("stream has modified statuses but does not take MODIFY")
	}
	return nil
}

// MatchPattern reports whether doc, a stream record as Lambda's filtering sees it
// (JSON-like maps, strings and numbers), matches pattern: every key of the pattern
// is in doc, a nested map matching recursively and a list holding doc's value.
// It is the subset of Lambda's event filtering syntax Patterns uses.
func MatchPattern(pattern map[string]any, doc map[string]any) bool {
	for k, want := range pattern {
		got, ok := doc[k]
		if !ok {
			return false
		}
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !MatchPattern(w, sub) {
				return false
			}
		case []any:
			if !slices.Contains(w, got) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
