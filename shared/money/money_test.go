package money

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

func TestExponent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code    string
		want    int
		wantErr error
	}{
		{"JPY", 0, nil}, {"KRW", 0, nil}, {"VND", 0, nil}, {"CLP", 0, nil}, {"XOF", 0, nil},
		{"CNY", 2, nil}, {"USD", 2, nil}, {"EUR", 2, nil}, {"HKD", 2, nil}, {"TWD", 2, nil}, {"XCG", 2, nil},
		{"BHD", 3, nil}, {"KWD", 3, nil}, {"JOD", 3, nil}, {"TND", 3, nil},
		{"CLF", 4, nil}, {"UYW", 4, nil},
		{"ZZZ", 0, ErrCurrency}, {"cny", 0, ErrCurrency}, {"", 0, ErrCurrency}, {"CNYX", 0, ErrCurrency},
		{"XAU", 0, ErrCurrency}, {"XXX", 0, ErrCurrency}, {"XTS", 0, ErrCurrency},
		{"BGN", 0, ErrCurrency}, {"HRK", 0, ErrCurrency}, {"ZWL", 0, ErrCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			got, err := Exponent(tt.code)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("Exponent(%q) = %d, %v; want %d, %v", tt.code, got, err, tt.want, tt.wantErr)
			}
			if Valid(tt.code) != (tt.wantErr == nil) {
				t.Errorf("Valid(%q) = %v", tt.code, !Valid(tt.code))
			}
		})
	}
}

func TestTableShape(t *testing.T) {
	t.Parallel()
	if got, want := len(exponents), 165; got != want {
		t.Errorf("%d codes, want %d (ISO 4217 list one less the N.A. units)", got, want)
	}
	for code := range exponents {
		if len(code) != 3 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' || code[2] < 'A' || code[2] > 'Z' {
			t.Errorf("malformed code %q", code)
		}
	}
}

func TestCheckAmount(t *testing.T) {
	t.Parallel()
	for _, a := range []int64{0, 1, 59900, MaxAmount} {
		if err := CheckAmount(a); err != nil {
			t.Errorf("CheckAmount(%d) = %v", a, err)
		}
	}
	for _, a := range []int64{-1, MaxAmount + 1, math.MaxInt64, math.MinInt64} {
		if err := CheckAmount(a); !errors.Is(err, ErrAmount) {
			t.Errorf("CheckAmount(%d) = %v, want ErrAmount", a, err)
		}
	}
}

func TestArithmetic(t *testing.T) {
	t.Parallel()
	const maxI, minI = math.MaxInt64, math.MinInt64
	tests := []struct {
		name    string
		op      func(a, b int64) (int64, error)
		a, b    int64
		want    int64
		wantErr error
	}{
		{"add", Add, 2, 3, 5, nil},
		{"add to max", Add, maxI - 1, 1, maxI, nil},
		{"add overflow", Add, maxI, 1, 0, ErrOverflow},
		{"add underflow", Add, minI, -1, 0, ErrOverflow},
		{"add mixed signs", Add, maxI, minI, -1, nil},
		{"sub", Sub, 5, 3, 2, nil},
		{"sub overflow", Sub, maxI, -1, 0, ErrOverflow},
		{"sub underflow", Sub, minI, 1, 0, ErrOverflow},
		{"sub min from -1", Sub, -1, minI, maxI, nil},
		{"sub min from 0", Sub, 0, minI, 0, ErrOverflow},
		{"mul", Mul, 6, 7, 42, nil},
		{"mul zero", Mul, 0, minI, 0, nil},
		{"mul overflow", Mul, 1 << 32, 1 << 31, 0, ErrOverflow},
		{"mul min by -1", Mul, minI, -1, 0, ErrOverflow},
		{"mul -1 by min", Mul, -1, minI, 0, ErrOverflow},
		{"mul near limit", Mul, 3037000499, 3037000499, 9223372030926249001, nil},
		{"mul just over", Mul, 3037000500, 3037000500, 0, ErrOverflow},
		{"the issue's total_minor", Mul, 9223372036854775000, 100, 0, ErrOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.op(tt.a, tt.b)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("got %d, %v; want %d, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestMulDiv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		a, num, den int64
		want        int64
		wantErr     error
	}{
		{"points floor", 59900, 1, 100, 599, nil},
		{"floor positive", 599, 1, 100, 5, nil},
		{"floor negative", -599, 1, 100, -6, nil},
		{"negative den", 599, 1, -100, -6, nil},
		{"both negative", -599, 1, -100, 5, nil},
		{"exact", 300, 2, 3, 200, nil},
		{"big intermediate", math.MaxInt64, 3, 3, math.MaxInt64, nil},
		{"big intermediate 2", math.MaxInt64, math.MaxInt64, math.MaxInt64, math.MaxInt64, nil},
		{"overflow", math.MaxInt64, 2, 1, 0, ErrOverflow},
		{"min by -1", math.MinInt64, -1, 1, 0, ErrOverflow},
		{"zero den", 1, 1, 0, 0, ErrDivideByZero},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := MulDiv(tt.a, tt.num, tt.den)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("MulDiv(%d, %d, %d) = %d, %v; want %d, %v", tt.a, tt.num, tt.den, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzArithmetic(f *testing.F) {
	f.Add(int64(1), int64(2), int64(3))
	f.Add(int64(math.MaxInt64), int64(math.MinInt64), int64(-1))
	f.Add(int64(-599), int64(1), int64(100))
	f.Fuzz(func(t *testing.T, a, b, c int64) {
		check := func(name string, got int64, err error, exact *big.Int) {
			t.Helper()
			if exact.IsInt64() {
				if err != nil || got != exact.Int64() {
					t.Fatalf("%s(%d, %d, %d) = %d, %v; want %s", name, a, b, c, got, err, exact)
				}
			} else if !errors.Is(err, ErrOverflow) {
				t.Fatalf("%s(%d, %d, %d) = %d, %v; want ErrOverflow (exact %s)", name, a, b, c, got, err, exact)
			}
		}
		A, B, C := big.NewInt(a), big.NewInt(b), big.NewInt(c)
		got, err := Add(a, b)
		check("Add", got, err, new(big.Int).Add(A, B))
		got, err = Sub(a, b)
		check("Sub", got, err, new(big.Int).Sub(A, B))
		got, err = Mul(a, b)
		check("Mul", got, err, new(big.Int).Mul(A, B))
		got, err = MulDiv(a, b, c)
		if c == 0 {
			if !errors.Is(err, ErrDivideByZero) {
				t.Fatalf("MulDiv by zero = %d, %v", got, err)
			}
			return
		}
		// floor(x/c) as an exact rational reference.
		q := new(big.Rat).SetFrac(new(big.Int).Mul(A, B), C)
		fl := new(big.Int).Div(q.Num(), q.Denom()) // Denom > 0, so Euclidean Div is floor
		check("MulDiv", got, err, fl)
	})
}
