package table

// Item types: the value of every item's Type attribute. The store writes them, the
// catalogue's stream filters and the stream consumers select by them.
const (
	// Items stream consumers take.
	TypeMember    = "member"
	TypeOrder     = "order"
	TypeRefund    = "refund"
	TypeCustomer  = "customer"
	TypeChatEvent = "chat_event"

	// Everything else the store writes.
	TypeAPIKey          = "api_key"
	TypeAPIKeyMeta      = "api_key_meta"
	TypeChannel         = "channel"
	TypeChannelCode     = "channel_code"
	TypeChannelDay      = "channel_day"
	TypeConnector       = "connector"
	TypeDayCounters     = "day_counters"
	TypeDelivery        = "delivery"
	TypeGroup           = "group"
	TypeGroupChat       = "group_chat"
	TypeGroupMember     = "group_member"
	TypeIdempotency     = "idempotency"
	TypeIdentity        = "identity"
	TypeIntegration     = "integration"
	TypeLedger          = "ledger"
	TypeLiveCode        = "live_code"
	TypeLiveCodeDay     = "live_code_day"
	TypeLiveCodePool    = "live_code_pool"
	TypeLoyalty         = "loyalty"
	TypeMemberGroup     = "member_group"
	TypeMemberIdentity  = "member_identity"
	TypeModerationRules = "moderation_rules"
	TypeReward          = "reward"
	TypeRewardLimit     = "reward_limit"
	TypeSeen            = "seen"
	TypeTenant          = "tenant"
	TypeTenantRef       = "tenant_ref"
	TypeTierChange      = "tier_change"
	TypeViolation       = "violation"
)

// Referral items (issue 9).
const (
	TypeInvite          = "invite"
	TypeReferral        = "referral"
	TypeReferralEvent   = "referral_event"
	TypeReferralPointer = "referral_pointer"
	TypeReferrerStats   = "referrer_stats"
	TypeReferralPending = "referral_pending"
	TypeReferralProgram = "referral_program"
	TypeDue             = "due"
	// TypeMilestonePaid logs a milestone bonus by the month it was paid.
	TypeMilestonePaid   = "milestone_paid"
	TypeDistributor     = "distributor"
	TypeCommission      = "commission"
	TypeCommissionEntry = "commission_entry"
	TypePayout          = "payout"
)
