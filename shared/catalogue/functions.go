package catalogue

// The catalogue itself: every Tribe function, its triggers and its table
// actions (catalogue.go has the types and the lookups).

import "github.com/tribehq/tribe/shared/table"

var (
	readWrite = []string{GetItem, Query, DescribeTable, BatchGetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem}
	// jobPlanner: a scheduled job lists the tenants and writes each run's tasks;
	// the jobworker does the work.
	jobPlanner = []string{Query, DescribeTable, PutItem}
	// eventsOutActions: events out reads endpoints and deliveries, writes
	// deliveries (puts conditioned on their version) and due entries, and
	// updates an endpoint's failure record.
	eventsOutActions = []string{GetItem, Query, DescribeTable, PutItem, UpdateItem}
)

// functions is the catalogue. Keep it sorted by name.
var functions = []Function{
	{
		Name:         "authorizer",
		Description:  "API Gateway Lambda authorizer: resolves a bearer key, or a staff token of the staff user pool, to its tenant and scopes.",
		Authorizer:   true,
		TableActions: []string{GetItem},
		// It validates the platform admin key too.
		PlatformSecret: true,
	},
	{
		Name:        "birthdays",
		Description: "Hourly: pays each tier's birthday points (生日礼) to the members whose birthday is the tenant's local today, once a year.",
		Schedule: &Schedule{
			Expression: "cron(10 * * * ? *)",
			Timezone:   "UTC",
		},
		TableActions:   jobPlanner,
		TimeoutSeconds: 300,
	},
	{
		Name:        "broadcasts",
		Description: "Stream consumer: sends each group's share of a broadcast (多群转播) through the group's connector, once, and records its outcome.",
		Stream: &Stream{
			ItemTypes:  []string{table.TypeBroadcastTask},
			Events:     []string{EventInsert},
			BatchSize:  10,
			MaxRetries: 5,
		},
		// A task reads its broadcast, group and connector, claims and finishes
		// itself, and logs the delivery.
		TableActions: []string{GetItem, PutItem, UpdateItem},
		Secrets:      Decrypt,
		// Ten sends, eight at a time, each at most three 5 s attempts with backoff.
		TimeoutSeconds: 120,
	},
	{
		Name:        "campaignplay",
		Description: "Lotteries (抽奖) and flash sales (一元秒杀) in campaigns: entries, the committed draw anyone can recompute, claims of limited stock.",
		Routes: []Route{
			{"POST", "/v1/campaigns/{id}/entries", ScopeWrite, "enterLottery"},
			{"GET", "/v1/campaigns/{id}/entries", ScopeRead, "listLotteryEntries"},
			{"POST", "/v1/campaigns/{id}/draw", ScopeAdmin, "drawLottery"},
			{"GET", "/v1/campaigns/{id}/draw", ScopeRead, "getDraw"},
			{"POST", "/v1/campaigns/{id}/claims", ScopeWrite, "claimFlashSale"},
		},
		TableActions: readWrite,
		TenantScoped: true,
		// The draw opens the lottery's sealed seed.
		Secrets: Decrypt,
	},
	{
		Name:        "campaignbatch",
		Description: "Stream consumer: works each campaign run batch (up to 50 members): a budget slice, each member in the audience taking part once (participation and ledger posting in one transaction), the unused slice returned, the results added.",
		Stream: &Stream{
			ItemTypes:  []string{table.TypeCampaignBatch},
			Events:     []string{EventInsert},
			BatchSize:  4,
			MaxRetries: 10,
			// Batches are independent items: several at once per stream shard.
			Parallelization: 4,
		},
		TableActions:   readWrite,
		TimeoutSeconds: 300,
	},
	{
		Name:           "campaignrunner",
		Description:    "Invoked by each campaign's schedule with {tenant, campaign, occurrence}: pages the audience into run batches, checkpointed, so a run cut short resumes and a repeated firing writes nothing new.",
		ScheduleTarget: true,
		TableActions:   readWrite,
		TimeoutSeconds: 900,
		// A lottery's firing at ends_at draws: it opens the sealed seed.
		Secrets: Decrypt,
	},
	{
		Name:        "campaigns",
		Description: "Campaigns (活动策划): definitions, activation onto EventBridge Scheduler, pause and cancel, results (复盘), and segment previews.",
		Routes: []Route{
			{"POST", "/v1/campaigns", ScopeAdmin, "createCampaign"},
			{"GET", "/v1/campaigns", ScopeRead, "listCampaigns"},
			{"GET", "/v1/campaigns/{id}", ScopeRead, "getCampaign"},
			{"PATCH", "/v1/campaigns/{id}", ScopeAdmin, "updateCampaign"},
			{"POST", "/v1/campaigns/{id}/activate", ScopeAdmin, "activateCampaign"},
			{"POST", "/v1/campaigns/{id}/pause", ScopeAdmin, "pauseCampaign"},
			{"POST", "/v1/campaigns/{id}/cancel", ScopeAdmin, "cancelCampaign"},
			{"GET", "/v1/campaigns/{id}/results", ScopeRead, "campaignResults"},
			{"POST", "/v1/segments/preview", ScopeRead, "previewSegment"},
		},
		TableActions: readWrite,
		TenantScoped: true,
		Schedules:    true,
		// Activating a lottery seals its seed (CommitLottery).
		Secrets:        Encrypt,
		TimeoutSeconds: 29,
	},
	{
		Name:        "channels",
		Description: "Channel codes (渠道码): one code per acquisition channel, first-touch attribution and the channel funnel.",
		Routes: []Route{
			{"POST", "/v1/channels", ScopeAdmin, "createChannel"},
			{"GET", "/v1/channels", ScopeRead, "listChannels"},
			{"GET", "/v1/channels/{id}", ScopeRead, "getChannel"},
			{"GET", "/v1/channels/{id}/stats", ScopeRead, "channelStats"},
			{"GET", "/v1/channels/{id}/qr.png", ScopeRead, "channelQR"},
			// A channel backed by a WeCom contact way (联系我): wecomapi.go.
			{"PATCH", "/v1/channels/{id}", ScopeAdmin, "updateChannel"},
			{"DELETE", "/v1/channels/{id}", ScopeAdmin, "deleteChannel"},
			// Welcome messages (好友欢迎语) for new WeCom contacts.
			{"GET", "/v1/welcome", ScopeRead, "getWelcome"},
			{"PUT", "/v1/welcome", ScopeAdmin, "putWelcome"},
			{"GET", "/v1/channels/{id}/welcome", ScopeRead, "getChannelWelcome"},
			{"PUT", "/v1/channels/{id}/welcome", ScopeAdmin, "putChannelWelcome"},
		},
		TableActions: readWrite,
		TenantScoped: true,
		// It calls WeCom with the app's secret and caches the access token sealed.
		Secrets: Encrypt | Decrypt,
	},
	{
		Name:        "chat",
		Description: "Chat platform callbacks: WeCom (encrypted XML, URL verification) and Tribe's generic signed chat events; each event is stored once for the community consumer.",
		Routes: []Route{
			{"GET", "/v1/webhooks/wecom/{integration_id}", ScopePublic, "verifyWeCom"},
			{"POST", "/v1/webhooks/wecom/{integration_id}", ScopePublic, "receiveWeCom"},
			{"POST", "/v1/webhooks/chat/{integration_id}", ScopePublic, "receiveChat"},
		},
		TableActions: []string{GetItem, PutItem},
		TenantScoped: true,
		Secrets:      Decrypt,
	},
	{
		Name:        "community",
		Description: "Stream consumer: applies chat events — joins, leaves, messages — to members, groups, channels, check-ins, moderation and welcome messages.",
		Stream: &Stream{
			ItemTypes: []string{table.TypeChatEvent},
			// New chat events only: not their TTL expiry.
			Events:     []string{EventInsert},
			BatchSize:  100,
			MaxRetries: 10,
		},
		TableActions: readWrite,
		// Decrypt: connector URLs; Encrypt too: it calls WeCom's API (group syncs,
		// profiles, welcomes) and caches the app's access token sealed.
		Secrets:        Encrypt | Decrypt,
		TimeoutSeconds: 60,
	},
	{
		Name:        "connectors",
		Description: "Outbound connectors (group robots, incoming webhooks, the tenant's own bot), the delivery log and multi-group broadcasts (多群转播).",
		Routes: []Route{
			{"POST", "/v1/connectors", ScopeAdmin, "createConnector"},
			{"GET", "/v1/connectors", ScopeRead, "listConnectors"},
			{"GET", "/v1/connectors/{id}", ScopeRead, "getConnector"},
			{"PATCH", "/v1/connectors/{id}", ScopeAdmin, "updateConnector"},
			{"DELETE", "/v1/connectors/{id}", ScopeAdmin, "deleteConnector"},
			{"GET", "/v1/deliveries", ScopeRead, "listDeliveries"},
			{"POST", "/v1/broadcasts", ScopeWrite, "createBroadcast"},
			{"GET", "/v1/broadcasts/{id}", ScopeRead, "getBroadcast"},
		},
		TableActions: readWrite,
		TenantScoped: true,
		Secrets:      Encrypt | Decrypt,
	},
	{
		Name:        "coupons",
		Description: "Coupon pools: codes a tenant uploads for campaigns to issue, each once.",
		Routes: []Route{
			{"POST", "/v1/coupon-pools", ScopeAdmin, "createCouponPool"},
			{"GET", "/v1/coupon-pools", ScopeRead, "listCouponPools"},
			{"GET", "/v1/coupon-pools/{id}", ScopeRead, "getCouponPool"},
			{"POST", "/v1/coupon-pools/{id}/codes", ScopeAdmin, "uploadCouponCodes"},
		},
		TableActions: readWrite,
		TenantScoped: true,
		// An upload of 10,000 codes writes 102 transactions.
		TimeoutSeconds: 29,
	},
	{
		Name:        "counters",
		Description: "Stream consumer: keeps the day counters of each tenant, group and channel exact (members, joins, leaves, active members, messages, check-ins, orders, GMV, refunds, points, violations, churn), sharded so no partition runs hot.",
		Stream: &Stream{
			// Members (created, erased, merged, stage, check-in, activity,
			// channel), ledger postings (orders, points), orders and refunds
			// (GMV per currency), chat messages, group memberships (joins, and
			// leaves as removals) and violations.
			ItemTypes: []string{table.TypeMember, table.TypeLedger, table.TypeOrder, table.TypeRefund,
				table.TypeChatEvent, table.TypeGroupMember, table.TypeViolation},
			Events:        []string{EventInsert, EventModify, EventRemove},
			ModifiedTypes: []string{table.TypeMember},
			RemovedTypes:  []string{table.TypeGroupMember},
			BatchSize:     100,
			MaxRetries:    5,
		},
		// GetItem: the tenant's settings (time zone) decide the day counted; a
		// chat's group, a code's channel and a member's channel place counts.
		TableActions: []string{GetItem, PutItem, UpdateItem},
	},
	{
		Name:        "eventdelivery",
		Description: "Every minute: makes the webhook retries that are due (exponential backoff over about 24 hours) from the minute-bucketed due list, disables endpoints failing for days.",
		Schedule: &Schedule{
			Expression: "rate(1 minute)",
			Timezone:   "UTC",
		},
		// Reads the due list, the deliveries and endpoints; claims and records
		// attempts (a put with the next due entry, in a transaction).
		TableActions: eventsOutActions,
		Secrets:      Decrypt,
		// 40 s of work at most, then the cursor; each attempt at most 5 s.
		TimeoutSeconds: 60,
		// One sweep at a time is enough; an overlap is harmless (claims).
		ReservedConcurrency: 2,
	},
	{
		Name:        "eventsout",
		Description: "Stream consumer: the committed change is the event. Maps changes to webhook events, writes one delivery per subscribed endpoint (only if new), makes each delivery's first attempt and redeliveries (Standard Webhooks signatures).",
		Stream: &Stream{
			ItemTypes: []string{table.TypeMember, table.TypeLedger, table.TypeTierChange, table.TypeReferral, table.TypeWebhookDelivery,
				table.TypeCampaignParticipation, table.TypeLotteryWinner, table.TypeCouponCode},
			Events: []string{EventInsert, EventModify},
			// Coupon codes arrive only when issued (status issued), not uploaded.
			InsertedTypes: []string{table.TypeMember, table.TypeLedger, table.TypeTierChange, table.TypeReferral, table.TypeWebhookDelivery,
				table.TypeCampaignParticipation, table.TypeLotteryWinner},
			// Changed members (any status but a change of nothing meaningful is
			// dropped by the mapper), confirmed referrals, deliveries the tenant
			// asked to redeliver, issued coupon codes. Ledger entries, tier
			// changes, participations and lottery winners: only their inserts.
			ModifiedStatuses: []string{"active", "merged", "erased", "confirmed", "redeliver", "issued"},
			BatchSize:        50,
			MaxRetries:       10,
		},
		TableActions: eventsOutActions,
		Secrets:      Decrypt,
		// A batch's attempts run 8 at a time, 5 s each at most.
		TimeoutSeconds: 60,
	},
	{
		Name:        "expiry",
		Description: "Hourly: expires points lots due by each tenant's local date.",
		Schedule: &Schedule{
			Expression: "cron(5 * * * ? *)",
			Timezone:   "UTC",
		},
		TableActions:   jobPlanner,
		TimeoutSeconds: 300,
	},
	{
		Name:        "groups",
		Description: "Community groups (社群), their members and roles, moderation rules and violations.",
		Routes: []Route{
			{"POST", "/v1/groups", ScopeAdmin, "createGroup"},
			{"GET", "/v1/groups", ScopeRead, "listGroups"},
			{"GET", "/v1/groups/{id}", ScopeRead, "getGroup"},
			{"PATCH", "/v1/groups/{id}", ScopeAdmin, "updateGroup"},
			{"DELETE", "/v1/groups/{id}", ScopeAdmin, "archiveGroup"},
			{"GET", "/v1/groups/{id}/members", ScopeRead, "listGroupMembers"},
			{"PUT", "/v1/groups/{id}/members/{member_id}", ScopeWrite, "putGroupMember"},
			{"DELETE", "/v1/groups/{id}/members/{member_id}", ScopeWrite, "removeGroupMember"},
			{"GET", "/v1/groups/{id}/violations", ScopeRead, "listViolations"},
			{"GET", "/v1/members/{id}/groups", ScopeRead, "memberGroups"},
			// A sync of the tenant's WeCom customer groups, worked by the jobworker.
			{"POST", "/v1/groups/sync", ScopeAdmin, "syncGroups"},
			{"GET", "/v1/group-syncs/{run}", ScopeRead, "getGroupSync"},
			{"GET", "/v1/moderation/rules", ScopeRead, "getModerationRules"},
			{"PUT", "/v1/moderation/rules", ScopeAdmin, "putModerationRules"},
			// groupqr.go: a group's own join QR image and its expiry.
			{"PUT", "/v1/groups/{id}/qr", ScopeAdmin, "putGroupQR"},
			{"GET", "/v1/groups/{id}/qr", ScopeRead, "getGroupQR"},
			// membersonly.go: member-only groups (品专群) and community settings.
			{"GET", "/v1/members/{id}/eligible-groups", ScopeRead, "eligibleGroups"},
			{"GET", "/v1/removals", ScopeRead, "listRemovals"},
			{"GET", "/v1/community/settings", ScopeRead, "getCommunitySettings"},
			{"PUT", "/v1/community/settings", ScopeAdmin, "putCommunitySettings"},
		},
		TableActions: readWrite,
		TenantScoped: true,
	},
	{
		Name:        "integrations",
		Description: "Shop and chat platform connections, their webhook URLs, and the replay of deliveries the webhooks function kept as unreadable.",
		Routes: []Route{
			{"POST", "/v1/integrations", ScopeAdmin, "createIntegration"},
			{"GET", "/v1/integrations", ScopeAdmin, "listIntegrations"},
			{"GET", "/v1/integrations/{id}", ScopeAdmin, "getIntegration"},
			// A WeCom integration's app secret (corp_secret), for Tribe's calls to WeCom.
			{"PATCH", "/v1/integrations/{id}", ScopeAdmin, "updateIntegration"},
			{"DELETE", "/v1/integrations/{id}", ScopeAdmin, "deleteIntegration"},
			// Authentic deliveries the webhooks function could not read, kept for
			// 30 days; the list never shows their bodies.
			{"GET", "/v1/integrations/{id}/deliveries", ScopeRead, "listIntegrationDeliveries"},
			{"POST", "/v1/integrations/{id}/deliveries/{delivery_id}/replay", ScopeAdmin, "replayDelivery"},
			// One-off migration: seal the tenant's secrets written before sealing.
			{"POST", "/v1/secrets/reseal", ScopeAdmin, "resealSecrets"},
		},
		TableActions: readWrite,
		TenantScoped: true,
		Secrets:      Encrypt,
	},
	{
		Name:        "jobworker",
		Description: "Stream consumer: works the scheduled jobs' tasks (one per tenant and member shard) a page at a time, checkpointed, handing a task on when its time runs short.",
		Stream: &Stream{
			ItemTypes:        []string{table.TypeJobTask},
			Events:           []string{EventInsert, EventModify},
			ModifiedStatuses: []string{"continued"},
			BatchSize:        4,
			MaxRetries:       5,
			// Tasks are independent items: several batches of a shard at once.
			Parallelization: 4,
		},
		// Every job's work: members and their ledger, tiers, birthdays, referrals
		// and commission, the expiry lists (built in batches), the task locks.
		TableActions: append(append([]string{}, readWrite...), BatchWriteItem),
		// The WeCom group sync (wecomsync) calls WeCom with the app's secret and
		// caches the access token sealed.
		Secrets:        Encrypt | Decrypt,
		TimeoutSeconds: 900,
		// At most this many tasks at once, whatever the stream shards: jobs never
		// take the table's capacity from the API.
		ReservedConcurrency: 8,
	},
	{
		Name:        "ledger",
		Description: "Stream consumer: posts points for paid orders, reverses them for refunds, creates members for new customers, upgrades tiers.",
		Stream: &Stream{
			ItemTypes: []string{table.TypeOrder, table.TypeRefund, table.TypeCustomer},
			// Orders, refunds and customers as they first arrive.
			Events:     []string{EventInsert},
			BatchSize:  100,
			MaxRetries: 10,
		},
		// BatchGetItem: erased identities' tombstones; DeleteItem: an erased
		// customer's repeated announcement and a merge's moved identities;
		// ConditionCheckItem: a verified phone attached to an active member.
		TableActions: []string{GetItem, Query, DescribeTable, BatchGetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem},
	},
	{
		Name:        "landing",
		Description: "Public landing pages of live codes (活码落地页): the resolved group's name and join QR image, or a fallback when no group has room; counts a scan per view.",
		Routes: []Route{
			{"GET", "/l/{code}", ScopePublic, "landingPage"},
			{"GET", "/l/{code}/groups/{group_id}/qr", ScopePublic, "landingQR"},
		},
		// Resolution (live code, pool groups, holds, counters), the scan counters,
		// the channel by code, the group's image, and the delivery log of a notice.
		TableActions: []string{GetItem, Query, DescribeTable, BatchGetItem, PutItem, UpdateItem},
		TenantScoped: true,
		// It tells the operator through a connector when no group can be offered.
		Secrets: Decrypt,
	},
	{
		Name:        "lifecycle",
		Description: "Daily: moves members between lifecycle stages (new, active, silent, churned) from their last activity.",
		Schedule: &Schedule{
			Expression: "cron(15 3 * * ? *)",
			Timezone:   "UTC",
		},
		TableActions:   jobPlanner,
		TimeoutSeconds: 300,
	},
	{
		Name:        "livecodes",
		Description: "Live codes (活码): one stable code in front of a pool of groups; public resolution by proven joins and decaying scan holds.",
		Routes: []Route{
			{"POST", "/v1/live-codes", ScopeAdmin, "createLiveCode"},
			{"GET", "/v1/live-codes", ScopeRead, "listLiveCodes"},
			{"GET", "/v1/live-codes/{id}", ScopeRead, "getLiveCode"},
			{"PATCH", "/v1/live-codes/{id}", ScopeAdmin, "updateLiveCode"},
			{"GET", "/v1/live-codes/{id}/stats", ScopeRead, "liveCodeStats"},
			{"GET", "/v1/live-codes/{id}/resolve", ScopePublic, "resolveLiveCode"},
			{"GET", "/v1/live-codes/{id}/qr.png", ScopeRead, "liveCodeQR"},
			// A WeCom group join way (客户群活码) behind the live code: wecomapi.go.
			{"PUT", "/v1/live-codes/{id}/wecom", ScopeAdmin, "putLiveCodeWeCom"},
			{"GET", "/v1/live-codes/{id}/wecom", ScopeRead, "getLiveCodeWeCom"},
			{"DELETE", "/v1/live-codes/{id}/wecom", ScopeAdmin, "deleteLiveCodeWeCom"},
		},
		TableActions: readWrite,
		TenantScoped: true,
		// It tells the operator through a connector when a pool runs dry (Decrypt),
		// and calls WeCom with the app's secret, caching its token sealed.
		Secrets: Encrypt | Decrypt,
	},
	{
		Name:        "loyalty",
		Description: "Points rules, the tier ladder and the rewards catalogue.",
		Routes: []Route{
			{"GET", "/v1/points/rules", ScopeRead, "getPointsRules"},
			{"PUT", "/v1/points/rules", ScopeAdmin, "putPointsRules"},
			{"GET", "/v1/tiers", ScopeRead, "getTiers"},
			{"PUT", "/v1/tiers", ScopeAdmin, "putTiers"},
			{"POST", "/v1/rewards", ScopeAdmin, "createReward"},
			{"GET", "/v1/rewards", ScopeRead, "listRewards"},
			{"GET", "/v1/rewards/{id}", ScopeRead, "getReward"},
			{"PATCH", "/v1/rewards/{id}", ScopeAdmin, "updateReward"},
			{"DELETE", "/v1/rewards/{id}", ScopeAdmin, "archiveReward"},
		},
		TableActions: readWrite,
		TenantScoped: true,
	},
	{
		Name:        "members",
		Description: "Members, their external identities, merge, export and erasure.",
		Routes: []Route{
			{"POST", "/v1/members", ScopeWrite, "createMember"},
			{"GET", "/v1/members", ScopeRead, "listMembers"},
			{"GET", "/v1/members/lookup", ScopeRead, "lookupMember"},
			{"GET", "/v1/members/{id}", ScopeRead, "getMember"},
			{"PATCH", "/v1/members/{id}", ScopeWrite, "updateMember"},
			{"DELETE", "/v1/members/{id}", ScopeAdmin, "eraseMember"},
			{"POST", "/v1/members/{id}/identities", ScopeWrite, "addIdentity"},
			{"POST", "/v1/members/{id}/merge", ScopeAdmin, "mergeMembers"},
			{"GET", "/v1/members/{id}/export", ScopeAdmin, "exportMember"},
			// Erasure of a person who is no member: their guest-checkout orders.
			{"POST", "/v1/privacy/erasure", ScopeAdmin, "eraseContact"},
			// Whether unverified shop emails and phones may link members.
			{"GET", "/v1/identity/rules", ScopeRead, "getIdentityRules"},
			{"PUT", "/v1/identity/rules", ScopeAdmin, "putIdentityRules"},
			// Merges a verified phone made, and conflicts the rules kept apart.
			{"GET", "/v1/identity/links", ScopeRead, "listIdentityLinks"},
		},
		TableActions: readWrite,
		TenantScoped: true,
	},
	{
		Name:        "morningreport",
		Description: "Hourly: sends the tenants whose local time is 09:xx yesterday's key numbers with week-over-week growth (早报) through the connector they picked, once per tenant and day.",
		Schedule: &Schedule{
			Expression: "cron(0 * * * ? *)",
			Timezone:   "UTC",
		},
		// Tenants (Query), settings, counters and the connector (GetItem, Query),
		// the day's marker and the delivery log (PutItem).
		TableActions:   []string{GetItem, Query, DescribeTable, PutItem},
		Secrets:        Decrypt,
		TimeoutSeconds: 300,
	},
	{
		Name:        "openapi",
		Description: "Serves the OpenAPI 3.1 document of the whole API.",
		Routes: []Route{
			{"GET", "/v1/openapi.json", ScopePublic, "getOpenAPI"},
		},
	},
	{
		Name:        "platform",
		Description: "Platform administration: creates and lists tenants, sets their plans and rate limits.",
		Routes: []Route{
			// The platform's own audit log: tenant operations.
			{"GET", "/v1/platform/audit-log", ScopePlatform, "platformAuditLog"},
			{"POST", "/v1/tenants", ScopePlatform, "createTenant"},
			{"GET", "/v1/tenants", ScopePlatform, "listTenants"},
			// A tenant's plan and rate limit (shared/ratelimit).
			{"PATCH", "/v1/tenants/{id}", ScopePlatform, "updateTenantPlan"},
		},
		TableActions: readWrite,
	},
	{
		Name:        "points",
		Description: "A member's points: balance and lots, ledger, adjustments, check-ins, redemptions, tier history, activities and tier benefits.",
		Routes: []Route{
			{"GET", "/v1/members/{id}/points", ScopeRead, "getPoints"},
			{"GET", "/v1/members/{id}/ledger", ScopeRead, "listLedger"},
			{"POST", "/v1/members/{id}/points/adjust", ScopeAdmin, "adjustPoints"},
			{"POST", "/v1/members/{id}/check-ins", ScopeWrite, "checkIn"},
			{"POST", "/v1/members/{id}/redemptions", ScopeWrite, "redeem"},
			{"GET", "/v1/members/{id}/tier-history", ScopeRead, "tierHistory"},
			// activities.go: what members do that earns, and their tier's benefits.
			{"POST", "/v1/members/{id}/activities", ScopeWrite, "postActivity"},
			{"GET", "/v1/members/{id}/activities", ScopeRead, "listActivities"},
			{"GET", "/v1/members/{id}/benefits", ScopeRead, "getBenefits"},
		},
		TableActions: readWrite,
		TenantScoped: true,
	},
	{
		Name:        "qrexpiry",
		Description: "Daily: reminds through each live code's notify connector, once per image, a day before a pool group's uploaded QR image expires (from the per-day expiry lists).",
		Schedule: &Schedule{
			Expression: "cron(0 1 * * ? *)",
			Timezone:   "UTC",
		},
		// The expiry lists, groups, live codes, the reminder markers (put, and
		// deleted again when a send failed), the delivery log.
		TableActions:   []string{GetItem, Query, DescribeTable, BatchGetItem, PutItem, DeleteItem},
		Secrets:        Decrypt,
		TimeoutSeconds: 300,
	},
	{
		Name:        "reconcile",
		Description: "Every 15 minutes: reads the table's stream itself (own shard checkpoints) and re-drives orders and refunds without their ledger posting 15 minutes after they were written, through the ledger's own posting; reports what it fixed.",
		Schedule: &Schedule{
			Expression: "rate(15 minutes)",
			Timezone:   "UTC",
		},
		// The ledger's actions: it posts as the ledger does, and reads and
		// writes its stream checkpoints (a platform partition).
		TableActions:   []string{GetItem, Query, DescribeTable, BatchGetItem, PutItem, UpdateItem, DeleteItem},
		ReadsStream:    true,
		TimeoutSeconds: 900,
	},
	{
		Name:        "referral",
		Description: "Stream consumer: attributes invitees (member create, chat join or contact with an invite state, shop orders carrying a code), qualifies referrals on first paid orders, reverses them on refunds, accrues distributor commission.",
		Stream: &Stream{
			ItemTypes: []string{table.TypeMember, table.TypeOrder, table.TypeRefund, table.TypeChatEvent},
			// New members, orders, refunds and chat events; a member changed only
			// when it was merged (the merge re-check).
			Events:           []string{EventInsert, EventModify},
			ModifiedStatuses: []string{"merged"},
			BatchSize:        100,
			MaxRetries:       10,
		},
		TableActions:   readWrite,
		TimeoutSeconds: 60,
	},
	{
		Name:        "referralconfirm",
		Description: "Hourly: confirms referrals and releases commission whose refund window closed, from the time-bucketed due list; resumes where a cut-short run stopped.",
		Schedule: &Schedule{
			Expression: "cron(10 * * * ? *)",
			Timezone:   "UTC",
		},
		TableActions:   jobPlanner,
		TimeoutSeconds: 300,
	},
	{
		Name:        "referrals",
		Description: "Referral and distribution (裂变 · 以老代新 · 分销): invite codes and their QR codes, referrals, the referral program, distributors, payouts and the numbers.",
		Routes: []Route{
			{"GET", "/v1/members/{id}/invite", ScopeRead, "getInvite"},
			{"GET", "/v1/members/{id}/referrals", ScopeRead, "memberReferrals"},
			{"GET", "/v1/invites/{tenant_id}/{code}", ScopePublic, "resolveInvite"},
			{"GET", "/v1/invites/{tenant_id}/{code}/qr.png", ScopePublic, "inviteQR"},
			{"GET", "/v1/referrals", ScopeRead, "listReferrals"},
			{"GET", "/v1/referrals/{id}", ScopeRead, "getReferral"},
			{"POST", "/v1/referrals/{id}/release", ScopeAdmin, "releaseReferral"},
			{"POST", "/v1/referrals/{id}/reject", ScopeAdmin, "rejectReferral"},
			{"GET", "/v1/referrals/program", ScopeRead, "getReferralProgram"},
			{"PUT", "/v1/referrals/program", ScopeAdmin, "putReferralProgram"},
			{"GET", "/v1/referrals/stats", ScopeRead, "referralStats"},
			{"GET", "/v1/referrals/leaderboard", ScopeRead, "referralLeaderboard"},
			{"POST", "/v1/distributors", ScopeAdmin, "createDistributor"},
			{"GET", "/v1/distributors", ScopeRead, "listDistributors"},
			{"GET", "/v1/distributors/{id}", ScopeRead, "getDistributor"},
			{"PATCH", "/v1/distributors/{id}", ScopeAdmin, "updateDistributor"},
			{"POST", "/v1/distributors/{id}/approve", ScopeAdmin, "approveDistributor"},
			{"GET", "/v1/payouts", ScopeAdmin, "listPayouts"},
			{"POST", "/v1/payouts", ScopeAdmin, "createPayout"},
		},
		TableActions: readWrite,
	},
	{
		Name:        "staff",
		Description: "Staff accounts for the console: email and password in the staff user pool (Cognito), roles mapped onto scopes, assigned groups, login.",
		Routes: []Route{
			{"POST", "/v1/staff", ScopeAdmin, "createStaff"},
			{"GET", "/v1/staff", ScopeAdmin, "listStaff"},
			{"GET", "/v1/staff/me", ScopeRead, "getMe"},
			{"PATCH", "/v1/staff/{id}", ScopeAdmin, "updateStaff"},
			{"DELETE", "/v1/staff/{id}", ScopeAdmin, "deleteStaff"},
			{"POST", "/v1/staff/login", ScopePublic, "staffLogin"},
			{"POST", "/v1/staff/refresh", ScopePublic, "staffRefresh"},
		},
		// Not TenantScoped: a staff email is unique across tenants (an item in the
		// platform partition, written with the staff item) and a login finds the
		// tenant by it.
		TableActions: readWrite,
	},
	{
		Name:        "rfm",
		Description: "Daily: scores every member's recency, frequency and monetary value in quintiles of its tenant (rfm \"545\"), written only when changed; planned per tenant, worked by the jobworker.",
		Schedule: &Schedule{
			Expression: "cron(40 3 * * ? *)",
			Timezone:   "UTC",
		},
		TableActions:   jobPlanner,
		TimeoutSeconds: 300,
	},
	{
		Name:        "stats",
		Description: "Numbers (数据监测, 复盘): day counters by day, ISO week and month with week-over-week and month-over-month growth, per tenant, group or channel; channel funnels, groups' active ratios, repurchase rate, points ROI, fission; JSON or CSV.",
		Routes: []Route{
			{"GET", "/v1/stats/daily", ScopeRead, "dailyStats"},
			{"GET", "/v1/stats/weekly", ScopeRead, "weeklyStats"},
			{"GET", "/v1/stats/monthly", ScopeRead, "monthlyStats"},
			{"GET", "/v1/stats/funnels", ScopeRead, "statsFunnels"},
			{"GET", "/v1/stats/groups", ScopeRead, "statsGroups"},
			{"GET", "/v1/stats/summary", ScopeRead, "statsSummary"},
		},
		// Reads only (BatchGetItem: the channel and group lists), and the
		// per-tenant rate limit's window (UpdateItem).
		TableActions: []string{GetItem, Query, DescribeTable, BatchGetItem, UpdateItem},
		TenantScoped: true,
	},
	{
		Name:        "tenant",
		Description: "The calling tenant's settings and API keys.",
		Routes: []Route{
			// Every successful write through the API, kept a year.
			{"GET", "/v1/audit-log", ScopeAdmin, "listAuditLog"},
			{"GET", "/v1/tenant", ScopeRead, "getTenant"},
			{"PATCH", "/v1/tenant", ScopeAdmin, "updateTenant"},
			{"POST", "/v1/api-keys", ScopeAdmin, "createAPIKey"},
			{"GET", "/v1/api-keys", ScopeAdmin, "listAPIKeys"},
			{"DELETE", "/v1/api-keys/{id}", ScopeAdmin, "revokeAPIKey"},
		},
		TableActions: readWrite,
	},
	{
		Name:        "tiers",
		Description: "Daily: downgrades members whose tier retention period has passed and who no longer qualify.",
		Schedule: &Schedule{
			Expression: "cron(20 3 * * ? *)",
			Timezone:   "UTC",
		},
		TableActions:   jobPlanner,
		TimeoutSeconds: 300,
	},
	{
		Name:        "webhookendpoints",
		Description: "Tenant webhook endpoints (events out): URLs, subscribed event types, signing secrets shown once and rotated with an overlap, the delivery log and redelivery.",
		Routes: []Route{
			{"POST", "/v1/webhook-endpoints", ScopeAdmin, "createWebhookEndpoint"},
			{"GET", "/v1/webhook-endpoints", ScopeRead, "listWebhookEndpoints"},
			{"GET", "/v1/webhook-endpoints/{id}", ScopeRead, "getWebhookEndpoint"},
			{"PATCH", "/v1/webhook-endpoints/{id}", ScopeAdmin, "updateWebhookEndpoint"},
			{"DELETE", "/v1/webhook-endpoints/{id}", ScopeAdmin, "deleteWebhookEndpoint"},
			{"POST", "/v1/webhook-endpoints/{id}/rotate-secret", ScopeAdmin, "rotateWebhookSecret"},
			{"GET", "/v1/webhook-endpoints/{id}/deliveries", ScopeRead, "listWebhookDeliveries"},
			{"POST", "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver", ScopeAdmin, "redeliverWebhook"},
		},
		TableActions: readWrite,
		TenantScoped: true,
		Secrets:      Encrypt | Decrypt,
	},
	{
		Name:        "wecomsync",
		Description: "Daily: syncs every tenant's WeCom customer groups (members, owners, admins) with Tribe's groups; planned here, worked by the jobworker (POST /v1/groups/sync asks for one tenant's).",
		Schedule: &Schedule{
			Expression: "cron(40 2 * * ? *)",
			Timezone:   "UTC",
		},
		TableActions:   jobPlanner,
		TimeoutSeconds: 300,
	},
	{
		Name:        "webhooks",
		Description: "Shop webhooks: verifies each platform's signature, stores the order, refund or customer once; the ledger consumer does the rest.",
		Routes: []Route{
			{"POST", "/v1/webhooks/{provider}/{integration_id}", ScopePublic, "receiveWebhook"},
		},
		TableActions: []string{GetItem, PutItem},
		TenantScoped: true,
		Secrets:      Decrypt,
	},
}
