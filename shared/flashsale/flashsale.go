// Package flashsale holds the settings of a flash sale campaign (一元秒杀): limited
// stock claimed inside the campaign's window, at most per_member_limit claims per
// member, each claim issuing a code from the sale's coupon pool when it has one.
// The claims themselves are store.(*Tenant).Claim.
package flashsale

import (
	"encoding/json"

	"github.com/tribehq/tribe/shared/problem"
)

// Bounds of flash sale settings.
const (
	MaxStock          = 1_000_000
	MaxPerMemberLimit = 100
)

// Settings are a flash sale's settings, as the campaigns API takes them under
// "settings".
type Settings struct {
	Stock int64 `json:"stock"`
	// PerMemberLimit is how many claims one member may make; 0 (absent) means 1.
	PerMemberLimit int64 `json:"per_member_limit,omitempty"`
	// CouponPool, when set, is the pool each claim takes a code from.
	CouponPool string `json:"coupon_pool,omitempty"`
}

// Limit is the per-member limit in force.
func (s Settings) Limit() int64 {
	if s.PerMemberLimit <= 0 {
		return 1
	}
	return s.PerMemberLimit
}

// Validate checks a flash sale's settings and returns every problem, each
// naming its field from the request body's root ("settings.stock",
// "settings.per_member_limit", "settings.coupon_pool"). Nil means valid.
func Validate(raw json.RawMessage) []problem.FieldError {
	_, fes := parse(raw)
	return fes
}

// Parse reads settings and validates them; the error is problem.FieldErrors.
func Parse(raw json.RawMessage) (Settings, error) {
	s, fes := parse(raw)
	if len(fes) > 0 {
		return Settings{}, problem.AsError(fes)
	}
	return s, nil
}

func parse(raw json.RawMessage) (Settings, []problem.FieldError) {
	var s Settings
	if fes := problem.DecodeFields(raw, "settings", &s); len(fes) > 0 {
		return s, fes
	}
	var fes []problem.FieldError
	if s.Stock < 1 || s.Stock > MaxStock {
		fes = append(fes, problem.FieldError{Field: "settings.stock", Reason: "stock is from 1 to 1000000"})
	}
	if s.PerMemberLimit < 0 || s.PerMemberLimit > MaxPerMemberLimit {
		fes = append(fes, problem.FieldError{Field: "settings.per_member_limit", Reason: "per_member_limit is from 1 to 100"})
	}
	if s.CouponPool != "" && !validPoolID(s.CouponPool) {
		fes = append(fes, problem.FieldError{Field: "settings.coupon_pool", Reason: "coupon_pool is not a coupon pool id"})
	}
	return s, fes
}

func validPoolID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
