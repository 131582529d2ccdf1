package table

// Campaign play items (issue 10: coupon pools, lotteries, flash sales). The
// campaign item itself (TypeCampaign) is the campaigns core's.
const (
	// TypeCouponPool is a pool of coupon codes a tenant uploads.
	TypeCouponPool = "coupon_pool"
	// TypeCouponCode is one code of a pool; once issued it records the member
	// and the ref it was issued for (what a coupon.issued event maps).
	TypeCouponCode = "coupon_code"
	// TypeCouponShard counts a pool shard's codes and issues.
	TypeCouponShard = "coupon_shard"
	// TypeCouponRef makes an issue idempotent by its ref.
	TypeCouponRef = "coupon_ref"
	// TypeLottery is a lottery's commitment and, after the draw, its result.
	TypeLottery = "lottery"
	// TypeLotteryGate closes one entry shard of a lottery at the draw.
	TypeLotteryGate = "lottery_gate"
	// TypeLotteryEntry is one member's entry in a lottery.
	TypeLotteryEntry = "lottery_entry"
	// TypeLotteryWinner is one winning slot and the reward it was given.
	TypeLotteryWinner = "lottery_winner"
	// TypeLotteryAuto lists a lottery members enter automatically.
	TypeLotteryAuto = "lottery_auto"
	// TypeFlashStock is a flash sale's stock counter.
	TypeFlashStock = "flash_stock"
	// TypeFlashCount is one member's claim count in a flash sale.
	TypeFlashCount = "flash_count"
	// TypeFlashClaim is one successful claim of a flash sale.
	TypeFlashClaim = "flash_claim"
)
