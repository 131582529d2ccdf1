package dynamolocal

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestIndexWritesOfATransactionAreCounted: a put carrying the listing index's
// keys costs its entry's standard units (projected attributes only); a put
// without them costs none; an update setting the index key costs at least one.
func TestIndexWritesOfATransactionAreCounted(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	listed := map[string]types.AttributeValue{"PK": s("T#t#M#1"), "SK": s("MEMBER"), "GSI1PK": s("T#t#MEMBERS#3"), "GSI1SK": s("2026"),
		"name": s("Ann"), "history": s(strings.Repeat("x", 3000))}
	if got := indexPutUnits(listed); got != 1 {
		t.Errorf("listed member: %d index units, want 1 (the 3 KB history is not projected)", got)
	}
	delete(listed, "GSI1PK")
	if got := indexPutUnits(listed); got != 0 {
		t.Errorf("unlisted item: %d index units, want 0", got)
	}
	u := &types.Update{UpdateExpression: aws.String("SET #n = :n, #g = :g"), ExpressionAttributeNames: map[string]string{"#n": "name", "#g": "GSI1PK"}}
	if got := indexUpdateUnits(u); got != 1 {
		t.Errorf("update moving the index key: %d, want 1", got)
	}
	u.ExpressionAttributeNames["#g"] = "tier"
	if got := indexUpdateUnits(u); got != 0 {
		t.Errorf("update not touching the index key: %d, want 0", got)
	}
}
