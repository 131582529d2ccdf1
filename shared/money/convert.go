package money

import (
	"math/big"
	"strconv"
	"strings"
)

// maxRateTerm bounds a rate's numerator and denominator: 10^18 keeps a decimal
// with 18 significant digits exact and the terms inside int64.
const maxRateTerm = 1_000_000_000_000_000_000

// Rate is an exchange rate held exactly, as a fraction num/den: one major unit of
// the source currency buys num/den major units of the target (CNY per JPY is about
// 0.0483). The zero Rate is invalid; build one with NewRate or ParseRate.
type Rate struct {
	num, den int64
}

// NewRate returns the rate num/den, reduced. It fails with ErrRate unless both
// terms are positive and at most 10^18.
func NewRate(num, den int64) (Rate, error) {
	if num <= 0 || den <= 0 || num > maxRateTerm || den > maxRateTerm {
		return Rate{}, ErrRate
	}
	g := gcd(num, den)
	return Rate{num / g, den / g}, nil
}

// ParseRate reads a rate written as a plain decimal ("0.0483", "7", "1.2500") or
// as a fraction of two integers ("483/10000"). It refuses, with ErrRate, signs,
// exponents, spaces, a zero rate, and more than 18 significant digits; there is no
// float anywhere on the way.
func ParseRate(s string) (Rate, error) {
	if n, d, ok := strings.Cut(s, "/"); ok {
		num, err1 := parseDigits(n)
		den, err2 := parseDigits(d)
		if err1 != nil || err2 != nil {
			return Rate{}, ErrRate
		}
		return NewRate(num, den)
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return Rate{}, ErrRate
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if len(frac) > 18 || len(digits) > 18 {
		return Rate{}, ErrRate
	}
	if (intPart != "" && !allDigits(intPart)) || (frac != "" && !allDigits(frac)) || strings.Count(s, ".") > 1 {
		return Rate{}, ErrRate
	}
	if digits == "" {
		return Rate{}, ErrRate
	}
	num, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return Rate{}, ErrRate
	}
	den := int64(1)
	for range len(frac) {
		den *= 10
	}
	return NewRate(num, den)
}

func parseDigits(s string) (int64, error) {
	if s == "" || len(s) > 19 || !allDigits(s) {
		return 0, ErrRate
	}
	return strconv.ParseInt(s, 10, 64)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String writes the rate as ParseRate reads it: a decimal when the denominator is
// a power of ten, "num/den" otherwise. The zero Rate writes as "0/0".
func (r Rate) String() string {
	if r.den <= 0 {
		return "0/0"
	}
	if scale, ok := powerOfTen(r.den); ok {
		s := strconv.FormatInt(r.num, 10)
		if scale == 0 {
			return s
		}
		if len(s) <= scale {
			s = strings.Repeat("0", scale-len(s)+1) + s
		}
		return s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	return strconv.FormatInt(r.num, 10) + "/" + strconv.FormatInt(r.den, 10)
}

// MarshalText writes the rate as String does.
func (r Rate) MarshalText() ([]byte, error) {
	if r.den <= 0 {
		return nil, ErrRate
	}
	return []byte(r.String()), nil
}

// UnmarshalText reads the rate as ParseRate does.
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

func powerOfTen(n int64) (int, bool) {
	scale := 0
	for n%10 == 0 {
		n /= 10
		scale++
	}
	return scale, n == 1
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Convert turns amount, in minor units of from, into minor units of to at rate r
// (major units of to per major unit of from), with the difference in minor-unit
// exponents applied: 100,000 JPY (exponent 0) at 0.0483 is 483,000 fen (CNY,
// exponent 2). The result is computed exactly and rounded half to even
// (banker's rounding), so rounding neither favours the member nor the brand on
// average. The same currency converts to itself whatever the rate. It fails with
// ErrCurrency for an invalid code, ErrRate for the zero Rate, and ErrAmount if
// amount or the result is outside 0..MaxAmount.
func Convert(amount int64, from, to string, r Rate) (int64, error) {
	fromExp, err := Exponent(from)
	if err != nil {
		return 0, err
	}
	toExp, err := Exponent(to)
	if err != nil {
		return 0, err
	}
	if err := CheckAmount(amount); err != nil {
		return 0, err
	}
	if from == to {
		return amount, nil
	}
	if r.num <= 0 || r.den <= 0 {
		return 0, ErrRate
	}
	num := new(big.Int).Mul(big.NewInt(amount), big.NewInt(r.num))
	den := big.NewInt(r.den)
	ten := big.NewInt(10)
	if d := toExp - fromExp; d > 0 {
		num.Mul(num, new(big.Int).Exp(ten, big.NewInt(int64(d)), nil))
	} else if d < 0 {
		den.Mul(den, new(big.Int).Exp(ten, big.NewInt(int64(-d)), nil))
	}
	q := roundHalfEven(num, den)
	if !q.IsInt64() || CheckAmount(q.Int64()) != nil {
		return 0, ErrAmount
	}
	return q.Int64(), nil
}

// roundHalfEven returns num/den rounded half to even, for num >= 0 and den > 0.
func roundHalfEven(num, den *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	switch new(big.Int).Lsh(r, 1).Cmp(den) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}
