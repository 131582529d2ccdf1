package store

// A tenant's community settings: the chat messages that check a member in (签到)
// and what a join below a group's min_tier (品专群) does.
//
// Keys, under T#<tenant>#:
//
//	CONFIG   COMMUNITY   the settings

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// What a join below a group's min_tier does, beyond recording it and telling the
// operator.
const (
	// EnforceNotify records the join and tells the operator.
	EnforceNotify = "notify"
	// EnforceRemove also marks the member for removal (GET /v1/removals).
	EnforceRemove = "remove"
)

// DefaultCheckInKeyword is the check-in message when a tenant names none.
const DefaultCheckInKeyword = "签到"

// Bounds of the check-in keywords.
const (
	MaxCheckInKeywords     = 10
	maxCheckInKeywordRunes = 20
)

// CommunitySettings are a tenant's community settings.
type CommunitySettings struct {
	// CheckInKeywords are the messages (trimmed, whole) that check a member in;
	// empty means DefaultCheckInKeyword.
	CheckInKeywords []string `dynamo:"check_in_keywords" json:"check_in_keywords"`
	// MinTierEnforce is EnforceNotify (the default) or EnforceRemove.
	MinTierEnforce string `dynamo:"min_tier_enforce" json:"min_tier_enforce"`
}

// DefaultCommunitySettings are a tenant's community settings until it sets its own.
func DefaultCommunitySettings() CommunitySettings {
	return CommunitySettings{CheckInKeywords: []string{DefaultCheckInKeyword}, MinTierEnforce: EnforceNotify}
}

// IsCheckIn reports whether a chat message checks its sender in.
func (c CommunitySettings) IsCheckIn(text string) bool {
	text = strings.TrimSpace(text)
	if len(c.CheckInKeywords) == 0 {
		return text == DefaultCheckInKeyword
	}
	for _, k := range c.CheckInKeywords {
		if text == k {
			return true
		}
	}
	return false
}

// Validate checks the settings and normalises them: keywords trimmed, each once.
func (c *CommunitySettings) Validate() error {
	if len(c.CheckInKeywords) == 0 || len(c.CheckInKeywords) > MaxCheckInKeywords {
		return problem.Field("check_in_keywords", "check_in_keywords holds 1 to %d keywords", MaxCheckInKeywords)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(c.CheckInKeywords))
	for _, k := range c.CheckInKeywords {
		k = strings.TrimSpace(k)
		if k == "" || utf8.RuneCountInString(k) > maxCheckInKeywordRunes || strings.ContainsFunc(k, isControl) {
			return problem.Field("check_in_keywords", "a check-in keyword is 1 to %d characters without control characters", maxCheckInKeywordRunes)
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	c.CheckInKeywords = out
	switch c.MinTierEnforce {
	case "":
		c.MinTierEnforce = EnforceNotify
	case EnforceNotify, EnforceRemove:
	default:
		return problem.Field("min_tier_enforce", "min_tier_enforce must be notify or remove")
	}
	return nil
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f }

func (t *Tenant) communitySettingsKey() (string, string) { return t.pk("CONFIG"), "COMMUNITY" }

type communitySettingsItem struct {
	keyed
	CommunitySettings
}

// CommunitySettings returns the tenant's community settings, the defaults when
// never set.
func (t *Tenant) CommunitySettings(ctx context.Context) (CommunitySettings, error) {
	pk, sk := t.communitySettingsKey()
	var it communitySettingsItem
	if found, err := t.findItem(ctx, pk, sk, false, &it, "community settings"); !found {
		return DefaultCommunitySettings(), err
	}
	return it.CommunitySettings, nil
}

// PutCommunitySettings validates and replaces the tenant's community settings,
// and returns them as stored.
func (t *Tenant) PutCommunitySettings(ctx context.Context, c CommunitySettings) (CommunitySettings, error) {
	if err := c.Validate(); err != nil {
		return CommunitySettings{}, err
	}
	pk, sk := t.communitySettingsKey()
	err := t.table.Put(communitySettingsItem{keyed{pk, sk, table.TypeCommunitySettings, 0}, c}).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return c, translate(err, "community settings")
}
