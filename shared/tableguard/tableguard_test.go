package tableguard_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tribehq/tribe/shared/tableguard"
)

func TestActionsAreIAMs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		input any
		want  []string
	}{
		{"get", &dynamodb.GetItemInput{}, []string{"dynamodb:GetItem"}},
		{"batch get is its own action", &dynamodb.BatchGetItemInput{}, []string{"dynamodb:BatchGetItem"}},
		{"batch write is its own action", &dynamodb.BatchWriteItemInput{}, []string{"dynamodb:BatchWriteItem"}},
		{"query", &dynamodb.QueryInput{}, []string{"dynamodb:Query"}},
		{"transact get needs GetItem", &dynamodb.TransactGetItemsInput{}, []string{"dynamodb:GetItem"}},
		{"transact write needs each item's action", &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{}}, {Update: &types.Update{}}, {ConditionCheck: &types.ConditionCheck{}}, {Put: &types.Put{}}, {Delete: &types.Delete{}},
		}}, []string{"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}},
		{"unknown is refused", &dynamodb.CreateTableInput{}, []string{"unknown:*dynamodb.CreateTableInput"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, got := tableguard.Actions(c.input); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestGuardRefusesAndRecords(t *testing.T) {
	t.Parallel()
	g := tableguard.New("counters", []string{"dynamodb:PutItem", "dynamodb:UpdateItem"})
	tx := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{}}, {Update: &types.Update{}}}}
	if err := g.Check(tx); err != nil {
		t.Fatalf("a transaction of granted actions: %v", err)
	}
	err := g.Check(&dynamodb.GetItemInput{})
	var d *tableguard.DeniedError
	if !errors.As(err, &d) || d.Action != "dynamodb:GetItem" || d.Function != "counters" {
		t.Fatalf("GetItem without the grant: %v", err)
	}
	tx.TransactItems = append(tx.TransactItems, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{}})
	if err := g.Check(tx); !errors.As(err, &d) || d.Action != "dynamodb:ConditionCheckItem" {
		t.Fatalf("a condition check without the grant: %v", err)
	}
	if got := g.Denied(); len(got) != 2 {
		t.Errorf("denied = %v, want both refusals", got)
	}
}

func TestTenantCheckIsTheLeadingKeysCondition(t *testing.T) {
	t.Parallel()
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	key := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"PK": s(pk), "SK": s("X")}
	}
	index := "GSI1"
	for _, c := range []struct {
		name  string
		input any
		ok    bool
	}{
		{"own item", &dynamodb.GetItemInput{Key: key("T#ten_a#M#1")}, true},
		{"another tenant's item", &dynamodb.GetItemInput{Key: key("T#ten_b#M#1")}, false},
		{"a tenant whose id extends ours", &dynamodb.PutItemInput{Item: key("T#ten_ab#M#1")}, false},
		{"the platform registry", &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{Item: key("T#ten_a#TENANT")}}, {Put: &types.Put{Item: key("T#_platform#TENANTS")}},
		}}, false},
		{"own index partition", &dynamodb.QueryInput{IndexName: &index, KeyConditions: map[string]types.Condition{
			"GSI1PK": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{s("T#ten_a#MEMBERS#3")}},
		}}, true},
		{"another tenant's index partition", &dynamodb.QueryInput{IndexName: &index, KeyConditions: map[string]types.Condition{
			"GSI1PK": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{s("T#ten_b#MEMBERS#3")}},
		}}, false},
		{"batch with one foreign key", &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			"t": {Keys: []map[string]types.AttributeValue{key("T#ten_a#M#1"), key("T#ten_b#M#2")}},
		}}, false},
		{"scan names no partition", &dynamodb.ScanInput{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := tableguard.New("members", nil).CheckTenant("ten_a", c.input)
			if (err == nil) != c.ok {
				t.Errorf("CheckTenant = %v, want allowed %v", err, c.ok)
			}
		})
	}
}
