package dynamolocal

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/tribehq/tribe/shared/table"
)

// DynamoDB Local reports a TransactWriteItems' consumed capacity as twice the sum
// of the distinct unit counts of its items (two 1 KB puts report 2, not 4; a 3 KB
// and a 100 B put report 8), so transactions of small items look cheaper than AWS
// bills them. txCapacity replaces the figure with what AWS charges: two write
// units per started KB of each item. A put's size is computed from the item sent;
// an update, delete or condition check is counted as one KB (its item is not in the
// request), a lower bound.
//
// Index writes of the items a transaction creates are added too (DynamoDB Local's
// figure and the first version of this one kept only the table's units): a put or
// update conditioned on the item not existing whose item carries an index's keys
// writes the index entry (table keys, index keys and the projected attributes),
// one unit per started KB of it (an update: one). A write replacing an item is
// not charged for its index: DynamoDB charges an index only when the entry it
// stores changes, which the request alone does not show. AWS's transaction docs do not say whether
// index writes caused by a transactional write are billed at transactional rates;
// they are counted here at the standard 1 WCU per KB, a lower bound (an emulator
// measured against DynamoDB reports the same: nubo-db/dynoxide#188). A delete's
// index entry is not counted: the item is not in the request (lower bound again).
func txCapacity(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("tribeTxCapacity",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			p, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput)
			out, md, err := next.HandleInitialize(ctx, in)
			if !ok || err != nil {
				return out, md, err
			}
			res, ok := out.Result.(*dynamodb.TransactWriteItemsOutput)
			if !ok || len(res.ConsumedCapacity) == 0 {
				return out, md, err
			}
			units := map[string]float64{}
			for _, w := range p.TransactItems {
				switch {
				case w.Put != nil:
					units[aws.ToString(w.Put.TableName)] += 2 * float64(WriteUnits(w.Put.Item))
					if creates(w.Put.ConditionExpression) {
						units[aws.ToString(w.Put.TableName)] += float64(indexPutUnits(w.Put.Item))
					}
				case w.Update != nil:
					units[aws.ToString(w.Update.TableName)] += 2
					if creates(w.Update.ConditionExpression) {
						units[aws.ToString(w.Update.TableName)] += float64(indexUpdateUnits(w.Update))
					}
				case w.Delete != nil:
					units[aws.ToString(w.Delete.TableName)] += 2
				case w.ConditionCheck != nil:
					units[aws.ToString(w.ConditionCheck.TableName)] += 2
				}
			}
			for i, c := range res.ConsumedCapacity {
				if u, ok := units[aws.ToString(c.TableName)]; ok {
					res.ConsumedCapacity[i].CapacityUnits = aws.Float64(u)
					res.ConsumedCapacity[i].WriteCapacityUnits = aws.Float64(u)
				}
			}
			return out, md, err
		}), middleware.After)
}

// creates reports whether a write's condition says the item does not exist yet.
func creates(cond *string) bool { return strings.Contains(aws.ToString(cond), "attribute_not_exists(") }

// indexPutUnits is the standard write units of the index entries a put of item
// writes: one per started KB of each entry, for each index whose keys it has.
func indexPutUnits(item map[string]types.AttributeValue) int {
	n := 0
	for _, ix := range table.Definition.Indexes {
		if item[ix.PartitionKey] == nil || item[ix.SortKey] == nil {
			continue
		}
		entry := map[string]types.AttributeValue{}
		for _, a := range append([]string{table.Definition.PartitionKey, table.Definition.SortKey, ix.PartitionKey, ix.SortKey}, ix.Projected...) {
			if v, ok := item[a]; ok {
				entry[a] = v
			}
		}
		n += WriteUnits(entry)
	}
	return n
}

// indexUpdateUnits is a lower bound of the index writes of an update: one for
// each index whose partition key its update expression sets.
func indexUpdateUnits(u *types.Update) int {
	expr := aws.ToString(u.UpdateExpression)
	set := expr
	if i := strings.Index(strings.ToUpper(expr), "SET "); i >= 0 {
		set = expr[i:]
	} else {
		return 0
	}
	n := 0
	for _, ix := range table.Definition.Indexes {
		names := []string{ix.PartitionKey}
		for alias, name := range u.ExpressionAttributeNames {
			if name == ix.PartitionKey {
				names = append(names, alias)
			}
		}
		for _, name := range names {
			if strings.Contains(set, name+" =") || strings.Contains(set, name+"=") {
				n++
				break
			}
		}
	}
	return n
}

// WriteUnits is the write units one write of item takes: one per started KB of
// its size as DynamoDB counts it.
func WriteUnits(item map[string]types.AttributeValue) int {
	return max(1, (ItemSize(item)+1023)/1024)
}

// ItemSize is an item's size as DynamoDB bills it: attribute names plus values;
// numbers take about one byte per two significant digits plus one, maps and lists
// three bytes plus one per element.
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		return sumLen(v.Value)
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		return sumLen(v.Value)
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	}
	return 0
}

func numberSize(s string) int {
	digits := strings.TrimLeft(strings.TrimPrefix(s, "-"), "0.")
	digits = strings.ReplaceAll(digits, ".", "")
	return (len(digits)+1)/2 + 1
}

func sumLen[T ~string | ~[]byte](xs []T) int {
	n := 0
	for _, x := range xs {
		n += len(x)
	}
	return n
}
