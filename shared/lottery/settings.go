package lottery

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tribehq/tribe/shared/problem"
)

// Bounds of lottery settings.
const (
	MaxPrizes = 20
	// MaxWinners bounds the sum of the prizes' counts: the draw records every
	// winner in one item and grants every reward within one request.
	MaxWinners = 500
	MaxPoints  = 1_000_000
)

// Auto-entry sources: members enter automatically when they do these inside the
// window (store.AutoEnter).
const (
	SourceAPI       = "api"
	SourceCheckIn   = "check_in"
	SourceGroupJoin = "group_join"
)

// Reward is what one prize gives: exactly one of points, a catalogue reward or a
// code from a coupon pool.
type Reward struct {
	Points     int64  `json:"points,omitempty"`
	RewardID   string `json:"reward_id,omitempty"`
	CouponPool string `json:"coupon_pool,omitempty"`
}

// Prize is one line of the prize list: count winners each get Reward.
type Prize struct {
	Name   string `json:"name"`
	Count  int    `json:"count"`
	Reward Reward `json:"reward"`
}

// Settings are a lottery campaign's settings, as the campaigns API takes them
// under "settings".
type Settings struct {
	Prizes      []Prize  `json:"prizes"`
	AutoEntries []string `json:"auto_entries,omitempty"`
}

// Counts is each prize's count, in order, for Draw.
func (s Settings) Counts() []int {
	out := make([]int, len(s.Prizes))
	for i, p := range s.Prizes {
		out[i] = p.Count
	}
	return out
}

// AutoEnters reports whether source makes members enter automatically.
func (s Settings) AutoEnters(source string) bool {
	for _, a := range s.AutoEntries {
		if a == source {
			return true
		}
	}
	return false
}

// Parse reads settings and validates them; the error is problem.FieldErrors.
func Parse(raw json.RawMessage) (Settings, error) {
	s, fes := parse(raw)
	if len(fes) > 0 {
		return Settings{}, problem.AsError(fes)
	}
	return s, nil
}

// Validate checks a lottery's settings as the campaigns API receives them and
// returns every problem, each naming its field from the request body's root
// ("settings.prizes", "settings.prizes[0].count", "settings.prizes[1].reward"):
// at least one prize and at most MaxPrizes, each with a name, a count of at
// least 1 (MaxWinners in all) and exactly one reward (points 1..MaxPoints, a
// reward_id or a coupon_pool); auto_entries only check_in and group_join.
// Unknown fields are refused by name. Nil means valid.
func Validate(raw json.RawMessage) []problem.FieldError {
	_, fes := parse(raw)
	return fes
}

func parse(raw json.RawMessage) (Settings, []problem.FieldError) {
	var s Settings
	var fes []problem.FieldError
	add := func(field, format string, args ...any) {
		fes = append(fes, problem.FieldError{Field: "settings" + field, Reason: fmt.Sprintf(format, args...)})
	}
	if fes := problem.DecodeFields(raw, "settings", &s); len(fes) > 0 {
		return s, fes
	}
	if len(s.Prizes) == 0 {
		add(".prizes", "a lottery needs at least one prize")
	}
	if len(s.Prizes) > MaxPrizes {
		add(".prizes", "at most %d prizes", MaxPrizes)
	}
	total := 0
	for i, p := range s.Prizes {
		at := fmt.Sprintf(".prizes[%d]", i)
		if n := utf8.RuneCountInString(strings.TrimSpace(p.Name)); n == 0 || n > 100 {
			add(at+".name", "a prize needs a name of 1 to 100 characters")
		}
		if p.Count < 1 || p.Count > MaxWinners {
			add(at+".count", "count is from 1 to %d", MaxWinners)
		} else {
			total += p.Count
		}
		set := 0
		if p.Reward.Points != 0 {
			set++
			if p.Reward.Points < 1 || p.Reward.Points > MaxPoints {
				add(at+".reward.points", "points are from 1 to %d", MaxPoints)
			}
		}
		if p.Reward.RewardID != "" {
			set++
			if !safeID(p.Reward.RewardID) {
				add(at+".reward.reward_id", "reward_id is not a reward id")
			}
		}
		if p.Reward.CouponPool != "" {
			set++
			if !safeID(p.Reward.CouponPool) {
				add(at+".reward.coupon_pool", "coupon_pool is not a coupon pool id")
			}
		}
		if set != 1 {
			add(at+".reward", "a prize gives exactly one of points, reward_id or coupon_pool")
		}
	}
	if total > MaxWinners {
		add(".prizes", "the prizes' counts add up to %d; at most %d winners", total, MaxWinners)
	}
	seen := map[string]bool{}
	for i, a := range s.AutoEntries {
		if a != SourceCheckIn && a != SourceGroupJoin {
			add(fmt.Sprintf(".auto_entries[%d]", i), "auto entries are check_in or group_join")
		}
		if seen[a] {
			add(fmt.Sprintf(".auto_entries[%d]", i), "%s is listed twice", a)
		}
		seen[a] = true
	}
	return s, fes
}

// safeID accepts what could be an id: 1..64 of [a-z0-9_-].
func safeID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
