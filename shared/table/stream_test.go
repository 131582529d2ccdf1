package table_test

import (
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tribehq/tribe/shared/table"
)

func TestStreamImageRoundTrip(t *testing.T) {
	t.Parallel()
	item := map[string]types.AttributeValue{
		table.PK:   &types.AttributeValueMemberS{Value: "T#t#M#m"},
		table.Type: &types.AttributeValueMemberS{Value: table.TypeMember},
		"n":        &types.AttributeValueMemberN{Value: "-12.5"},
		"b":        &types.AttributeValueMemberB{Value: []byte{0, 1, 255}},
		"bool":     &types.AttributeValueMemberBOOL{Value: true},
		"null":     &types.AttributeValueMemberNULL{Value: true},
		"ss":       &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":       &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs":       &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}},
		"l":        &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"inner": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberBOOL{Value: false}}},
		}},
	}
	img := table.StreamImage(item)
	if got, ok := table.ItemType(img); !ok || got != table.TypeMember {
		t.Errorf("ItemType = %q, %v; want %q", got, ok, table.TypeMember)
	}
	back, err := table.Item(img)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, item) {
		t.Errorf("round trip = %#v, want %#v", back, item)
	}
	if table.StreamImage(nil) != nil {
		t.Error("a missing image became one")
	}
	if got, err := table.Item(nil); got != nil || err != nil {
		t.Errorf("Item(nil) = %v, %v", got, err)
	}
	if _, ok := table.ItemType(map[string]events.DynamoDBAttributeValue{table.Type: events.NewNumberAttribute("1")}); ok {
		t.Error("a numeric type attribute counted as an item type")
	}
}
