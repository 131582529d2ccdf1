package store

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/guregu/dynamo/v2"
)

func historyMember() Member {
	m := Member{ID: "m1", Lots: PointLots{}, Window: TierWindow{}}
	for i := 0; i < 24; i++ {
		m.Lots[epoch.AddDate(26, i, 27).Format("2006-01-02")] = int64(100 + i*37)
	}
	m.Lots[NeverExpires] = 5
	m.Lots["odd-key"] = -7
	for i := 0; i < 13; i++ {
		m.Window[epoch.AddDate(25, i, 0).Format("2006-01")] = DayTotals{Points: 1200, Spend: 129900, Orders: 8}
	}
	m.Window["2026-11-28"] = DayTotals{Points: 10, Spend: 1000, Orders: 1, OrderPoints: 10}
	m.Window["1999-12"] = DayTotals{Points: -3}
	return m
}

func TestMemberLotsAndWindowRoundTripCompactly(t *testing.T) {
	m := historyMember()
	item, err := dynamo.MarshalItem(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lots", "window"} {
		if _, ok := item[name].(*types.AttributeValueMemberB); !ok {
			t.Fatalf("%s is %T, want binary", name, item[name])
		}
	}
	var back Member
	if err := dynamo.UnmarshalItem(item, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Lots, m.Lots) || !reflect.DeepEqual(back.Window, m.Window) {
		t.Fatalf("round trip changed the lots or window:\n%v\n%v", back.Lots, back.Window)
	}
	// The size DynamoDB bills: binary bytes against the maps written before.
	legacy, err := dynamo.MarshalItem(struct {
		Lots   map[string]int64     `dynamo:"lots"`
		Window map[string]DayTotals `dynamo:"window"`
	}{m.Lots, m.Window})
	if err != nil {
		t.Fatal(err)
	}
	packed := len(item["lots"].(*types.AttributeValueMemberB).Value) + len(item["window"].(*types.AttributeValueMemberB).Value)
	if mapped := avSize(legacy["lots"]) + avSize(legacy["window"]); packed*2 > mapped {
		t.Fatalf("binary form %d bytes is not under half the maps' %d", packed, mapped)
	}
}

func TestMemberReadsLegacyMapsAndOmitsEmpty(t *testing.T) {
	m := historyMember()
	legacy, err := dynamo.MarshalItem(struct {
		ID     string               `dynamo:"id"`
		Lots   map[string]int64     `dynamo:"lots"`
		Window map[string]DayTotals `dynamo:"window"`
	}{"m1", m.Lots, m.Window})
	if err != nil {
		t.Fatal(err)
	}
	var back Member
	if err := dynamo.UnmarshalItem(legacy, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Lots, m.Lots) || !reflect.DeepEqual(back.Window, m.Window) {
		t.Fatal("legacy maps did not read back")
	}
	empty, err := dynamo.MarshalItem(Member{ID: "m2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := empty["lots"]; ok {
		t.Fatal("empty lots were written")
	}
	if _, ok := empty["window"]; ok {
		t.Fatal("empty window was written")
	}
}

func TestMemberCodecRefusesCorruptBytes(t *testing.T) {
	var l PointLots
	for _, b := range [][]byte{{}, {9}, {lotsCodecV1, 5, keyDay}, {lotsCodecV1, 1, keyRaw, 50, 'a'}} {
		if err := l.UnmarshalDynamo(&types.AttributeValueMemberB{Value: b}); err == nil {
			t.Fatalf("%v read without error", b)
		}
	}
	var w TierWindow
	if err := w.UnmarshalDynamo(&types.AttributeValueMemberB{Value: []byte{windowCodecV1, 1, keyMonth, 3, 2}}); err == nil {
		t.Fatal("a truncated window read without error")
	}
}

// avSize is DynamoDB's size of an attribute's value, by its documented rules.
func avSize(av types.AttributeValue) int {
	switch v := av.(type) {
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += len(k) + 1 + avSize(e)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + avSize(e)
		}
		return n
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value)/2 + 1
	case *types.AttributeValueMemberS:
		return len(v.Value)
	}
	return 1
}
