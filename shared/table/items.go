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
	TypeAudit           = "audit"
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
	TypeIdentityRules   = "identity_rules"
	TypeIntegration     = "integration"
	TypeLedger          = "ledger"
	TypeLiveCode        = "live_code"
	TypeLiveCodeDay     = "live_code_day"
	TypeLiveCodePool    = "live_code_pool"
	TypeLoyalty         = "loyalty"
	TypeMemberGroup     = "member_group"
	TypeMemberIdentity  = "member_identity"
	TypeMemberRef       = "member_ref"
	TypeErased          = "erased"
	TypeModerationRules = "moderation_rules"
	TypeReward          = "reward"
	TypeRewardLimit     = "reward_limit"
	TypeSeen            = "seen"
	TypeTenant          = "tenant"
	TypeTenantRef       = "tenant_ref"
	TypeTierChange      = "tier_change"
	TypeViolation       = "violation"
)
