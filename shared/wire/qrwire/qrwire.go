// Package qrwire builds the route functions that draw or read QR images
// (channels, groups, landing, livecodes, referrals): their routes with the image
// codecs of shared/qrimage. It is its own package so that only these functions
// link image/png, image/jpeg and the QR encoder (a package's imports, and their
// init, are linked into every binary that imports it; issue 14).
package qrwire

import (
	"github.com/tribehq/tribe/shared/api"
	"github.com/tribehq/tribe/shared/qrimage"
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/routes"
)

// Channels serves the channels routes (a channel's QR code).
func Channels(d wire.Deps) (wire.Function, error) { return serve("channels", api.ChannelsHandlers, d) }

// Groups serves the groups routes (a group's uploaded QR image).
func Groups(d wire.Deps) (wire.Function, error) { return serve("groups", api.GroupsHandlers, d) }

// Landing serves the live codes' public landing pages (the groups' QR images).
func Landing(d wire.Deps) (wire.Function, error) { return serve("landing", api.LandingHandlers, d) }

// LiveCodes serves the live-code routes (a live code's QR code).
func LiveCodes(d wire.Deps) (wire.Function, error) {
	return serve("livecodes", api.LiveCodesHandlers, d)
}

// Referrals serves invites, referrals, the referral program, distributors and
// payouts (an invite's QR code).
func Referrals(d wire.Deps) (wire.Function, error) {
	return serve("referrals", api.ReferralsHandlers, d)
}

func serve(name string, set api.HandlerSet, d wire.Deps) (wire.Function, error) {
	return routes.Serve(name, set, d, api.WithImages(qrimage.Codecs{}))
}
