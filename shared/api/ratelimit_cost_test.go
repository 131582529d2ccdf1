package api_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRateLimitRejectionCost accounts for what a rejected request costs this
// machine, in CPU time rather than latency (which the machine's other load
// decides), for issue 13 (make bench-ratelimit; skipped otherwise). Tenant A,
// limited to 5 rps, and tenant B each send 400 GET /v1/members?limit=10 one after
// another through the local gateway; the CPU time of this process (gateway,
// authorizer, function, limiter) and of DynamoDB Local (its child) is read before
// and after each run. It logs the CPU per request of each, and what A's 50
// requests a second in TestRateLimitIsolation take of the machine's two cores.
func TestRateLimitRejectionCost(t *testing.T) {
	if os.Getenv("TRIBE_RATELIMIT_BENCH") == "" {
		t.Skip("set TRIBE_RATELIMIT_BENCH=1 (make bench-ratelimit)")
	}
	e := newEnv(t)
	a := e.tenantKey("A", map[string]any{"rps": 5, "burst": 5})
	b := e.tenantKey("B", nil)
	for i := range 10 {
		e.member(b, map[string]any{"name": "b" + string(rune('a'+i))})
		if i < 3 {
			e.member(a, map[string]any{"name": "a" + string(rune('a'+i))})
		}
	}
	const n = 400
	run := func(k string) (goCPU, dbCPU time.Duration, statuses map[int]int) {
		statuses = map[int]int{}
		g0, d0 := selfCPU(t), descendantsCPU(t)
		for range n {
			statuses[e.do("GET", "/v1/members?limit=10", k, nil).status]++
		}
		return (selfCPU(t) - g0) / n, (descendantsCPU(t) - d0) / n, statuses
	}
	run(b) // warm both paths
	run(a)
	for round := range 3 {
		ag, ad, as := run(a)
		bg, bd, bs := run(b)
		share := 50 * float64(ag+ad) / float64(time.Second) / 2 * 100
		t.Logf("round %d: A (over its limit) %v %v per request in Go + %v in DynamoDB Local; B %v %v + %v; A's 50/s take %.1f%% of the 2 cores",
			round+1, as, ag, ad, bs, bg, bd, share)
	}
}

// selfCPU is this process's user and system time.
func selfCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// descendantsCPU is the user and system time of this process's running
// descendants (DynamoDB Local), from /proc.
func descendantsCPU(t *testing.T) time.Duration {
	parent := map[int]int{}
	ticks := map[int]int64{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(raw)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(fields) < 13 {
			continue
		}
		pid, _ := strconv.Atoi(strings.Split(f, "/")[2])
		parent[pid], _ = strconv.Atoi(fields[1])
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		ticks[pid] = utime + stime
	}
	var total int64
	for pid := range ticks {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == os.Getpid() {
				total += ticks[pid]
				break
			}
		}
	}
	if len(stats) == 0 {
		t.Fatal("no /proc")
	}
	return time.Duration(total) * time.Second / 100 // USER_HZ
}

// TestRateLimitRejectionProfile sends 20,000 requests of a tenant over its
// limit, for a CPU profile of the 429 path (make bench-ratelimit
// PROFILE=1 writes ratelimit.cpu), and logs its allocations per request.
func TestRateLimitRejectionProfile(t *testing.T) {
	if os.Getenv("TRIBE_RATELIMIT_BENCH") == "" {
		t.Skip("set TRIBE_RATELIMIT_BENCH=1 (make bench-ratelimit)")
	}
	e := newEnv(t)
	a := e.tenantKey("A", map[string]any{"rps": 1, "burst": 1})
	e.do("GET", "/v1/members?limit=10", a, nil)
	statuses := map[int]int{}
	allocs := testing.AllocsPerRun(200, func() { statuses[e.do("GET", "/v1/members?limit=10", a, nil).status]++ })
	g0 := selfCPU(t)
	const n = 20000
	for range n {
		statuses[e.do("GET", "/v1/members?limit=10", a, nil).status]++
	}
	t.Logf("rejected request: %.0f allocations, %v CPU in Go (test client included); statuses %v", allocs, (selfCPU(t)-g0)/n, statuses)
}
