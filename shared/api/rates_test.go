package api_test

import "testing"

// TestExchangeRates: a tenant sets rates from other ISO 4217 currencies into its
// own, as exact decimals; anything else is 400 naming the currency.
func TestExchangeRates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.tenant("A") // CNY
	rules := e.must(200, e.do("GET", "/v1/points/rules", key, nil))
	rules["exchange_rates"] = map[string]any{"JPY": "0.0483", "USD": "7.1"}
	got := e.must(200, e.do("PUT", "/v1/points/rules", key, rules))
	if r := got["exchange_rates"].(map[string]any); r["JPY"] != "0.0483" || r["USD"] != "7.1" {
		t.Errorf("exchange_rates = %v", got["exchange_rates"])
	}
	for _, tc := range []struct {
		name  string
		rates map[string]any
		field string
	}{
		{"not ISO 4217", map[string]any{"ZZZ": "1"}, "exchange_rates.ZZZ"},
		{"own currency", map[string]any{"CNY": "1"}, "exchange_rates.CNY"},
		{"not a decimal", map[string]any{"JPY": "1e-2"}, "exchange_rates.JPY"},
		{"zero", map[string]any{"JPY": "0"}, "exchange_rates.JPY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules["exchange_rates"] = tc.rates
			r := e.do("PUT", "/v1/points/rules", key, rules)
			if r.status != 400 || r.code(t) != "invalid_request" || r.json(t)["field"] != tc.field {
				t.Errorf("%d %s, want 400 on %s", r.status, r.body, tc.field)
			}
		})
	}
}
