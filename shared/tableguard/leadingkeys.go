package tableguard

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/table"
)

// LeadingKeys returns the partition key values a request touches, as IAM's
// dynamodb:LeadingKeys sees them: the item's PK for item and batch operations, each
// item's for transactions, and the key condition's partition value for a Query (the
// index's partition key, GSI1PK, for an index query). ok is false when the request
// names no partition this package can read (Scan, an expression-only Query): a
// tenant's client refuses those.
func LeadingKeys(input any) (keys []string, ok bool) {
	pk := func(m map[string]types.AttributeValue) {
		if s, isS := m[table.PK].(*types.AttributeValueMemberS); isS {
			keys = append(keys, s.Value)
		} else {
			keys = append(keys, "")
		}
	}
	switch in := input.(type) {
	case *dynamodb.GetItemInput:
		pk(in.Key)
	case *dynamodb.PutItemInput:
		pk(in.Item)
	case *dynamodb.UpdateItemInput:
		pk(in.Key)
	case *dynamodb.DeleteItemInput:
		pk(in.Key)
	case *dynamodb.DescribeTableInput:
		return nil, true
	case *dynamodb.QueryInput:
		name := table.PK
		if in.IndexName != nil {
			name = table.GSI1PK
		}
		c, found := in.KeyConditions[name]
		if !found || len(c.AttributeValueList) != 1 {
			return nil, false
		}
		s, isS := c.AttributeValueList[0].(*types.AttributeValueMemberS)
		if !isS {
			return nil, false
		}
		keys = append(keys, s.Value)
	case *dynamodb.BatchGetItemInput:
		for _, ka := range in.RequestItems {
			for _, k := range ka.Keys {
				pk(k)
			}
		}
	case *dynamodb.BatchWriteItemInput:
		for _, reqs := range in.RequestItems {
			for _, r := range reqs {
				switch {
				case r.PutRequest != nil:
					pk(r.PutRequest.Item)
				case r.DeleteRequest != nil:
					pk(r.DeleteRequest.Key)
				}
			}
		}
	case *dynamodb.TransactGetItemsInput:
		for _, it := range in.TransactItems {
			if it.Get != nil {
				pk(it.Get.Key)
			}
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				pk(it.Put.Item)
			case it.Update != nil:
				pk(it.Update.Key)
			case it.Delete != nil:
				pk(it.Delete.Key)
			case it.ConditionCheck != nil:
				pk(it.ConditionCheck.Key)
			}
		}
	default:
		return nil, false
	}
	return keys, true
}

// CheckTenant returns a *DeniedError, and records it, unless every partition key
// input touches starts with store.TenantKeyPrefix(tenantID), T#<tenant># — the
// tenant role's condition.
func (g *Guard) CheckTenant(tenantID string, input any) error {
	prefix := store.TenantKeyPrefix(tenantID)
	keys, ok := LeadingKeys(input)
	bad := ""
	if !ok {
		bad = "(no readable partition key)"
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			bad = k
			break
		}
	}
	if bad == "" {
		return nil
	}
	op, _ := Actions(input)
	e := &DeniedError{Function: g.function, Op: op, Action: fmt.Sprintf("dynamodb:LeadingKeys %q for tenant %s", bad, tenantID)}
	g.record(e)
	return e
}

// TenantOption installs CheckTenant for tenantID on a DynamoDB client: what the
// tenant role's LeadingKeys condition does on AWS, for the local stand-in.
func (g *Guard) TenantOption(tenantID string) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		install(o, "TribeTenantGuard", func(in any) error { return g.CheckTenant(tenantID, in) })
	}
}
