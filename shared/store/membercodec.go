package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/guregu/dynamo/v2"
)

// A member's points lots and tier window are rewritten by every order posting, in
// a transaction that AWS bills at two units per started kilobyte of the member
// item. As DynamoDB maps they cost a history member about 860 bytes (24 lots and
// 13 months of window, key strings repeated in every entry), which put a loyal
// member's item over 1 KB. Each is kept instead as one binary attribute: dates as
// day or month numbers, amounts as varints, about 5 bytes a lot and 9 bytes a
// month. Only the store reads them. Items written before keep their maps, which
// still read; the next write converts them.

// PointLots are points by expiry bucket: a local date (YYYY-MM-DD) or "never".
type PointLots map[string]int64

// TierWindow is a member's qualifying totals by local month (YYYY-MM), or by day
// (YYYY-MM-DD) before a posting folds them.
type TierWindow map[string]DayTotals

// The format's first byte; a later change of layout takes a new one.
const (
	lotsCodecV1   = 1
	windowCodecV1 = 1
)

// Key kinds in the binary form: a day, a month, or any other string verbatim.
const (
	keyDay   = 0
	keyMonth = 1
	keyNever = 2
	keyRaw   = 3
)

// epoch is day and month zero of the encoding.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

var _ dynamo.Marshaler = PointLots(nil)
var _ dynamo.Unmarshaler = (*PointLots)(nil)
var _ dynamo.Marshaler = TierWindow(nil)
var _ dynamo.Unmarshaler = (*TierWindow)(nil)

// MarshalDynamo writes the lots as one binary attribute, sorted by key so the same
// lots always give the same bytes; none is no attribute.
func (l PointLots) MarshalDynamo() (types.AttributeValue, error) {
	if len(l) == 0 {
		return nil, nil
	}
	b := []byte{lotsCodecV1}
	b = binary.AppendUvarint(b, uint64(len(l)))
	for _, k := range sortedKeys(l) {
		b = appendKey(b, k)
		b = binary.AppendVarint(b, l[k])
	}
	return &types.AttributeValueMemberB{Value: b}, nil
}

// UnmarshalDynamo reads the binary form, or the map that items written before it
// hold.
func (l *PointLots) UnmarshalDynamo(av types.AttributeValue) error {
	switch v := av.(type) {
	case *types.AttributeValueMemberM:
		var m map[string]int64
		if err := dynamo.UnmarshalItem(v.Value, &m); err != nil {
			return fmt.Errorf("points lots: %w", err)
		}
		*l = m
		return nil
	case *types.AttributeValueMemberB:
		r := codecReader{b: v.Value}
		if r.byte() != lotsCodecV1 {
			return errors.New("points lots: unknown encoding")
		}
		n := r.uvarint()
		out := make(PointLots, min(n, 1024))
		for i := uint64(0); i < n && r.err == nil; i++ {
			k := r.key()
			out[k] = r.varint()
		}
		if r.err != nil {
			return fmt.Errorf("points lots: %w", r.err)
		}
		*l = out
		return nil
	case *types.AttributeValueMemberNULL:
		*l = nil
		return nil
	}
	return fmt.Errorf("points lots: unexpected attribute %T", av)
}

// MarshalDynamo writes the window as one binary attribute (see PointLots).
func (w TierWindow) MarshalDynamo() (types.AttributeValue, error) {
	if len(w) == 0 {
		return nil, nil
	}
	b := []byte{windowCodecV1}
	b = binary.AppendUvarint(b, uint64(len(w)))
	for _, k := range sortedKeys(w) {
		t := w[k]
		b = appendKey(b, k)
		b = binary.AppendVarint(b, t.Points)
		b = binary.AppendVarint(b, t.Spend)
		b = binary.AppendVarint(b, t.Orders)
		b = binary.AppendVarint(b, t.OrderPoints)
	}
	return &types.AttributeValueMemberB{Value: b}, nil
}

// UnmarshalDynamo reads the binary form, or the map that items written before it
// hold.
func (w *TierWindow) UnmarshalDynamo(av types.AttributeValue) error {
	switch v := av.(type) {
	case *types.AttributeValueMemberM:
		var m map[string]DayTotals
		if err := dynamo.UnmarshalItem(v.Value, &m); err != nil {
			return fmt.Errorf("tier window: %w", err)
		}
		*w = m
		return nil
	case *types.AttributeValueMemberB:
		r := codecReader{b: v.Value}
		if r.byte() != windowCodecV1 {
			return errors.New("tier window: unknown encoding")
		}
		n := r.uvarint()
		out := make(TierWindow, min(n, 1024))
		for i := uint64(0); i < n && r.err == nil; i++ {
			k := r.key()
			out[k] = DayTotals{Points: r.varint(), Spend: r.varint(), Orders: r.varint(), OrderPoints: r.varint()}
		}
		if r.err != nil {
			return fmt.Errorf("tier window: %w", r.err)
		}
		*w = out
		return nil
	case *types.AttributeValueMemberNULL:
		*w = nil
		return nil
	}
	return fmt.Errorf("tier window: unexpected attribute %T", av)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// appendKey writes a day or month as its number since epoch when it reads back as
// the same string, "never" as a kind alone, anything else verbatim.
func appendKey(b []byte, k string) []byte {
	if k == NeverExpires {
		return append(b, keyNever)
	}
	if t, err := time.Parse(time.DateOnly, k); err == nil && !t.Before(epoch) && t.Format(time.DateOnly) == k {
		b = append(b, keyDay)
		return binary.AppendUvarint(b, uint64(t.Sub(epoch)/(24*time.Hour)))
	}
	if t, err := time.Parse("2006-01", k); err == nil && !t.Before(epoch) && t.Format("2006-01") == k {
		b = append(b, keyMonth)
		return binary.AppendUvarint(b, uint64((t.Year()-epoch.Year())*12+int(t.Month())-1))
	}
	b = append(b, keyRaw)
	b = binary.AppendUvarint(b, uint64(len(k)))
	return append(b, k...)
}

// codecReader reads the binary forms, keeping the first error.
type codecReader struct {
	b   []byte
	err error
}

var errShort = errors.New("truncated value")

func (r *codecReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *codecReader) fail() {
	if r.err == nil {
		r.err = errShort
	}
}

func (r *codecReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *codecReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *codecReader) key() string {
	switch r.byte() {
	case keyNever:
		return NeverExpires
	case keyDay:
		return epoch.AddDate(0, 0, int(r.uvarint())).Format(time.DateOnly)
	case keyMonth:
		m := int(r.uvarint())
		return time.Date(epoch.Year()+m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
	case keyRaw:
		n := r.uvarint()
		if r.err != nil || uint64(len(r.b)) < n {
			r.fail()
			return ""
		}
		k := string(r.b[:n])
		r.b = r.b[n:]
		return k
	}
	r.fail()
	return ""
}
