package money

import (
	"encoding/json"
	"errors"
	"math/big"
	"testing"
)

func mustRate(t testing.TB, s string) Rate {
	t.Helper()
	r, err := ParseRate(s)
	if err != nil {
		t.Fatalf("ParseRate(%q): %v", s, err)
	}
	return r
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		num, den int64
		str      string
		wantErr  bool
	}{
		{"0.0483", 483, 10000, "0.0483", false},
		{"7", 7, 1, "7", false},
		{"7.10", 71, 10, "7.1", false},
		{".5", 1, 2, "1/2", false},
		{"5.", 5, 1, "5", false},
		{"483/10000", 483, 10000, "0.0483", false},
		{"1/3", 1, 3, "1/3", false},
		{"0.000000000000000001", 1, 1_000_000_000_000_000_000, "0.000000000000000001", false},
		{"123456789012345678", 123456789012345678, 1, "123456789012345678", false},
		{"0", 0, 0, "", true},
		{"0.000", 0, 0, "", true},
		{"", 0, 0, "", true},
		{".", 0, 0, "", true},
		{"-1", 0, 0, "", true},
		{"+1", 0, 0, "", true},
		{"1e3", 0, 0, "", true},
		{" 1", 0, 0, "", true},
		{"1.2.3", 0, 0, "", true},
		{"1/0", 0, 0, "", true},
		{"0/5", 0, 0, "", true},
		{"/5", 0, 0, "", true},
		{"1/-5", 0, 0, "", true},
		{"NaN", 0, 0, "", true},
		{"0.0000000000000000001", 0, 0, "", true},
		{"1234567890123456789", 0, 0, "", true},
		{"99999999999999999999/1", 0, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			r, err := ParseRate(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrRate) {
					t.Fatalf("ParseRate(%q) = %v, %v; want ErrRate", tt.in, r, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRate(%q): %v", tt.in, err)
			}
			want, _ := NewRate(tt.num, tt.den)
			if r != want {
				t.Errorf("ParseRate(%q) = %d/%d, want %d/%d", tt.in, r.num, r.den, want.num, want.den)
			}
			if got := r.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
		})
	}
}

func TestRateJSON(t *testing.T) {
	t.Parallel()
	in := struct {
		Rate Rate `json:"rate"`
	}{mustRate(t, "0.0483")}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"rate":"0.0483"}`; got != want {
		t.Errorf("marshal = %s, want %s", got, want)
	}
	var out struct {
		Rate Rate `json:"rate"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Rate != in.Rate {
		t.Errorf("round trip = %v, %v", out.Rate, err)
	}
	if err := json.Unmarshal([]byte(`{"rate":"-1"}`), &out); !errors.Is(err, ErrRate) {
		t.Errorf("unmarshal -1 = %v, want ErrRate", err)
	}
	if _, err := json.Marshal(struct{ R Rate }{}); err == nil {
		t.Error("marshalled the zero Rate")
	}
}

func TestConvert(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		amount   int64
		from, to string
		rate     string
		want     int64
		wantErr  error
	}{
		{"the issue's yen order", 100_000, "JPY", "CNY", "0.0483", 483_000, nil},
		{"yuan to yen", 59900, "CNY", "JPY", "20.7", 12399, nil}, // 599.00 * 20.7 = 12399.3
		{"same currency ignores rate", 59900, "CNY", "CNY", "3", 59900, nil},
		{"dinar to yuan, 3 to 2 digits", 1_234, "KWD", "CNY", "23.5", 2900, nil}, // 1.234 * 23.5 = 28.999
		{"to 4 digits", 100, "CLP", "CLF", "0.000026", 26, nil},
		{"half even down", 5, "CNY", "JPY", "1", 0, nil}, // 0.05 → 0.05 yen → 0
		{"half even: .5 to even 0", 50, "CNY", "JPY", "1", 0, nil},
		{"half even: 1.5 to 2", 150, "CNY", "JPY", "1", 2, nil},
		{"half even: 2.5 to 2", 250, "CNY", "JPY", "1", 2, nil},
		{"above half", 251, "CNY", "JPY", "1", 3, nil},
		{"rational rate", 300, "USD", "EUR", "1/3", 100, nil},
		{"zero amount", 0, "USD", "CNY", "7.1", 0, nil},
		{"unknown from", 100, "ZZZ", "CNY", "1", 0, ErrCurrency},
		{"unknown to", 100, "CNY", "cny", "1", 0, ErrCurrency},
		{"negative amount", -1, "USD", "CNY", "7", 0, ErrAmount},
		{"amount over max", MaxAmount + 1, "USD", "CNY", "7", 0, ErrAmount},
		{"result over max", MaxAmount, "USD", "KRW", "1400", 0, ErrAmount},
		{"result far over max", MaxAmount, "JPY", "CLF", "123456789012345678", 0, ErrAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Convert(tt.amount, tt.from, tt.to, mustRate(t, tt.rate))
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("Convert(%d %s→%s @%s) = %d, %v; want %d, %v", tt.amount, tt.from, tt.to, tt.rate, got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := Convert(100, "USD", "CNY", Rate{}); !errors.Is(err, ErrRate) {
		t.Errorf("Convert with the zero Rate = %v, want ErrRate", err)
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"0.0483", "7", "1/3", ".5", "1e3", "-1", "0.000000000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			if !errors.Is(err, ErrRate) {
				t.Fatalf("ParseRate(%q) error %v is not ErrRate", s, err)
			}
			return
		}
		if r.num <= 0 || r.den <= 0 {
			t.Fatalf("ParseRate(%q) = %d/%d", s, r.num, r.den)
		}
		back, err := ParseRate(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseRate(%q).String() = %q does not read back: %v, %v", s, r.String(), back, err)
		}
	})
}

var fuzzCodes = []string{"JPY", "CNY", "KWD", "CLF", "ZZZ", "USD"}

func FuzzConvert(f *testing.F) {
	f.Add(int64(100_000), uint8(0), uint8(1), int64(483), int64(10_000))
	f.Add(int64(MaxAmount), uint8(0), uint8(3), int64(1_000_000_000_000_000_000), int64(1))
	f.Add(int64(-5), uint8(2), uint8(1), int64(1), int64(1))
	f.Fuzz(func(t *testing.T, amount int64, fi, ti uint8, num, den int64) {
		from, to := fuzzCodes[int(fi)%len(fuzzCodes)], fuzzCodes[int(ti)%len(fuzzCodes)]
		r, rerr := NewRate(num, den)
		got, err := Convert(amount, from, to, r)
		if err != nil {
			return
		}
		if CheckAmount(got) != nil {
			t.Fatalf("Convert returned %d, outside the amount range", got)
		}
		if from == to {
			if got != amount {
				t.Fatalf("same-currency Convert changed %d to %d", amount, got)
			}
			return
		}
		if rerr != nil {
			t.Fatalf("Convert accepted an invalid rate %d/%d", num, den)
		}
		// Reference: exact rational, then half-even by hand.
		fe, _ := Exponent(from)
		te, _ := Exponent(to)
		x := new(big.Rat).SetFrac(big.NewInt(amount), big.NewInt(1))
		x.Mul(x, new(big.Rat).SetFrac(big.NewInt(r.num), big.NewInt(r.den)))
		scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(te-fe))), nil))
		if te > fe {
			x.Mul(x, scale)
		} else {
			x.Quo(x, scale)
		}
		lo := new(big.Int).Div(x.Num(), x.Denom())
		frac := new(big.Rat).Sub(x, new(big.Rat).SetInt(lo))
		want := new(big.Int).Set(lo)
		switch frac.Cmp(big.NewRat(1, 2)) {
		case 1:
			want.Add(want, big.NewInt(1))
		case 0:
			if lo.Bit(0) == 1 {
				want.Add(want, big.NewInt(1))
			}
		}
		if want.Cmp(big.NewInt(got)) != 0 {
			t.Fatalf("Convert(%d %s→%s @%d/%d) = %d, want %s", amount, from, to, r.num, r.den, got, want)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
