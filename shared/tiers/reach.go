package tiers

import "github.com/tribehq/tribe/shared/store"

// Reaches reports whether a member in tier memberTier may join a group asking
// minTier (品专群), by the tiers' order on the ladder: no min tier admits
// everyone; a member never placed stands in the base tier; a min tier the ladder
// no longer holds admits no one (the operator renamed the tier; an unknown
// requirement is not waived).
func Reaches(ladder []store.Tier, memberTier, minTier string) bool {
	if minTier == "" {
		return true
	}
	need := Index(ladder, minTier)
	if need < 0 {
		return false
	}
	have := Index(ladder, memberTier)
	if have < 0 {
		have = 0
	}
	return have >= need
}
