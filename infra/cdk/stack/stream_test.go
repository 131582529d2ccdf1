package stack

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
)

func TestStreamFunctionsHaveFilteredMappingsWithFailureBucket(t *testing.T) {
	// GIVEN the catalogue's stream consumers
	var consumers []catalogue.Function
	for _, f := range catalogue.All() {
		if f.Stream != nil {
			consumers = append(consumers, f)
		}
	}

	// WHEN the stack is synthesized
	s := synth(t)

	// THEN each has one mapping from the table stream with partial failures, bisection,
	// its retries, the stream failure bucket as on-failure destination, and the
	// catalogue's filter patterns: item types and event names
	check(t, "mapping count", func() {
		s.template.ResourceCountIs(jsii.String("AWS::Lambda::EventSourceMapping"), jsii.Number(float64(len(consumers))))
	})
	for _, f := range consumers {
		t.Run(f.Name, func(t *testing.T) {
			// (the mapping invokes the live alias: "<function>:live")
			m := s.find(t, "AWS::Lambda::EventSourceMapping", func(p map[string]any) bool {
				return refersTo(p["FunctionName"], s.aliasIDs[f.Name]) && strings.Contains(fmt.Sprint(p["FunctionName"]), ":"+LiveAlias)
			})
			for _, c := range []struct {
				name string
				got  any
				want any
			}{
				{"source", m["EventSourceArn"], getAtt(s.tableID, "StreamArn")},
				{"starting position", m["StartingPosition"], "TRIM_HORIZON"},
				{"batch size", m["BatchSize"], float64(f.Stream.BatchSize)},
				{"response types", m["FunctionResponseTypes"], []any{"ReportBatchItemFailures"}},
				{"bisect", m["BisectBatchOnFunctionError"], true},
				{"retries", m["MaximumRetryAttempts"], float64(f.Stream.MaxRetries)},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
				}
			}
			bucketID, _ := dig(m, "DestinationConfig", "OnFailure", "Destination", "Fn::GetAtt", 0).(string)
			bucket := s.doc.Resources[bucketID]
			if bucket.Type != "AWS::S3::Bucket" || bucket.DeletionPolicy != "Retain" ||
				dig(bucket.Properties, "PublicAccessBlockConfiguration", "RestrictPublicBuckets") != true ||
				dig(bucket.Properties, "LifecycleConfiguration", "Rules", 0, "ExpirationInDays") != float64(streamFailureDays) {
				t.Errorf("on-failure destination %q: got %+v, want the retained private failure bucket", bucketID, bucket)
			}
			var patterns []map[string]any
			filters, _ := dig(m, "FilterCriteria", "Filters").([]any)
			for _, fl := range filters {
				var p map[string]any
				if err := json.Unmarshal([]byte(dig(fl, "Pattern").(string)), &p); err != nil {
					t.Fatalf("filter pattern: %v", err)
				}
				patterns = append(patterns, p)
			}
			if want := f.Stream.Patterns(); !reflect.DeepEqual(patterns, want) {
				t.Errorf("filters: got %v, want %v", patterns, want)
			}
			for _, p := range patterns {
				if p["eventName"] == nil {
					t.Errorf("filter %v does not select event names", p)
				}
			}
		})
	}

	// AND the consumers' roles may write to the failure bucket
	bucketID := s.idOf(t, "AWS::S3::Bucket", "StreamFailures")
	for _, f := range consumers {
		roleID, _ := dig(s.doc.Resources[s.functionIDs[f.Name]].Properties, "Role", "Fn::GetAtt", 0).(string)
		can := false
		for _, st := range s.statementsFor(roleID) {
			if slices.ContainsFunc(asStrings(st["Action"]), func(a string) bool { return strings.HasPrefix(a, "s3:PutObject") }) && refersTo(st["Resource"], bucketID) {
				can = true
			}
		}
		if !can {
			t.Errorf("%s cannot write failed records to the bucket", f.Name)
		}
	}
}
