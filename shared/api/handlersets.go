package api

// The handler sets, one per catalogue function with routes, keyed by the routes' op
// names. A route function's constructor (wire/routes) passes its own set to
// Server.Handler and nothing in its Lambda names another set, so each binary links
// only its own handlers (and what they use). A new route's handler goes in its
// function's set here; its code goes in the file named after the function.

// HandlerSet returns one catalogue function's handlers by op.
type HandlerSet func(*Server) map[string]op

// ChannelsHandlers are the channels function's handlers.
func ChannelsHandlers(s *Server) map[string]op {
	return map[string]op{
		"createChannel": s.createChannel,
		"listChannels":  s.listChannels,
		"getChannel":    s.getChannel,
		"channelStats":  s.channelStats,
		"channelQR":     s.channelQR,
		// wecomapi.go
		"updateChannel":     s.updateChannel,
		"deleteChannel":     s.deleteChannel,
		"getWelcome":        s.getWelcome,
		"putWelcome":        s.putWelcome,
		"getChannelWelcome": s.getChannelWelcome,
		"putChannelWelcome": s.putChannelWelcome,
	}
}

// CampaignPlayHandlers are the campaignplay function's handlers.
func CampaignPlayHandlers(s *Server) map[string]op {
	return map[string]op{
		"enterLottery":       s.enterLottery,
		"listLotteryEntries": s.listLotteryEntries,
		"drawLottery":        s.drawLottery,
		"getDraw":            s.getDraw,
		"claimFlashSale":     s.claimFlashSale,
	}
}

// CampaignsHandlers are the campaigns function's handlers (campaigns.go).
func CampaignsHandlers(s *Server) map[string]op {
	return map[string]op{
		"createCampaign":   s.createCampaign,
		"listCampaigns":    s.listCampaigns,
		"getCampaign":      s.getCampaign,
		"updateCampaign":   s.updateCampaign,
		"activateCampaign": s.activateCampaign,
		"pauseCampaign":    s.pauseCampaign,
		"cancelCampaign":   s.cancelCampaign,
		"campaignResults":  s.campaignResults,
		"previewSegment":   s.previewSegment,
	}
}

// ChatHandlers are the chat function's handlers.
func ChatHandlers(s *Server) map[string]op {
	return map[string]op{
		"verifyWeCom":  s.verifyWeCom,
		"receiveWeCom": s.receiveWeCom,
		"receiveChat":  s.receiveChat,
	}
}

// ConnectorsHandlers are the connectors function's handlers.
func ConnectorsHandlers(s *Server) map[string]op {
	return map[string]op{
		"createConnector": s.createConnector,
		"listConnectors":  s.listConnectors,
		"getConnector":    s.getConnector,
		"updateConnector": s.updateConnector,
		"deleteConnector": s.deleteConnector,
		"listDeliveries":  s.listDeliveries,
		"createBroadcast": s.createBroadcast,
		"getBroadcast":    s.getBroadcast,
	}
}

// CouponsHandlers are the coupons function's handlers.
func CouponsHandlers(s *Server) map[string]op {
	return map[string]op{
		"createCouponPool":  s.createCouponPool,
		"listCouponPools":   s.listCouponPools,
		"getCouponPool":     s.getCouponPool,
		"uploadCouponCodes": s.uploadCouponCodes,
	}
}

// GroupsHandlers are the groups function's handlers.
func GroupsHandlers(s *Server) map[string]op {
	return map[string]op{
		"createGroup":        s.createGroup,
		"listGroups":         s.listGroups,
		"getGroup":           s.getGroup,
		"updateGroup":        s.updateGroup,
		"archiveGroup":       s.archiveGroup,
		"listGroupMembers":   s.listGroupMembers,
		"putGroupMember":     s.putGroupMember,
		"removeGroupMember":  s.removeGroupMember,
		"listViolations":     s.listViolations,
		"memberGroups":       s.memberGroups,
		"syncGroups":         s.syncGroups,
		"getGroupSync":       s.getGroupSync,
		"getModerationRules": s.getModerationRules,
		"putModerationRules": s.putModerationRules,
		// groupqr.go
		"putGroupQR": s.putGroupQR,
		"getGroupQR": s.getGroupQR,
		// membersonly.go
		"eligibleGroups":       s.eligibleGroups,
		"listRemovals":         s.listRemovals,
		"getCommunitySettings": s.getCommunitySettings,
		"putCommunitySettings": s.putCommunitySettings,
	}
}

// LandingHandlers are the landing function's handlers (landing.go).
func LandingHandlers(s *Server) map[string]op {
	return map[string]op{
		"landingPage": s.landing,
		"landingQR":   s.landingQR,
	}
}

// IntegrationsHandlers are the integrations function's handlers.
func IntegrationsHandlers(s *Server) map[string]op {
	return map[string]op{
		"createIntegration": s.createIntegration,
		"listIntegrations":  s.listIntegrations,
		"updateIntegration": s.updateIntegration,
		"getIntegration":    s.getIntegration,
		"deleteIntegration": s.deleteIntegration,
		// unreadable.go
		"listIntegrationDeliveries": s.listIntegrationDeliveries,
		"replayDelivery":            s.replayDelivery,
		"resealSecrets":             s.resealSecrets, // integrations.go
	}
}

// LiveCodesHandlers are the livecodes function's handlers.
func LiveCodesHandlers(s *Server) map[string]op {
	return map[string]op{
		"createLiveCode":  s.createLiveCode,
		"listLiveCodes":   s.listLiveCodes,
		"getLiveCode":     s.getLiveCode,
		"updateLiveCode":  s.updateLiveCode,
		"liveCodeStats":   s.liveCodeStats,
		"resolveLiveCode": s.resolveLiveCode,
		"liveCodeQR":      s.liveCodeQR,
		// wecomapi.go
		"putLiveCodeWeCom":    s.putLiveCodeWeCom,
		"getLiveCodeWeCom":    s.getLiveCodeWeCom,
		"deleteLiveCodeWeCom": s.deleteLiveCodeWeCom,
	}
}

// LoyaltyHandlers are the loyalty function's handlers.
func LoyaltyHandlers(s *Server) map[string]op {
	return map[string]op{
		"getPointsRules": s.getPointsRules,
		"putPointsRules": s.putPointsRules,
		"getTiers":       s.getTiers,
		"putTiers":       s.putTiers,
		"createReward":   s.createReward,
		"listRewards":    s.listRewards,
		"getReward":      s.getReward,
		"updateReward":   s.updateReward,
		"archiveReward":  s.archiveReward,
	}
}

// MembersHandlers are the members function's handlers.
func MembersHandlers(s *Server) map[string]op {
	return map[string]op{
		"createMember": s.createMember,
		"listMembers":  s.listMembers,
		"lookupMember": s.lookupMember,
		"getMember":    s.getMember,
		"updateMember": s.updateMember,
		"eraseMember":  s.eraseMember,
		"addIdentity":  s.addIdentity,
		"mergeMembers": s.mergeMembers,
		"exportMember": s.exportMember,
		"eraseContact": s.eraseContact, // privacy.go
		// identity linking rules, privacy: members.go
		"getIdentityRules":  s.getIdentityRules,
		"putIdentityRules":  s.putIdentityRules,
		"listIdentityLinks": s.listIdentityLinks,
	}
}

// OpenAPIHandlers are the openapi function's handlers.
func OpenAPIHandlers(s *Server) map[string]op {
	return map[string]op{
		"getOpenAPI": s.getOpenAPI,
	}
}

// PlatformHandlers are the platform function's handlers.
func PlatformHandlers(s *Server) map[string]op {
	return map[string]op{
		"createTenant": s.createTenant,
		"listTenants":  s.listTenants,
		// ratelimit.go
		"updateTenantPlan": s.updateTenantPlan,
		// audit.go
		"platformAuditLog": s.listAuditLog,
	}
}

// PointsHandlers are the points function's handlers.
func PointsHandlers(s *Server) map[string]op {
	return map[string]op{
		"getPoints":    s.getPoints,
		"listLedger":   s.listLedger,
		"adjustPoints": s.adjustPoints,
		"checkIn":      s.checkIn,
		"redeem":       s.redeem,
		"tierHistory":  s.tierHistory,
		// activities.go
		"postActivity":   s.postActivity,
		"listActivities": s.listActivities,
		"getBenefits":    s.getBenefits,
	}
}

// ReferralsHandlers are the referrals function's handlers.
func ReferralsHandlers(s *Server) map[string]op {
	return map[string]op{
		"getInvite":           s.getInvite,
		"resolveInvite":       s.resolveInvite,
		"inviteQR":            s.inviteQR,
		"memberReferrals":     s.memberReferrals,
		"listReferrals":       s.listReferrals,
		"getReferral":         s.getReferral,
		"releaseReferral":     s.releaseReferral,
		"rejectReferral":      s.rejectReferral,
		"getReferralProgram":  s.getReferralProgram,
		"putReferralProgram":  s.putReferralProgram,
		"referralStats":       s.referralStats,
		"referralLeaderboard": s.referralLeaderboard,
		"createDistributor":   s.createDistributor,
		"listDistributors":    s.listDistributors,
		"getDistributor":      s.getDistributor,
		"updateDistributor":   s.updateDistributor,
		"approveDistributor":  s.approveDistributor,
		"listPayouts":         s.listPayouts,
		"createPayout":        s.createPayout,
	}
}

// TenantHandlers are the tenant function's handlers.
func TenantHandlers(s *Server) map[string]op {
	return map[string]op{
		"getTenant":    s.getTenant,
		"updateTenant": s.updateTenant,
		"createAPIKey": s.createAPIKey,
		"listAPIKeys":  s.listAPIKeys,
		"revokeAPIKey": s.revokeAPIKey,
		// audit.go
		"listAuditLog": s.listAuditLog,
	}
}

// WebhooksHandlers are the webhooks function's handlers.
func WebhooksHandlers(s *Server) map[string]op {
	return map[string]op{
		"receiveWebhook": s.receiveWebhook,
	}
}

// WebhookEndpointsHandlers are the webhookendpoints function's handlers
// (webhookendpoints.go).
func WebhookEndpointsHandlers(s *Server) map[string]op {
	return map[string]op{
		"createWebhookEndpoint": s.createWebhookEndpoint,
		"listWebhookEndpoints":  s.listWebhookEndpoints,
		"getWebhookEndpoint":    s.getWebhookEndpoint,
		"updateWebhookEndpoint": s.updateWebhookEndpoint,
		"deleteWebhookEndpoint": s.deleteWebhookEndpoint,
		"rotateWebhookSecret":   s.rotateWebhookSecret,
		"listWebhookDeliveries": s.listWebhookDeliveries,
		"redeliverWebhook":      s.redeliverWebhook,
	}
}

// StaffHandlers are the staff function's handlers (staff.go).
func StaffHandlers(s *Server) map[string]op {
	return map[string]op{
		"createStaff":  s.createStaff,
		"listStaff":    s.listStaff,
		"getMe":        s.getMe,
		"updateStaff":  s.updateStaff,
		"deleteStaff":  s.deleteStaff,
		"staffLogin":   s.staffLogin,
		"staffRefresh": s.staffRefresh,
	}
}

// StatsHandlers are the stats function's handlers (stats.go).
func StatsHandlers(s *Server) map[string]op {
	return map[string]op{
		"dailyStats":   s.dailyStats,
		"weeklyStats":  s.weeklyStats,
		"monthlyStats": s.monthlyStats,
		"statsFunnels": s.statsFunnels,
		"statsGroups":  s.statsGroups,
		"statsSummary": s.statsSummary,
	}
}
