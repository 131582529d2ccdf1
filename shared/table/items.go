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
	TypeActivity      = "activity"
	TypeActivityCount = "activity_count"
	TypeActivityKey   = "activity_key"
	TypeAPIKey        = "api_key"
	TypeAPIKeyMeta    = "api_key_meta"
	TypeBirthday      = "birthday"
	TypeBirthdayRun   = "birthday_run"
	TypeAudit         = "audit"
	TypeChannel       = "channel"
	TypeChannelCode   = "channel_code"
	TypeChannelDay    = "channel_day"
	TypeConnector     = "connector"
	TypeContactRef    = "contact_ref"
	TypeDayCounters   = "day_counters"
	TypeDelivery      = "delivery"
	TypeBroadcast     = "broadcast"
	TypeGroup         = "group"
	TypeGroupChat     = "group_chat"
	TypeGroupMember   = "group_member"
	TypeIdempotency   = "idempotency"
	TypeIdentity      = "identity"
	TypeIdentityRules = "identity_rules"
	// TypeIdentityLink records a merge a verified contact made, or one the
	// tenant's identity rules kept apart.
	TypeIdentityLink    = "identity_link"
	TypeIntegration     = "integration"
	TypeLedger          = "ledger"
	TypeLiveCode        = "live_code"
	TypeLiveCodeDay     = "live_code_day"
	TypeLiveCodePool    = "live_code_pool"
	TypeLiveCodeHold    = "live_code_hold"
	TypeLoyalty         = "loyalty"
	TypeMemberGroup     = "member_group"
	TypeMemberIdentity  = "member_identity" // legacy rows ID#… under members created before Member.Idents: read, moved, deleted, never written
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

// TypeRateBucket is a tenant's request token bucket (shared/ratelimit); no
// stream consumer takes it.
const TypeRateBucket = "rate_bucket"

// Events out (issue 10): tenants' webhook endpoints, one delivery item per event
// and endpoint (the eventsout consumer sends it), the due list of retries the
// eventdelivery sweep reads, and the sweep's cursor.
const (
	TypeWebhookEndpoint = "webhook_endpoint"
	TypeWebhookDelivery = "webhook_delivery"
	TypeWebhookDue      = "webhook_due"
	TypeWebhookSweep    = "webhook_sweep"
	// TypeStreamCheckpoint is the reconciler's position in one shard of the
	// table's stream (a platform item).
	TypeStreamCheckpoint = "stream_checkpoint"
)

// Landing pages, group QR images and member-only groups (issue 11, land).
const (
	// TypeScanDay counts a live code's or channel's scans on one day.
	TypeScanDay = "scan_day"
	// TypeGroupQR is a group's uploaded join QR image (the bytes and their expiry).
	TypeGroupQR = "group_qr"
	// TypeGroupQRExpiry lists a group's QR image under the UTC day it expires.
	TypeGroupQRExpiry = "group_qr_expiry"
	// TypeQRReminder marks an expiry reminder sent (once per image and connector).
	TypeQRReminder = "qr_reminder"
	// TypeCommunitySettings holds a tenant's check-in keywords and min_tier enforcement.
	TypeCommunitySettings = "community_settings"
	// TypeRemoval marks a member below a group's min_tier for removal.
	TypeRemoval = "removal"
)

// WeCom API items (issue 11).
const (
	// TypeWeComToken caches a WeCom app's access token (sealed) and its refresh lock.
	TypeWeComToken = "wecom_token"
	// TypeChannelWeCom is a channel's 联系我 contact way.
	TypeChannelWeCom = "channel_wecom"
	// TypeLiveCodeWeCom is a live code's group join way.
	TypeLiveCodeWeCom = "live_code_wecom"
	// TypeWelcome is a welcome message (好友欢迎语), the tenant's or a channel's.
	TypeWelcome = "welcome"
	// TypeWelcomeSent marks a welcome code used.
	TypeWelcomeSent = "welcome_sent"
	// TypeWeComSync is a tenant's group-sync checkpoint.
	TypeWeComSync = "wecom_sync"
)

// Campaign items (issue 10): the campaign, its runs and run batches (the batches
// are what the campaignbatch consumer takes off the stream), its budget counter,
// per-occurrence results, and each member's participation.
const (
	TypeCampaign              = "campaign"
	TypeCampaignRun           = "campaign_run"
	TypeCampaignBatch         = "campaign_batch"
	TypeCampaignBudget        = "campaign_budget"
	TypeCampaignResult        = "campaign_result"
	TypeCampaignParticipation = "campaign_participation"
	TypeCampaignMarker        = "campaign_marker"
)

// TypeMorningReport marks a tenant's morning report (早报) of one day as claimed
// for sending (shared/morningreport); no stream consumer takes it.
const TypeMorningReport = "morning_report"
