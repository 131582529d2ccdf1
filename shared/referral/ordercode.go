package referral

import (
	"encoding/json"
	"net/url"
	"strings"
)

// Names under which shops carry an invite code in an order's custom fields.
var codeNames = map[string]bool{"ref": true, "referral_code": true, "invite_code": true, "tribe_ref": true, "_tribe_ref": true}

// FromDelivery finds the invite code a shop's order delivery carries, or "". It
// reads the raw, verified body, so the parsers stay unchanged; it never fails.
// Where it looks, in order:
//
//   - Shopify: note_attributes[{name, value}] named ref, referral_code,
//     invite_code or tribe_ref (cart attributes set by the storefront); the ref=
//     parameter of landing_site; then discount_codes[].code that are codes.
//   - WooCommerce: meta_data[{key, value}] with one of those keys (_tribe_ref
//     from a checkout field), then the order's customer_note "ref.CODE".
//   - Youzan: the buyer message (buyer_words / buyer_message) or any custom field
//     with one of those names, including inside the JSON-encoded msg of pushes.
//   - Tribe's generic format: data.referral_code of order.paid (FORMAT.md).
//
// Any other object member named like that, at any depth, counts too. Codes that
// do not parse are ignored; codes nobody holds are ignored by the consumer.
func FromDelivery(provider string, body []byte) string {
	var v any
	if len(body) > 1<<20 || json.Unmarshal(body, &v) != nil {
		return ""
	}
	f := finder{}
	f.walk(v, 0)
	for _, list := range [][]string{f.named, f.landing, f.message, f.discount} {
		for _, c := range list {
			if code, ok := ParseCode(c); ok {
				return code
			}
		}
	}
	return ""
}

type finder struct {
	named, landing, message, discount []string
}

func (f *finder) walk(v any, depth int) {
	if depth > 12 {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		// {name, value} and {key, value} pairs: Shopify note_attributes, WooCommerce
		// meta_data.
		for _, k := range []string{"name", "key"} {
			if n, ok := x[k].(string); ok && codeNames[strings.ToLower(n)] {
				if s, ok := x["value"].(string); ok {
					f.named = append(f.named, s)
				}
			}
		}
		for k, val := range x {
			lk := strings.ToLower(k)
			s, isString := val.(string)
			switch {
			case isString && codeNames[lk]:
				f.named = append(f.named, s)
			case isString && (lk == "landing_site" || lk == "landing_site_ref" || lk == "referring_site"):
				f.landing = append(f.landing, refParam(s))
			case isString && (lk == "buyer_words" || lk == "buyer_message" || lk == "customer_note" || lk == "note"):
				f.message = append(f.message, stateTokens(s)...)
			case lk == "discount_codes":
				if list, ok := val.([]any); ok {
					for _, d := range list {
						if m, ok := d.(map[string]any); ok {
							if c, ok := m["code"].(string); ok {
								f.discount = append(f.discount, c)
							}
						}
					}
				}
			case isString && len(s) > 1 && (s[0] == '{' || s[0] == '['):
				// Youzan pushes carry the trade as a JSON string in msg.
				var inner any
				if json.Unmarshal([]byte(s), &inner) == nil {
					f.walk(inner, depth+1)
				}
			default:
				f.walk(val, depth+1)
			}
		}
	case []any:
		for _, e := range x {
			f.walk(e, depth+1)
		}
	}
}

// refParam is the ref= query parameter of a landing URL or path.
func refParam(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	q := u.Query()
	for _, k := range []string{"ref", "referral_code", "invite_code"} {
		if v := q.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// stateTokens are the words of a free-text note that carry the invite prefix.
func stateTokens(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '，' || r == '\n' || r == '\t' }) {
		if _, ok := FromState(w); ok {
			out = append(out, w)
		}
	}
	return out
}
