package streampump

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/table"
)

// TestFiltersEventNamesAndStatuses: the pump applies the catalogue's patterns, so a
// consumer that acts on INSERT only is not called for a MODIFY or a REMOVE (a TTL
// expiry), and one narrowed to some statuses sees only the MODIFYs that set them.
func TestFiltersEventNamesAndStatuses(t *testing.T) {
	t.Parallel()
	// GIVEN a member inserted, updated (points), erased, then deleted
	ctx := context.Background()
	s := newStream(t)
	key := map[string]ddbtypes.AttributeValue{
		table.PK: &ddbtypes.AttributeValueMemberS{Value: "TENANT#t1"},
		table.SK: &ddbtypes.AttributeValueMemberS{Value: "m1"},
	}
	s.put(t, "member:m1")
	for _, set := range []struct{ expr, name, value string }{
		{"SET points = :v", "", "10"},
		{"SET #s = :v", table.Status, "erased"},
	} {
		in := &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key, UpdateExpression: aws.String(set.expr)}
		if set.name != "" {
			in.ExpressionAttributeNames = map[string]string{"#s": set.name}
			in.ExpressionAttributeValues = map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberS{Value: set.value}}
		} else {
			in.ExpressionAttributeValues = map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberN{Value: set.value}}
		}
		if _, err := s.db.UpdateItem(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key}); err != nil {
		t.Fatal(err)
	}

	// WHEN consumers with different event filters drain the stream
	got := map[string][]string{}
	consumer := func(name string, evs []string, statuses ...string) Consumer {
		return Consumer{Name: name, ItemTypes: []string{"member"}, Events: evs, ModifiedStatuses: statuses, BatchSize: 10,
			Handler: func(_ context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				for _, r := range e.Records {
					got[name] = append(got[name], r.EventName)
				}
				return events.DynamoDBEventResponse{}, nil
			}}
	}
	for _, c := range []Consumer{
		consumer("all", nil),
		consumer("inserts", []string{catalogue.EventInsert}),
		consumer("removes", []string{catalogue.EventRemove}),
		consumer("erasures", []string{catalogue.EventInsert, catalogue.EventModify}, "erased"),
	} {
		drain(t, s.pump(t, "", c))
	}

	// THEN each saw only its events
	want := map[string][]string{
		"all":      {"INSERT", "MODIFY", "MODIFY", "REMOVE"},
		"inserts":  {"INSERT"},
		"removes":  {"REMOVE"},
		"erasures": {"INSERT", "MODIFY"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
