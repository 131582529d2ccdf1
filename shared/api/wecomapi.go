package api

// Calls to WeCom's API on a tenant's behalf (shared/wecom): channel codes as 联系我
// contact ways and the welcome messages (好友欢迎语) they send.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/wecom"
	"github.com/tribehq/tribe/shared/wecomsync"
)

// weComProblem turns a WeCom failure into a problem: WeCom's own refusal is
// 502 upstream_error naming its errcode and errmsg; problems pass through.
func weComProblem(err error) error {
	var we *wecom.Error
	if errors.As(err, &we) {
		return problem.Wrap(problem.Upstream, err, "WeCom refused %s: errcode %d: %s", we.Path, we.Code, we.Msg)
	}
	var pe *problem.Error
	if err == nil || errors.As(err, &pe) {
		return err
	}
	return problem.Wrap(problem.Upstream, err, "WeCom could not be reached")
}

// channelWeComIn is a channel's `wecom` object: the staff the contact way adds
// the customer to, whether it skips their verification, and which WeCom
// integration's app makes it (the only one with a corp_secret by default).
type channelWeComIn struct {
	UserIDs       []string `json:"user_ids"`
	SkipVerify    *bool    `json:"skip_verify"`
	IntegrationID string   `json:"integration_id"`
}

// maxContactWayUsers bounds a contact way's staff list (WeCom documents at most
// 100 users for a multi-person way).
const maxContactWayUsers = 100

func (in channelWeComIn) check() error {
	if len(in.UserIDs) == 0 || len(in.UserIDs) > maxContactWayUsers {
		return problem.Field("wecom.user_ids", "wecom.user_ids lists 1 to %d WeCom user ids of the staff who take the contacts", maxContactWayUsers)
	}
	seen := map[string]bool{}
	for _, u := range in.UserIDs {
		if u == "" || len(u) > 64 || strings.TrimSpace(u) != u || seen[u] {
			return problem.Field("wecom.user_ids", "wecom.user_ids holds distinct WeCom user ids of 1 to 64 characters")
		}
		seen[u] = true
	}
	return nil
}

func (in channelWeComIn) way(ch store.Channel, configID string) wecom.ContactWay {
	w := wecom.ContactWay{ConfigID: configID, Type: wecom.ContactWaySingle, Scene: wecom.SceneQRCode, State: ch.Code,
		User: in.UserIDs, SkipVerify: in.SkipVerify == nil || *in.SkipVerify, Remark: ch.Code}
	if len(in.UserIDs) > 1 {
		w.Type = wecom.ContactWayMulti
	}
	return w
}

// addContactWay makes the channel's contact way on WeCom and records it.
func (s *Server) addContactWay(ctx context.Context, c *call, ch store.Channel, in channelWeComIn) (store.ChannelWeCom, error) {
	cl, igID, err := s.wecom.For(ctx, c.tenant, in.IntegrationID)
	if err != nil {
		return store.ChannelWeCom{}, err
	}
	w := in.way(ch, "")
	configID, qr, err := cl.AddContactWay(ctx, w)
	if err != nil {
		return store.ChannelWeCom{}, weComProblem(err)
	}
	rec := store.ChannelWeCom{IntegrationID: igID, UserIDs: w.User, SkipVerify: w.SkipVerify, ConfigID: configID, QRCode: qr}
	if err := c.tenant.PutChannelWeCom(ctx, ch.ID, rec); err != nil {
		// Not recorded: take it back on WeCom, so no contact way is left unowned.
		if derr := cl.DelContactWay(context.WithoutCancel(ctx), configID); derr != nil {
			c.log.ErrorContext(ctx, "wecom contact way left behind", "channel", ch.ID, "config_id", configID, "err", derr)
		}
		return store.ChannelWeCom{}, err
	}
	c.note("wecom_config_id", configID)
	return rec, nil
}

// channelView is a channel with its WeCom contact way, when it has one.
type channelView struct {
	store.Channel
	WeCom *store.ChannelWeCom `json:"wecom,omitempty"`
}

func (s *Server) channelView(ctx context.Context, t *store.Tenant, ch store.Channel) (channelView, error) {
	w, found, err := t.ChannelWeCom(ctx, ch.ID)
	if err != nil || !found {
		return channelView{Channel: ch}, err
	}
	return channelView{Channel: ch, WeCom: &w}, nil
}

// welcomeLimits: WeCom's text limit is 4,000 bytes; titles are kept short
// enough for every card WeCom draws.
const (
	maxWelcomeText  = 4000
	maxWelcomeTitle = 128
)

func checkWelcome(w store.Welcome) error {
	if strings.TrimSpace(w.Text) == "" && w.Link == nil && w.MiniProgram == nil {
		return problem.Field("text", "a welcome needs text, a link or a miniprogram")
	}
	if len(w.Text) > maxWelcomeText {
		return problem.Field("text", "text is at most %d bytes", maxWelcomeText)
	}
	if w.Link != nil && w.MiniProgram != nil {
		return problem.Field("miniprogram", "a welcome carries a link or a miniprogram, not both")
	}
	if l := w.Link; l != nil {
		if l.Title == "" || utf8.RuneCountInString(l.Title) > maxWelcomeTitle {
			return problem.Field("link.title", "link.title is 1 to %d characters", maxWelcomeTitle)
		}
		for field, v := range map[string]string{"link.url": l.URL, "link.picurl": l.PicURL} {
			if v == "" && field == "link.picurl" {
				continue
			}
			if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(v) > 2048 {
				return problem.Field(field, "%s is an http(s) URL of at most 2048 characters", field)
			}
		}
		if len(l.Desc) > 512 {
			return problem.Field("link.desc", "link.desc is at most 512 bytes")
		}
	}
	if m := w.MiniProgram; m != nil {
		switch {
		case m.Title == "" || utf8.RuneCountInString(m.Title) > 64:
			return problem.Field("miniprogram.title", "miniprogram.title is 1 to 64 characters")
		case !strings.HasPrefix(m.AppID, "wx") || len(m.AppID) > 32:
			return problem.Field("miniprogram.appid", "miniprogram.appid is the mini-program's appid (wx…), associated with the corp")
		case m.Page == "" || len(m.Page) > 1024:
			return problem.Field("miniprogram.page", "miniprogram.page is the page path, e.g. pages/index.html")
		case m.PicMediaID == "" || len(m.PicMediaID) > 256:
			return problem.Field("miniprogram.pic_media_id", "miniprogram.pic_media_id is the media id of the cover WeCom returned on upload")
		}
	}
	return nil
}

func (s *Server) getWelcome(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.welcomeOf(w, r, c, "")
}

func (s *Server) putWelcome(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.setWelcome(w, r, c, "")
}

func (s *Server) getChannelWelcome(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := s.existingChannel(r, c)
	if err != nil {
		return err
	}
	return s.welcomeOf(w, r, c, id)
}

func (s *Server) putChannelWelcome(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := s.existingChannel(r, c)
	if err != nil {
		return err
	}
	return s.setWelcome(w, r, c, id)
}

func (s *Server) existingChannel(r *http.Request, c *call) (string, error) {
	id, err := channelID(r)
	if err != nil {
		return "", err
	}
	_, err = c.tenant.Channel(r.Context(), id)
	return id, err
}

func (s *Server) welcomeOf(w http.ResponseWriter, r *http.Request, c *call, channelID string) error {
	wel, found, err := c.tenant.WelcomeFor(r.Context(), channelID)
	if err != nil {
		return err
	}
	if !found {
		return problem.New(problem.NotFound, "no welcome set")
	}
	return writeJSON(w, http.StatusOK, wel)
}

func (s *Server) setWelcome(w http.ResponseWriter, r *http.Request, c *call, channelID string) error {
	var in store.Welcome
	if err := decode(r, &in); err != nil {
		return err
	}
	in.Text = strings.TrimSpace(in.Text)
	if err := checkWelcome(in); err != nil {
		return err
	}
	if err := c.tenant.PutWelcome(r.Context(), channelID, in); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, in)
}

// syncer is the WeCom syncer on the server's clients and settings.
func (s *Server) syncer() (*wecomsync.Syncer, error) {
	return wecomsync.New(s.wecom, s.settings, s.log)
}

// putLiveCodeWeCom backs a live code with a WeCom group join way (客户群活码),
// or changes the one it has; the live code's QR is then WeCom's.
func (s *Server) putLiveCodeWeCom(w http.ResponseWriter, r *http.Request, c *call) error {
	code, err := s.ownLiveCode(r, c)
	if err != nil {
		return err
	}
	var in wecomsync.JoinWayIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if utf8.RuneCountInString(in.RoomBaseName) > 40 {
		return problem.Field("room_base_name", "room_base_name is at most 40 characters")
	}
	if in.RoomBaseID < 0 || in.AutoCreateRoom && in.RoomBaseName == "" {
		return problem.Field("room_base_name", "auto_create_room needs room_base_name (and a room_base_id of 0 or more)")
	}
	sy, err := s.syncer()
	if err != nil {
		return err
	}
	rec, err := sy.PutJoinWay(r.Context(), c.tenant, code, in)
	if err != nil {
		return weComProblem(err)
	}
	c.note("wecom_config_id", rec.ConfigID)
	return writeJSON(w, http.StatusOK, rec)
}

func (s *Server) getLiveCodeWeCom(w http.ResponseWriter, r *http.Request, c *call) error {
	code, err := s.ownLiveCode(r, c)
	if err != nil {
		return err
	}
	rec, found, err := c.tenant.LiveCodeWeCom(r.Context(), code)
	if err != nil {
		return err
	}
	if !found {
		return problem.New(problem.NotFound, "the live code has no WeCom join way")
	}
	return writeJSON(w, http.StatusOK, rec)
}

// deleteLiveCodeWeCom deletes the live code's join way at WeCom and forgets it.
func (s *Server) deleteLiveCodeWeCom(w http.ResponseWriter, r *http.Request, c *call) error {
	code, err := s.ownLiveCode(r, c)
	if err != nil {
		return err
	}
	sy, err := s.syncer()
	if err != nil {
		return err
	}
	if err := sy.DeleteJoinWay(r.Context(), c.tenant, code); err != nil {
		return weComProblem(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// refreshJoinWay keeps a live code's join way in step with a changed pool.
func (s *Server) refreshJoinWay(ctx context.Context, c *call, code string) error {
	sy, err := s.syncer()
	if err != nil {
		return err
	}
	_, err = sy.RefreshJoinWay(ctx, c.tenant, code)
	return weComProblem(err)
}
