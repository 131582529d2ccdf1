package system_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/tribehq/tribe/shared/browsertest"
)

// qrPNG is a real QR code PNG of content, side pixels square.
func qrPNG(t *testing.T, content string, side int) []byte {
	t.Helper()
	b, err := qrcode.Encode(content, qrcode.Medium, side)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// qrJPEG is the same QR code as a JPEG.
func qrJPEG(t *testing.T, content string, side int) []byte {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(qrPNG(t, content, side)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// noisePNG is a valid PNG of random pixels: it does not compress, so side×side×4
// bytes and a little more.
func noisePNG(t *testing.T, side int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(r.IntN(256))
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// raw sends a request through the gateway with the stand's key and returns the
// status, headers and body.
func (s *stand) raw(method, path, contentType string, body []byte) (int, http.Header, []byte) {
	s.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, req)
	return w.Code, w.Header(), w.Body.Bytes()
}

// mustCreate posts and fails the test unless it is 201; it returns the body.
func (s *stand) mustCreate(path string, body map[string]any) map[string]any {
	s.t.Helper()
	code, out := s.call("POST", path, body)
	if code != 201 {
		s.t.Fatalf("POST %s: %d %v", path, code, out)
	}
	return out
}

// uploadQR uploads a PNG for a group and fails the test unless it is stored.
func (s *stand) uploadQR(groupID string, img []byte, expires time.Time) map[string]any {
	s.t.Helper()
	code, out := s.call("PUT", "/v1/groups/"+groupID+"/qr", map[string]any{
		"image_base64": base64.StdEncoding.EncodeToString(img), "expires_at": expires.UTC().Format(time.RFC3339)})
	if code != 200 {
		s.t.Fatalf("upload QR: %d %v", code, out)
	}
	return out
}

// phone makes the browser a phone that prefers lang.
func phone(lang string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
			UserAgent:      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.44",
			AcceptLanguage: lang,
		})
		return err
	})
}

// TestLandingPageInChromium is the landing page as a phone sees it, in a real
// headless Chromium against the local gateway: the resolved group's name (escaped,
// never markup) and its uploaded QR image, loaded, in Chinese and in English; a
// join-link group's generated QR code and link; the fallback when no group has
// room (and the operator told once); no console errors (the page's CSP included).
// Every view counts a scan of the live code, and of the channel the link names.
func TestLandingPageInChromium(t *testing.T) {
	bot := newRobot(t)
	s := newCommunityStand(t, bot)
	con := s.mustCreate("/v1/connectors", map[string]any{"name": "ops", "kind": "wecom_robot", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=ops"})
	const name = `上海咖啡品专1群 <b>&"`
	g := s.mustCreate("/v1/groups", map[string]any{"platform": "wechat", "name": name})
	gid := g["id"].(string)
	s.uploadQR(gid, qrPNG(t, "https://weixin.qq.com/g/AbCdEfGh", 430), s.st.Now().Add(6*24*time.Hour))
	link := s.mustCreate("/v1/groups", map[string]any{"platform": "telegram", "name": "Coffee Telegram", "join_url": "https://t.me/+AbCdEf"})
	lc := s.mustCreate("/v1/live-codes", map[string]any{"name": "Store poster", "pool": []map[string]any{{"group_id": gid}}, "notify_connector_id": con["id"]})
	code := lc["code"].(string)
	linkLC := s.mustCreate("/v1/live-codes", map[string]any{"name": "Telegram poster", "pool": []map[string]any{{"group_id": link["id"]}}})
	s.mustCreate("/v1/channels", map[string]any{"name": "Douyin", "code": "douyin"})
	if !strings.HasSuffix(lc["landing_url"].(string), "://example.com/l/"+code) {
		t.Errorf("landing_url = %v", lc["landing_url"])
	}

	srv := httptest.NewServer(s.sys.Gateway)
	defer srv.Close()
	b := browsertest.New(t)
	dir := browsertest.ScreenshotDir("landing")
	mobile := chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)
	text := func(sel string) string {
		t.Helper()
		return browsertest.Get(t, b, 10*time.Second, chromedp.Text(chromedp.CSS(sel)))
	}
	// naturalWidth of #qr once it has loaded (0 if it failed).
	qrWidth := func() int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			w := browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[int](`(() => { const i = document.querySelector('#qr'); return i && i.complete ? i.naturalWidth : -1 })()`))
			if w >= 0 || time.Now().After(deadline) {
				return w
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	views := 0
	for _, tc := range []struct{ lang, hint string }{
		{"zh-CN,zh;q=0.9,en;q=0.8", "长按识别二维码"},
		{"en-US,en;q=0.9,zh;q=0.5", "Press and hold"},
	} {
		lang := tc.lang[:2]
		b.Do(t, 30*time.Second, mobile, phone(tc.lang), chromedp.Navigate(srv.URL+"/l/"+code+"?channel=douyin"))
		views++
		if got := text("#group-name"); got != name {
			t.Errorf("%s: group name %q, want %q", lang, got, name)
		}
		if n := browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[int](`document.querySelectorAll('#group-name *').length`)); n != 0 {
			t.Errorf("%s: the group's name became markup", lang)
		}
		if got := text(".hint"); !strings.Contains(got, tc.hint) {
			t.Errorf("%s: hint %q, want %q", lang, got, tc.hint)
		}
		if got := browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[string](`document.documentElement.lang`)); !strings.HasPrefix(got, lang) {
			t.Errorf("%s: html lang %q", lang, got)
		}
		if w := qrWidth(); w != 430 {
			t.Errorf("%s: QR image naturalWidth %d, want 430 (the uploaded image)", lang, w)
		}
		t.Logf("screenshot %s", b.Screenshot(t, dir, "landing-"+lang))
	}

	// A group with a join link only: its link as a QR code, and the link.
	b.Do(t, 30*time.Second, phone("zh-CN"), chromedp.Navigate(srv.URL+"/l/"+linkLC["code"].(string)))
	if got := text("#group-name"); got != "Coffee Telegram" {
		t.Errorf("join-link group: %q", got)
	}
	if w := qrWidth(); w != 512 {
		t.Errorf("join-link group: QR naturalWidth %d, want 512", w)
	}
	if href := browsertest.Get(t, b, 10*time.Second, chromedp.Evaluate[string](`document.querySelector('#join').href`)); href != "https://t.me/+AbCdEf" {
		t.Errorf("join link %q", href)
	}
	t.Logf("screenshot %s", b.Screenshot(t, dir, "landing-join-link"))

	// The group fills: the fallback, in both languages; the operator is told once.
	if c, out := s.call("PATCH", "/v1/groups/"+gid, map[string]any{"status": "full"}); c != 200 {
		t.Fatalf("mark full: %d %v", c, out)
	}
	for _, tc := range []struct{ lang, want string }{{"zh-CN", "群已满"}, {"en", "Groups are full"}} {
		b.Do(t, 30*time.Second, phone(tc.lang), chromedp.Navigate(srv.URL+"/l/"+code))
		views++
		if got := text("#fallback h1"); got != tc.want {
			t.Errorf("fallback %s: %q, want %q", tc.lang, got, tc.want)
		}
		t.Logf("screenshot %s", b.Screenshot(t, dir, "landing-fallback-"+tc.lang[:2]))
	}
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
	if msgs := bot.messages(); len(msgs) != 1 || !strings.Contains(msgs[0], "Store poster") {
		t.Errorf("operator told %d times: %v", len(msgs), msgs)
	}

	// Counted: every view of the live code, the channel's two.
	_, st := s.call("GET", "/v1/live-codes/"+code+"/stats", nil)
	if got := sumScans(st["scans"]); got != float64(views) {
		t.Errorf("live code scans = %v, want %d: %v", got, views, st)
	}
	_, ch := s.call("GET", "/v1/channels?limit=10", nil)
	chID := ch["data"].([]any)[0].(map[string]any)["id"].(string)
	_, funnel := s.call("GET", "/v1/channels/"+chID+"/stats", nil)
	if got := sumScans(funnel["data"]); got != 2 {
		t.Errorf("channel funnel scans = %v, want 2: %v", got, funnel)
	}
}

func sumScans(v any) float64 {
	list, _ := v.([]any)
	sum := 0.0
	for _, d := range list {
		n, _ := d.(map[string]any)["scans"].(float64)
		sum += n
	}
	return sum
}

// TestLandingPageHTTP: the page's headers (no caching, CSP, HTML), a 404 page for
// an unknown code, the rate limit per source address, and the image route scoped
// to the live code's pool.
func TestLandingPageHTTP(t *testing.T) {
	s := newStand(t, "CNY")
	g := s.mustCreate("/v1/groups", map[string]any{"platform": "wechat", "name": "G"})
	gid := g["id"].(string)
	img := qrPNG(t, "https://weixin.qq.com/g/x", 300)
	s.uploadQR(gid, img, s.st.Now().Add(time.Hour))
	other := s.mustCreate("/v1/groups", map[string]any{"platform": "wechat", "name": "Other"})
	s.uploadQR(other["id"].(string), img, s.st.Now().Add(time.Hour))
	code := s.mustCreate("/v1/live-codes", map[string]any{"name": "P", "pool": []map[string]any{{"group_id": gid}}})["code"].(string)
	get := func(path, source string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr = source + ":4000"
		w := httptest.NewRecorder()
		s.sys.Gateway.ServeHTTP(w, req)
		return w
	}
	w := get("/l/"+code, "198.51.100.1")
	h := w.Header()
	if w.Code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(h.Get("Cache-Control"), "no-store") ||
		!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || !strings.Contains(w.Body.String(), `lang="zh-CN"`) {
		t.Errorf("page: %d %v", w.Code, h)
	}
	if w := get("/l/lc_"+strings.Repeat("0", 26)+"_abcdefghij", "198.51.100.1"); w.Code != 404 || !strings.Contains(w.Body.String(), `id="not-found"`) {
		t.Errorf("unknown code: %d", w.Code)
	}
	if w := get("/l/nonsense", "198.51.100.1"); w.Code != 404 {
		t.Errorf("malformed code: %d", w.Code)
	}
	// The image of a pool group; another group's image is not reachable through it.
	if w := get("/l/"+code+"/groups/"+gid+"/qr", "198.51.100.1"); w.Code != 200 || w.Header().Get("Content-Type") != "image/png" || !bytes.Equal(w.Body.Bytes(), img) {
		t.Errorf("pool group image: %d %v", w.Code, w.Header())
	}
	if w := get("/l/"+code+"/groups/"+other["id"].(string)+"/qr", "198.51.100.1"); w.Code != 404 {
		t.Errorf("another group's image through this live code: %d", w.Code)
	}
	// Expired: the page offers nothing (fallback), the image route has none.
	s.st.SetClock(func() time.Time { return time.Now().UTC().Add(2 * time.Hour) })
	if w := get("/l/"+code, "198.51.100.2"); w.Code != 200 || !strings.Contains(w.Body.String(), `id="fallback"`) {
		t.Errorf("expired QR: %d %s", w.Code, w.Body.String())
	}
	if w := get("/l/"+code+"/groups/"+gid+"/qr", "198.51.100.2"); w.Code != 404 {
		t.Errorf("expired image: %d", w.Code)
	}
	// One address: a burst of 20, then 429 pages (the clock stands still, so
	// the bucket does not refill however slow the machine).
	frozen := time.Now().UTC().Add(2 * time.Hour)
	s.st.SetClock(func() time.Time { return frozen })
	tally := map[int]int{}
	for range 40 {
		tally[get("/l/"+code, "203.0.113.9").Code]++
	}
	if tally[429] != 20 || tally[200] != 20 {
		t.Errorf("rate limit: %v", tally)
	}
}

// TestGroupQRUploadValidation: PNG and JPEG upload as binary or JSON, read back;
// oversize, wrong type, corrupt, too small, mislabelled and bad expiries are 400
// problems naming the field; a body past the route's limit is 413.
func TestGroupQRUploadValidation(t *testing.T) {
	s := newStand(t, "CNY")
	gid := s.mustCreate("/v1/groups", map[string]any{"platform": "wechat", "name": "G"})["id"].(string)
	path := "/v1/groups/" + gid + "/qr"
	pngImg, jpgImg := qrPNG(t, "https://weixin.qq.com/g/1", 430), qrJPEG(t, "https://weixin.qq.com/g/2", 430)

	code, _, body := s.raw("PUT", path, "image/png", pngImg)
	if code != 200 || !strings.Contains(string(body), `"version":1`) || !strings.Contains(string(body), `"width":430`) {
		t.Fatalf("binary PNG: %d %s", code, body)
	}
	exp := s.st.Now().Add(3 * 24 * time.Hour).Truncate(time.Second)
	code, out := s.call("PUT", path, map[string]any{"image_base64": base64.StdEncoding.EncodeToString(jpgImg), "expires_at": exp.Format(time.RFC3339)})
	if code != 200 || out["version"] != float64(2) || out["content_type"] != "image/jpeg" || out["expires_at"] != exp.Format(time.RFC3339) {
		t.Fatalf("JSON JPEG: %d %v", code, out)
	}
	code, hdr, got := s.raw("GET", path, "", nil)
	if code != 200 || hdr.Get("Content-Type") != "image/jpeg" || !bytes.Equal(got, jpgImg) {
		t.Errorf("read back: %d %v (%d bytes)", code, hdr, len(got))
	}
	if _, g := s.call("GET", "/v1/groups/"+gid, nil); g["qr_version"] != float64(2) || g["qr_expires_at"] != exp.Format(time.RFC3339) {
		t.Errorf("group: %v", g)
	}

	truncated := pngImg[:len(pngImg)*2/3]
	big := noisePNG(t, 250)
	if len(big) <= 200<<10 || len(big) > 300<<10 {
		t.Fatalf("noise PNG is %d bytes", len(big))
	}
	gif := []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
	for _, tc := range []struct {
		name, ct string
		body     []byte
		status   int
		field    string
	}{
		{"oversize", "image/png", big, 400, "image"},
		{"wrong type (GIF as PNG)", "image/png", gif, 400, "image"},
		{"corrupt (truncated PNG)", "image/png", truncated, 400, "image"},
		{"corrupt (garbage after the signature)", "image/jpeg", append([]byte{0xff, 0xd8, 0xff}, bytes.Repeat([]byte{7}, 500)...), 400, "image"},
		{"mislabelled", "image/jpeg", pngImg, 400, "image"},
		{"too small", "image/png", qrPNG(t, "x", 40), 400, "image"},
		{"empty", "image/png", nil, 400, "image"},
		{"unsupported media type", "image/gif", gif, 415, ""},
		{"JSON, bad base64", "application/json", []byte(`{"image_base64":"***"}`), 400, "image_base64"},
		{"JSON, gif type", "application/json", []byte(`{"image_base64":"` + base64.StdEncoding.EncodeToString(pngImg) + `","content_type":"image/gif"}`), 400, "content_type"},
		{"JSON, expiry past 7 days", "application/json", []byte(`{"image_base64":"` + base64.StdEncoding.EncodeToString(pngImg) + `","expires_at":"` + s.st.Now().Add(8*24*time.Hour).Format(time.RFC3339) + `"}`), 400, "expires_at"},
		{"JSON, expiry past", "application/json", []byte(`{"image_base64":"` + base64.StdEncoding.EncodeToString(pngImg) + `","expires_at":"2020-01-01T00:00:00Z"}`), 400, "expires_at"},
		{"JSON, oversize as base64", "application/json", []byte(`{"image_base64":"` + base64.StdEncoding.EncodeToString(big) + `"}`), 413, ""},
	} {
		code, hdr, body := s.raw("PUT", path, tc.ct, tc.body)
		if code != tc.status || hdr.Get("Content-Type") != "application/problem+json" || (tc.field != "" && !strings.Contains(string(body), `"field":"`+tc.field+`"`)) {
			t.Errorf("%s: %d %s", tc.name, code, body)
		}
	}
	if code, _, _ := s.raw("PUT", "/v1/groups/grp_01hx3k5q7r9t1v3x5z7b9d1f3h/qr", "image/png", pngImg); code != 404 {
		t.Errorf("unknown group: %d", code)
	}
	// Nothing of the refused uploads was stored.
	if _, g := s.call("GET", "/v1/groups/"+gid, nil); g["qr_version"] != float64(2) {
		t.Errorf("after refused uploads: %v", g)
	}
}
