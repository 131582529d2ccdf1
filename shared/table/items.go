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
	// TypeBroadcastTask is one group's share of a broadcast.
	TypeBroadcastTask = "broadcast_task"
	// TypeJobTask is one tenant's (and member shard's) share of a scheduled job run.
	TypeJobTask = "job_task"

	// Everything else the store writes.
	TypeActivity        = "activity"
	TypeActivityCount   = "activity_count"
	TypeActivityKey     = "activity_key"
	TypeAPIKey          = "api_key"
	TypeAPIKeyMeta      = "api_key_meta"
	TypeBirthday        = "birthday"
	TypeBirthdayRun     = "birthday_run"
	TypeAudit           = "audit"
	TypeChannel         = "channel"
	TypeChannelCode     = "channel_code"
	TypeChannelDay      = "channel_day"
	TypeConnector       = "connector"
	TypeContactRef      = "contact_ref"
	TypeDayCounters     = "day_counters"
	TypeDelivery        = "delivery"
	TypeBroadcast       = "broadcast"
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
	TypeLiveCodeHold    = "live_code_hold"
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
	// TypeJobState is a tenant shard's lock for a job and the job's own state.
	TypeJobState = "job_state"
	// TypeExpiring lists a member under the day its earliest points lot expires.
	TypeExpiring = "expiring"
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

// TypeRateWindow counts a tenant's requests in one rate-limit window
// (shared/ratelimit); no stream consumer takes it.
const TypeRateWindow = "rate_window"

// TypeMorningReport marks a tenant's morning report (早报) of one day as claimed
// for sending (shared/morningreport); no stream consumer takes it.
const TypeMorningReport = "morning_report"
