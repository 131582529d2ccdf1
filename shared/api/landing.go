package api

// The public landing page of a live code (活码落地页): the URL printed in the live
// code's QR image. A phone that scans the poster opens it and sees the group the
// live code sends it to, with the group's join QR code to press and hold, or a
// message when no group has room. Chinese by default, English when the browser
// prefers it (Accept-Language).

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/cache"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// landingHTML is the page around its content: {{lang}}, {{title}} and {{main}}
// mark where writeLanding writes them (landingpage.go). The page is written by
// hand, not with html/template: its reflection made the linker keep every
// exported method of every type the landing function reaches (issue 14).
//
//go:embed landing.html
var landingHTML string

// landingText is the page's wording in one language.
type landingText struct {
	Lang, Title, Hint, QRAlt, ValidUntil, Open       string
	FullTitle, FullBody, NotFoundTitle, NotFoundBody string
	BusyTitle, BusyBody, NoImageBody                 string
}

var landingTexts = map[string]landingText{
	"zh": {Lang: "zh-CN", Title: "加入群聊", Hint: "长按识别二维码，加入群聊", QRAlt: "群二维码", ValidUntil: "二维码有效期至", Open: "打开入群链接",
		FullTitle: "群已满", FullBody: "当前所有群都已满员，我们已通知运营人员开新群，请稍后再扫码。",
		NotFoundTitle: "活码不存在", NotFoundBody: "这个二维码已失效或不存在。",
		BusyTitle: "请稍候", BusyBody: "访问太频繁了，请过几秒再试。",
		NoImageBody: "请点击下方链接加入群聊。"},
	"en": {Lang: "en", Title: "Join the group", Hint: "Press and hold the QR code to join the group", QRAlt: "Group QR code", ValidUntil: "QR code valid until", Open: "Open the invite link",
		FullTitle: "Groups are full", FullBody: "Every group is full right now. The organisers have been told and will open a new one; please scan again later.",
		NotFoundTitle: "Code not found", NotFoundBody: "This QR code has expired or does not exist.",
		BusyTitle: "One moment", BusyBody: "Too many requests; please try again in a few seconds.",
		NoImageBody: "Open the link below to join the group."},
}

// pageLang picks zh or en from Accept-Language: the language with the highest
// q-value among Chinese and English, Chinese when neither is named.
func pageLang(r *http.Request) string {
	best, bestQ := "zh", -1.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if (base == "zh" || base == "en") && q > bestQ && q > 0 {
			best, bestQ = base, q
		}
	}
	return best
}

// landingView is what the page shows.
type landingView struct {
	T landingText
	// Heading and Body are a message page's (status is its element id).
	Status, Heading, Body string
	// Group is the resolved group's name; ImageURL its QR image; JoinURL its link.
	Group, ImageURL, JoinURL, Expires string
}

// writeLanding renders the page. It is never cached: each view is a scan, and
// the group it shows changes as groups fill.
func writeLanding(w http.ResponseWriter, status int, v landingView) error {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	page := v.render()
	w.WriteHeader(status)
	_, _ = w.Write([]byte(page))
	return nil
}

func messagePage(w http.ResponseWriter, status int, t landingText, id, heading, body string) error {
	return writeLanding(w, status, landingView{T: t, Status: id, Heading: heading, Body: body})
}

// landingTenant is the tenant a public live code names, or false.
func (s *Server) landingTenant(code string) (*store.Tenant, bool) {
	tenantID, ok := store.TenantOfLiveCode(code)
	if !ok {
		return nil, false
	}
	t, err := s.store.Tenant(tenantID)
	return t, err == nil
}

// usableQR reports whether the group's uploaded QR image admits people now.
func usableQR(g store.Group, now time.Time) bool {
	return g.QRVersion > 0 && g.QRExpiresAt != nil && g.QRExpiresAt.After(now)
}

// joinable reports whether the landing page can show the group a way in: an
// uploaded QR image that has not expired, or a join link.
func joinable(g store.Group, now time.Time) bool { return usableQR(g, now) || g.JoinURL != "" }

// landing serves GET /l/{code}: the live code's resolved group and its join QR
// code. Only groups that take scans and can be joined from the page (an image not
// expired, a join link, or the live code's WeCom join way) are offered; when none
// is, the page says so and, the first time, tells the operator. Every view counts
// a scan of the live code for the tenant's day, and one of the channel named by
// ?channel=<code>. Rate-limited per source address like the resolve route.
func (s *Server) landing(w http.ResponseWriter, r *http.Request, c *call) error {
	txt := landingTexts[pageLang(r)]
	now := s.store.Now()
	if !s.scans.allow(sourceIP(r), now) {
		w.Header().Set("Retry-After", "1")
		return messagePage(w, http.StatusTooManyRequests, txt, "busy", txt.BusyTitle, txt.BusyBody)
	}
	code := r.PathValue("code")
	t, ok := s.landingTenant(code)
	if !ok {
		return messagePage(w, http.StatusNotFound, txt, "not-found", txt.NotFoundTitle, txt.NotFoundBody)
	}
	c.log = c.log.With("tenant", t.ID(), "live_code", code)
	ctx := r.Context()
	st, err := s.settings.Get(ctx, t)
	if problem.Is(err, problem.NotFound) {
		// A well-formed code of no tenant.
		return messagePage(w, http.StatusNotFound, txt, "not-found", txt.NotFoundTitle, txt.NotFoundBody)
	}
	if err != nil {
		return err
	}
	wecomQR, err := s.weComJoinQR(ctx, t, code)
	if err != nil {
		return err
	}
	day := st.Day(now)
	res, err := t.ResolveLiveCode(ctx, code, day, func(g store.Group) bool {
		return g.TakesScans() && (wecomQR != "" || joinable(g, now))
	})
	if problem.Is(err, problem.NotFound) {
		return messagePage(w, http.StatusNotFound, txt, "not-found", txt.NotFoundTitle, txt.NotFoundBody)
	}
	if err != nil && !errors.Is(err, store.ErrNoGroup) {
		return err
	}
	s.countScans(ctx, c, t, code, r.URL.Query().Get("channel"), day)
	if errors.Is(err, store.ErrNoGroup) {
		if res.NeedsGroupFlipped {
			s.notifyNoJoinableGroup(ctx, c, t, code)
		}
		c.note("landing", "no_group")
		return messagePage(w, http.StatusOK, txt, "fallback", txt.FullTitle, txt.FullBody)
	}
	g := res.Group
	c.note("landing", g.ID)
	v := landingView{T: txt, Group: g.Name, JoinURL: g.JoinURL}
	switch {
	case wecomQR != "":
		v.ImageURL = wecomQR
	case usableQR(g, now):
		v.ImageURL = s.publicURL(r, fmt.Sprintf("/l/%s/groups/%s/qr?v=%d", code, g.ID, g.QRVersion))
		v.Expires = g.QRExpiresAt.In(st.Location).Format("2006-01-02 15:04")
	default:
		// A join link only: its QR code, for a second phone, and the link itself.
		v.ImageURL = s.publicURL(r, "/l/"+code+"/groups/"+g.ID+"/qr")
	}
	return writeLanding(w, http.StatusOK, v)
}

// countScans counts the view for the live code and for the channel the link
// names. A failed count is logged: the person still gets the page.
func (s *Server) countScans(ctx context.Context, c *call, t *store.Tenant, code, channelCode, day string) {
	if err := t.CountScan(ctx, code, day); err != nil {
		c.log.WarnContext(ctx, "landing: scan not counted", "err", err)
	}
	if channelCode == "" || !store.ValidChannelCode(channelCode) {
		return
	}
	ch, err := t.ChannelByCode(ctx, channelCode)
	if err == nil {
		err = t.CountScan(ctx, ch.ID, day)
	}
	if err != nil && !problem.Is(err, problem.NotFound) {
		c.log.WarnContext(ctx, "landing: channel scan not counted", "channel", channelCode, "err", err)
	}
}

// notifyNoJoinableGroup tells the operator, once per dry spell, that the landing
// page has no group to offer.
func (s *Server) notifyNoJoinableGroup(ctx context.Context, c *call, t *store.Tenant, code string) {
	lc, err := t.LiveCode(ctx, code)
	if err != nil || lc.NotifyConnectorID == "" {
		c.log.WarnContext(ctx, "landing: no joinable group; no connector to tell", "err", err)
		return
	}
	msg := fmt.Sprintf("活码「%s」没有可加入的群（群已满，或群二维码已过期），请新建群或上传新的群二维码。Live code %q has no group to offer: its groups are full or their QR codes expired.", lc.Name, lc.Name)
	if _, err := s.notify(ctx, t, lc.NotifyConnectorID, "live_code:"+code, "needs_group", msg); err != nil {
		c.log.WarnContext(ctx, "landing: no joinable group; notify failed", "err", err)
	}
}

// landingImages keeps recently served QR images in a warm function: a poster's
// page views all show the same few images, which are up to 200 KB (50 read units)
// each to read.
var landingImages = cache.New[string, store.GroupQR](5*time.Minute, 64, nil)

// landingQR serves GET /l/{code}/groups/{group_id}/qr: the QR image of a group
// in the live code's pool — its uploaded image while it has not expired, else a
// QR code of its join link. Another live code's group is not found.
func (s *Server) landingQR(w http.ResponseWriter, r *http.Request, c *call) error {
	now := s.store.Now()
	if !s.scans.allow("img:"+sourceIP(r), now) {
		w.Header().Set("Retry-After", "1")
		return problem.New(problem.RateLimited, "too many requests from this address; retry in a second")
	}
	code, groupID := r.PathValue("code"), r.PathValue("group_id")
	t, ok := s.landingTenant(code)
	if !ok || !store.ValidGroupID(groupID) {
		return problem.New(problem.NotFound, "image not found")
	}
	ctx := r.Context()
	lc, err := t.LiveCode(ctx, code)
	if err != nil {
		return err
	}
	inPool := false
	for _, e := range lc.Pool {
		inPool = inPool || e.GroupID == groupID
	}
	if !inPool {
		return problem.New(problem.NotFound, "image not found")
	}
	g, err := t.Group(ctx, groupID)
	if err != nil {
		return err
	}
	if usableQR(g, now) {
		key := fmt.Sprintf("%s/%s/%d", t.ID(), g.ID, g.QRVersion)
		q, err := landingImages.Fetch(key, func() (store.GroupQR, error) { return t.GroupQR(ctx, g.ID, false) })
		if err != nil {
			return err
		}
		if q.Version == g.QRVersion {
			return writeImage(w, q, "public, max-age=300")
		}
	}
	if g.JoinURL != "" {
		return s.writeQR(w, g.JoinURL)
	}
	return problem.New(problem.NotFound, "this group has no QR image")
}

// writeImage answers an uploaded QR image.
func writeImage(w http.ResponseWriter, q store.GroupQR, cacheControl string) error {
	h := w.Header()
	h.Set("Content-Type", q.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(q.Image)))
	h.Set("Cache-Control", cacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Tribe-QR-Expires-At", q.ExpiresAt.UTC().Format(time.RFC3339))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(q.Image)
	return nil
}
