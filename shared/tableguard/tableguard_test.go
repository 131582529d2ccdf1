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
