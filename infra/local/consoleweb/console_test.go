package consoleweb_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/chromedp/chromedp"

	"github.com/tribehq/tribe/infra/local/cognitolocal"
	"github.com/tribehq/tribe/infra/local/consoleweb"
	"github.com/tribehq/tribe/infra/local/demo"
	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/infra/local/streampump"
	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/infra/local/system/systemtest"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/browsertest"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/store"
)

// console is the whole local system behind a real HTTP server with the built
// console at /console/: DynamoDB Local, cognito-local, every function, the stream
// pump, a demo tenant seeded with a month of activity and a staff login.
type console struct {
	url, email, password string
}

func TestMain(m *testing.M) { dynamotest.Main(m) }

func startConsole(t *testing.T) console {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := dynamolocal.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dist, err := consoleweb.Ensure(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	cog, pool := cognitolocal.ForTest(t)
	s := systemtest.New(t, system.WithStaffPool(pool, cog.Endpoint))
	now := time.Now().UTC()
	info := store.TenantInfo{ID: ids.New(ids.Tenant), Name: "Demo Coffee 示例咖啡", Timezone: "Asia/Shanghai", Currency: "CNY",
		Lifecycle: store.DefaultLifecycle, CreatedAt: now, UpdatedAt: now, RateLimit: &store.RateLimit{RPS: 10000, Burst: 20000}}
	key, hash := auth.NewKey(info.ID)
	if err := s.Store.CreateTenant(ctx, info, store.APIKey{ID: ids.New(ids.APIKey), Name: "demo", Scopes: []catalogue.Scope{catalogue.ScopeAdmin},
		CreatedAt: now, Hash: hash, Currency: "CNY"}); err != nil {
		t.Fatal(err)
	}
	zone, _ := time.LoadLocation(info.Timezone)
	start := time.Now()
	res, err := demo.Seed(ctx, demo.Options{Gateway: s.Sys.Gateway, SetNow: s.Store.SetClock, Key: key, Days: 30, MembersPerDay: 2, Zone: zone})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded in %s: %+v", time.Since(start).Round(time.Millisecond), res)
	// The stream, as make dev's pump takes it after the seed: counters, joins,
	// check-ins, violations, points.
	desc, err := s.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &s.Table})
	if err != nil {
		t.Fatal(err)
	}
	handlers := map[string]streampump.Handler{}
	for n, h := range s.Sys.Streams {
		handlers[n] = streampump.Handler(h)
	}
	consumers, err := streampump.FromCatalogue(handlers)
	if err != nil {
		t.Fatal(err)
	}
	pump, err := streampump.New(dynamolocal.StreamsClient(dynamotest.Endpoint(t)), consumers, streampump.Options{
		StreamARN: *desc.Table.LatestStreamArn, PollInterval: 20 * time.Millisecond, RetryDelay: 10 * time.Millisecond, Logger: systemtest.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := pump.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("stream drained in %s", time.Since(start).Round(time.Millisecond))
	c := console{email: "ops@example.com", password: "console-test-pass"}
	if err := demo.Staff(s.Sys.Gateway, key, c.email, c.password); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(consoleweb.Handler(dist, s.Sys.Gateway))
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c
}

// canvasInk is how many pixels of the first canvas under sel are not blank.
func canvasInk(sel string) string {
	return fmt.Sprintf(`(() => { const c = document.querySelector(%q); if (!c) return -1;
	  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
	  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()`, sel+" canvas")
}

// waitLoaded waits until the page's root is there and nothing on it says loading.
func waitLoaded(t *testing.T, b *browsertest.Browser, page string) {
	t.Helper()
	b.Do(t, 30*time.Second, chromedp.WaitVisible(chromedp.CSS("#page-"+page)))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		busy := browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[bool](`(t => t.includes('加载中') || t.includes('Loading…'))(document.querySelector('#page-`+page+`').innerText)`))
		if !busy {
			time.Sleep(300 * time.Millisecond) // charts animate in
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s still loading after 30s", page)
}

// TestConsoleInABrowser logs in as a staff member through the console, sees
// Today's charts drawn from the seeded month, walks every page, creates a group
// and a live code through the forms, and saves a screenshot of each page (desktop
// and phone width); no page logs an error.
func TestConsoleInABrowser(t *testing.T) {
	started := time.Now()
	c := startConsole(t)
	t.Logf("system up in %s", time.Since(started).Round(time.Millisecond))
	b := browsertest.New(t)
	dir := browsertest.ScreenshotDir("console")
	b.Do(t, 30*time.Second, chromedp.Navigate(c.url+"/console/"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	b.Screenshot(t, dir, "00-login")
	b.Do(t, 30*time.Second,
		chromedp.SendKeys(chromedp.CSS("#login-email"), c.email),
		chromedp.SendKeys(chromedp.CSS("#login-password"), c.password),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
	waitLoaded(t, b, "today")
	b.Do(t, 30*time.Second, chromedp.WaitVisible(chromedp.CSS("#today-members canvas")))
	if ink := browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[int](canvasInk("#today-members"))); ink < 500 {
		t.Errorf("Today's members chart is blank: %d pixels drawn", ink)
	}
	kpi := browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[string](`document.querySelector('[data-kpi=new_members] .kpi-value').innerText`))
	if kpi == "—" || kpi == "0" {
		t.Errorf("new members KPI = %q, want the seeded week", kpi)
	}
	b.Screenshot(t, dir, "01-today")

	pages := []string{"groups", "livecodes", "channels", "members", "loyalty", "moderation", "campaigns", "referrals", "deliveries", "settings"}
	for i, p := range pages {
		b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS("#nav-"+p)))
		waitLoaded(t, b, p)
		switch p {
		case "groups":
			if n := browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[int](`document.querySelectorAll('#groups-table tbody tr').length`)); n < 5 {
				t.Errorf("groups: %d rows, want the 5 seeded", n)
			}
			// Active ratio from /v1/stats/groups: the seeded groups chat every day.
			if row := browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[string](`document.querySelector('#groups-table tbody tr').innerText`)); !strings.Contains(row, "%") {
				t.Errorf("first group row %q has no active ratio", row)
			}
			b.Screenshot(t, dir, "02-groups-list")
			// A new group through the form.
			b.Do(t, 30*time.Second,
				chromedp.SendKeys(chromedp.CSS(`#group-form input[name=region]`), "广州"),
				chromedp.SendKeys(chromedp.CSS(`#group-form input[name=category]`), "咖啡"),
				chromedp.SendKeys(chromedp.CSS(`#group-form input[name=number]`), "9"),
				chromedp.SendKeys(chromedp.CSS(`#group-form input[name=capacity]`), "200"),
				chromedp.Click(chromedp.CSS(`#group-form button[type=submit]`)),
			)
			waitText(t, b, "#groups-table", "广州")
			// A group's own page: members and its daily chart.
			b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS(`#groups-table tbody tr`)), chromedp.WaitVisible(chromedp.CSS("#group-chart canvas")))
			waitLoaded(t, b, p)
		case "livecodes":
			// The seeded live code's scans, summed from /v1/live-codes/{code}/stats.
			waitText(t, b, "#livecodes-table", "门店海报活码")
			if n := browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[int](`(() => { const r = [...document.querySelectorAll('#livecodes-table tbody tr')].find((r) => r.innerText.includes('门店海报活码'));
			  return r ? parseInt(r.cells[2].innerText, 10) : -1 })()`)); n <= 0 {
				t.Errorf("the seeded live code shows %d scans, want its seeded scans", n)
			}
			b.Do(t, 30*time.Second, chromedp.SendKeys(chromedp.CSS(`#livecode-form input[name=name]`), "浏览器测试活码"))
			browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[bool](`(() => { const s = document.querySelector('#livecode-form select[name=groups]');
			  [...s.options].find((o) => o.text.includes('广州')).selected = true; s.dispatchEvent(new Event('change', {bubbles: true})); return true })()`))
			b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS(`#livecode-form button[type=submit]`)))
			waitText(t, b, "#livecodes-table", "浏览器测试活码")
			waitLoaded(t, b, p)
		case "channels":
			if ink := browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[int](canvasInk("#funnel-chart"))); ink < 500 {
				t.Errorf("channel funnel is blank: %d", ink)
			}
			// The funnel's rates from /v1/stats/funnels: the seeded scans and joins give numbers.
			if rates := browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[string](`document.querySelector('#channel-funnel .rates').innerText`)); strings.Count(rates, "%") != 3 {
				t.Errorf("funnel rates = %q, want the three as percentages", rates)
			}
		case "campaigns":
			// The seeded campaign, and its review from /v1/campaigns/{id}/results.
			waitText(t, b, "#campaigns-table", "早安签到提醒")
			b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS(`#campaigns-table tbody tr`)), chromedp.WaitVisible(chromedp.CSS("#campaign-results")))
			waitLoaded(t, b, p)
		case "settings":
			// Every tab: staff, API keys, integrations (webhook URLs), connectors.
			for _, tab := range []string{"keys-table", "integrations-table", "connectors-table", "staff-table"} {
				n := map[string]int{"staff-table": 1, "keys-table": 2, "integrations-table": 3, "connectors-table": 4}[tab]
				b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS(fmt.Sprintf(".tabs .tab:nth-child(%d)", n))))
				waitLoaded(t, b, p)
				if tab != "connectors-table" {
					b.Do(t, 30*time.Second, chromedp.WaitVisible(chromedp.CSS("#"+tab)))
				}
			}
			waitText(t, b, "#staff-table", c.email)
		case "members":
			b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS(`#members-table tbody tr`)), chromedp.WaitVisible(chromedp.CSS("#member-profile")))
			waitLoaded(t, b, p)
		}
		b.Screenshot(t, dir, fmt.Sprintf("%02d-%s", i+2, p))
	}
	// English on the switch, and back to Chinese.
	b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS("#lang-switch")))
	waitText(t, b, "#nav-today", "Today")
	b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS("#nav-today")))
	waitLoaded(t, b, "today")
	b.Screenshot(t, dir, "12-today-en")
	b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS("#lang-switch")))
	waitText(t, b, "#nav-today", "今日概览")
	// Phone width: the menu folds away, tables become cards.
	b.Do(t, 30*time.Second, chromedp.EmulateViewport(390, 844))
	b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS(".burger")), chromedp.Click(chromedp.CSS("#nav-today")))
	waitLoaded(t, b, "today")
	b.Screenshot(t, dir, "20-today-phone")
	b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS(".burger")), chromedp.Click(chromedp.CSS("#nav-groups")))
	waitLoaded(t, b, "groups")
	b.Screenshot(t, dir, "21-groups-phone")
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("screenshots in %s; whole test %s", dir, time.Since(started).Round(time.Millisecond))
}

func waitText(t *testing.T, b *browsertest.Browser, sel, text string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[bool](fmt.Sprintf(`(document.querySelector(%q) || {innerText: ''}).innerText.includes(%q)`, sel, text))) {
			return
		}
		time.Sleep(150 * time.Millisecond)
	}
	errs := b.Errors()
	t.Fatalf("%q never appeared in %s (console errors: %v)", text, sel, errs)
}
