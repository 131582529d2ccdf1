package referral

import "math/big"

// CommissionOn is the commission at rate basis points on net minor units: the
// exact product rounded down (toward the merchant) to a whole minor unit, never
// negative. A refund changes net; the difference between the commission on the
// old net and on the new one is what the refund reverses, so reversals are in
// proportion and the parts always add up to the commission on the final net.
func CommissionOn(net, bps int64) int64 {
	if net <= 0 || bps <= 0 {
		return 0
	}
	p := new(big.Int).Mul(big.NewInt(net), big.NewInt(bps))
	p.Quo(p, big.NewInt(10000))
	return p.Int64()
}
