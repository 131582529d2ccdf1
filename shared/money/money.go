// Package money validates currencies and amounts and does the arithmetic on them
// (points, spend, GMV) in int64 minor units, with every operation checked: an
// overflow is an error, never a wrapped-around number.
package money

import (
	"errors"
	"math"
	"math/big"
)

// Errors the package fails with.
var (
	ErrCurrency     = errors.New("money: not an active ISO 4217 currency code")
	ErrAmount       = errors.New("money: amount out of range")
	ErrOverflow     = errors.New("money: arithmetic overflow")
	ErrDivideByZero = errors.New("money: division by zero")
	ErrRate         = errors.New("money: invalid exchange rate")
)

// MaxAmount is the largest amount, in minor units, that one order, refund or
// conversion may carry: 10^12 (ten billion yuan in fen, a trillion yen). It leaves
// room for millions of such amounts to be summed into a GMV without nearing int64.
const MaxAmount int64 = 1_000_000_000_000

// CheckAmount refuses, with ErrAmount, a minor-unit amount below 0 or above
// MaxAmount. Refunds are positive amounts too.
func CheckAmount(minor int64) error {
	if minor < 0 || minor > MaxAmount {
		return ErrAmount
	}
	return nil
}

// Add returns a+b, or ErrOverflow if the sum does not fit in an int64.
func Add(a, b int64) (int64, error) {
	s := a + b
	if (a > 0 && b > 0 && s < 0) || (a < 0 && b < 0 && s >= 0) {
		return 0, ErrOverflow
	}
	return s, nil
}

// Sub returns a-b, or ErrOverflow if the difference does not fit in an int64.
func Sub(a, b int64) (int64, error) {
	d := a - b
	if (b < 0 && d < a) || (b > 0 && d > a) {
		return 0, ErrOverflow
	}
	return d, nil
}

// Mul returns a*b, or ErrOverflow if the product does not fit in an int64.
func Mul(a, b int64) (int64, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	if (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, ErrOverflow
	}
	p := a * b
	if p/b != a {
		return 0, ErrOverflow
	}
	return p, nil
}

// MulDiv returns a*num/den rounded toward negative infinity (floor), computed
// exactly (the product never overflows on the way). Floor is the rule for points:
// 599 fen at 1 point per 100 fen earns 5 points, never 6, and a clawback of -599
// takes back 6, so refunding a purchase can never leave a member with points
// they did not pay for. It fails with ErrDivideByZero if den is 0 and ErrOverflow
// if the result does not fit in an int64.
func MulDiv(a, num, den int64) (int64, error) {
	if den == 0 {
		return 0, ErrDivideByZero
	}
	x := new(big.Int).Mul(big.NewInt(a), big.NewInt(num))
	d := big.NewInt(den)
	q, r := new(big.Int).QuoRem(x, d, new(big.Int))
	if r.Sign() != 0 && r.Sign() != d.Sign() {
		q.Sub(q, big.NewInt(1))
	}
	if !q.IsInt64() {
		return 0, ErrOverflow
	}
	return q.Int64(), nil
}
