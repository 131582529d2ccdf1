package stack

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/table"
)

func TestTableFollowsDefinition(t *testing.T) {
	// GIVEN the table definition
	def := table.Definition

	// WHEN the stack is synthesized
	s := synth(t)

	// THEN the table has its keys and indexes, is protected, retained, streamed and
	// expires items
	var indexes []any
	for _, ix := range def.Indexes {
		var projected []any
		for _, a := range ix.Projected {
			projected = append(projected, a)
		}
		indexes = append(indexes, map[string]any{
			"IndexName": ix.Name,
			"KeySchema": []any{
				map[string]any{"AttributeName": ix.PartitionKey, "KeyType": "HASH"},
				map[string]any{"AttributeName": ix.SortKey, "KeyType": "RANGE"},
			},
			"Projection": map[string]any{"ProjectionType": "INCLUDE", "NonKeyAttributes": projected},
		})
	}
	check(t, "table", func() {
		s.template.HasResource(jsii.String("AWS::DynamoDB::Table"), &map[string]any{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": map[string]any{
				"KeySchema": []any{
					map[string]any{"AttributeName": def.PartitionKey, "KeyType": "HASH"},
					map[string]any{"AttributeName": def.SortKey, "KeyType": "RANGE"},
				},
				"BillingMode":                      "PAY_PER_REQUEST",
				"GlobalSecondaryIndexes":           assertions.Match_ArrayEquals(&indexes),
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"DeletionProtectionEnabled":        true,
				"StreamSpecification":              map[string]any{"StreamViewType": string(def.StreamView)},
				"TimeToLiveSpecification":          map[string]any{"AttributeName": def.TTLAttribute, "Enabled": true},
				"TableName":                        assertions.Match_Absent(),
			},
		})
	})
}

func TestOutputs(t *testing.T) {
	// GIVEN the synthesized stack
	s := synth(t)

	// WHEN its outputs are read
	// THEN the API URL and the admin key secret ARN are among them
	check(t, "api url", func() { s.template.HasOutput(jsii.String("ApiUrl"), &map[string]any{}) })
	check(t, "secret arn", func() {
		s.template.HasOutput(jsii.String("PlatformAdminKeySecretArn"), &map[string]any{
			"Value": ref(s.idOf(t, "AWS::SecretsManager::Secret")),
		})
	})
}
