package api

import (
	"sort"

	"github.com/tribehq/tribe/shared/store"
)

// withScans adds a channel's counted scans (store.CountScan) to its funnel days,
// adding the days that had only scans, in day order.
func withScans(days []store.ChannelDay, scans []store.ScanDay) []store.ChannelDay {
	at := make(map[string]int, len(days))
	for i, d := range days {
		at[d.Day] = i
	}
	for _, sc := range scans {
		if i, ok := at[sc.Day]; ok {
			days[i].Scans += sc.Scans
			continue
		}
		at[sc.Day] = len(days)
		days = append(days, store.ChannelDay{Day: sc.Day, Scans: sc.Scans})
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Day < days[j].Day })
	return days
}
