package wecom

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

// TestCheckFresh: a callback's signed timestamp must lie within MaxSkew of now,
// either side; the documented 2014 vector, correctly signed, is stale today.
func TestCheckFresh(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	for _, tc := range []struct {
		name, ts string
		want     error
	}{
		{"now", at(0), nil},
		{"4m59s ago", at(-4*time.Minute - 59*time.Second), nil},
		{"5m ahead", at(5 * time.Minute), nil},
		{"5m1s ago", at(-5*time.Minute - time.Second), ErrStale},
		{"5m1s ahead", at(5*time.Minute + time.Second), ErrStale},
		{"documented vector of 2014", postTimestamp, ErrStale},
		{"empty", "", ErrStale},
		{"not a number", "12ab", ErrStale},
		{"milliseconds", at(0) + "000", ErrStale},
		{"negative", "-1", ErrStale},
		{"huge", "99999999999999999999999", ErrStale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckFresh(tc.ts, now); !errors.Is(got, tc.want) {
				t.Errorf("CheckFresh(%q) = %v, want %v", tc.ts, got, tc.want)
			}
		})
	}
}
