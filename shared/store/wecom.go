package store

// What Tribe keeps of its own calls to WeCom's API (issue 11).
//
// Keys, all under T#<tenant>#:
//
//	WECOM#TOKEN#<corp>#<app>   TOKEN      the app's access token (sealed), its expiry, the refresh lock
//	CH#<channel>               WECOM      the channel's 联系我 contact way (config_id, qr_code, staff)
//	LC#<code>                  WECOM      the live code's group join way (config_id, qr_code, chat ids)
//	CONFIG                     WELCOME    the tenant's default welcome (好友欢迎语)
//	CH#<channel>               WELCOME    a channel's own welcome
//	WELCOMED#<code hash>       WELCOMED   a welcome code used (TTL one day): sent once
//
// The access token is a credential: it is sealed like every other secret, so a
// function that caches it needs the Encrypt and Decrypt secret uses.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// ProviderUnionID names the identity of a person's WeChat unionid, the same
// across the WeChat-based sources of a brand bound to one open platform account.
const ProviderUnionID = "wechat_unionid"

// WeComToken is a cached WeCom access token.
type WeComToken struct {
	Token     string    `dynamo:"token" json:"-"`
	ExpiresAt time.Time `dynamo:"expires_at" json:"expires_at"`
	// LockUntil is set while one caller fetches a new token, so the others wait
	// for it instead of all calling gettoken.
	LockUntil time.Time `dynamo:"lock_until,omitempty" json:"-"`
}

type weComTokenItem struct {
	keyed
	WeComToken
}

func (t *Tenant) weComTokenKey(corp, app string) (string, string) {
	return t.pk("WECOM", "TOKEN", corp, app), "TOKEN"
}

// WeComToken returns the cached token of a corp's app (opened), the zero token
// when none is cached.
func (t *Tenant) WeComToken(ctx context.Context, corp, app string) (WeComToken, error) {
	pk, sk := t.weComTokenKey(corp, app)
	var it weComTokenItem
	found, err := t.findItem(ctx, pk, sk, true, &it, "wecom token")
	if !found || err != nil {
		return WeComToken{}, err
	}
	if it.Token, err = t.open(ctx, it.Token); err != nil {
		return WeComToken{}, err
	}
	return it.WeComToken, nil
}

// ClaimWeComTokenRefresh takes the refresh lock of a corp's app until until,
// unless another caller holds it: it reports whether this caller got it.
func (t *Tenant) ClaimWeComTokenRefresh(ctx context.Context, corp, app string, until time.Time) (bool, error) {
	pk, sk := t.weComTokenKey(corp, app)
	err := t.table.Update("PK", pk).Range("SK", sk).Set(table.Type, table.TypeWeComToken).Set("lock_until", until.UTC()).
		If("attribute_not_exists(lock_until) OR lock_until < ?", t.s.Now().Format(time.RFC3339Nano)).ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return false, nil
	}
	return err == nil, translate(err, "wecom token lock")
}

// PutWeComToken caches a corp's app token, sealed, and releases the refresh lock.
func (t *Tenant) PutWeComToken(ctx context.Context, corp, app, token string, expires time.Time) error {
	sealed, err := t.seal(ctx, token)
	if err != nil {
		return err
	}
	pk, sk := t.weComTokenKey(corp, app)
	it := weComTokenItem{keyed{pk, sk, table.TypeWeComToken, expires.Add(time.Hour).Unix()}, WeComToken{Token: sealed, ExpiresAt: expires.UTC()}}
	return translate(t.table.Put(it).ConsumedCapacity(wcc(ctx)).Run(ctx), "wecom token")
}

// ChannelWeCom is a channel's 联系我 contact way on WeCom.
type ChannelWeCom struct {
	IntegrationID string   `dynamo:"integration_id" json:"integration_id"`
	UserIDs       []string `dynamo:"user_ids" json:"user_ids"`
	SkipVerify    bool     `dynamo:"skip_verify" json:"skip_verify"`
	ConfigID      string   `dynamo:"config_id" json:"config_id"`
	QRCode        string   `dynamo:"qr_code" json:"qr_code"`
}

type channelWeComItem struct {
	keyed
	ChannelWeCom
}

// ChannelWeCom returns a channel's contact way; found is false when it has none.
func (t *Tenant) ChannelWeCom(ctx context.Context, channelID string) (ChannelWeCom, bool, error) {
	if !ids.Valid(ChannelPrefix, channelID) {
		return ChannelWeCom{}, false, nil
	}
	pk, _ := t.channelKey(channelID)
	var it channelWeComItem
	found, err := t.findItem(ctx, pk, "WECOM", true, &it, "channel contact way")
	return it.ChannelWeCom, found, err
}

// PutChannelWeCom records a channel's contact way (the channel must exist).
func (t *Tenant) PutChannelWeCom(ctx context.Context, channelID string, w ChannelWeCom) error {
	pk, _ := t.channelKey(channelID)
	it := channelWeComItem{keyed{pk, "WECOM", table.TypeChannelWeCom, 0}, w}
	return translate(t.table.Put(it).ConsumedCapacity(wcc(ctx)).Run(ctx), "channel contact way")
}

// UpdateChannel renames a channel (its code stays: it is printed in QR codes).
func (t *Tenant) UpdateChannel(ctx context.Context, id, name string) (Channel, error) {
	if !ids.Valid(ChannelPrefix, id) {
		return Channel{}, problem.New(problem.NotFound, "channel not found")
	}
	pk, sk := t.channelKey(id)
	var it channelItem
	err := t.table.Update("PK", pk).Range("SK", sk).Set("name", name).If("attribute_exists(PK)").
		ConsumedCapacity(wcc(ctx)).Value(ctx, &it)
	if dynamo.IsCondCheckFailed(err) {
		return Channel{}, problem.New(problem.NotFound, "channel not found")
	}
	return it.Channel, translate(err, "channel")
}

// DeleteChannel removes a channel, its code (free for reuse), its contact way
// record and its welcome in one transaction; its day counters stay until the
// partition is read no more. An unknown channel is problem.NotFound.
func (t *Tenant) DeleteChannel(ctx context.Context, id string) error {
	ch, err := t.Channel(ctx, id)
	if err != nil {
		return err
	}
	pk, sk := t.channelKey(id)
	cpk, csk := t.channelCodeKey(ch.Code)
	return translate(t.runTx(ctx, func(tx *dynamo.WriteTx) {
		tx.Delete(t.table.Delete("PK", pk).Range("SK", sk).If("attribute_exists(PK)"))
		tx.Delete(t.table.Delete("PK", cpk).Range("SK", csk))
		tx.Delete(t.table.Delete("PK", pk).Range("SK", "WECOM"))
		tx.Delete(t.table.Delete("PK", pk).Range("SK", "WELCOME"))
	}), "channel")
}

// LiveCodeWeCom is a live code's group join way (客户群活码) on WeCom.
type LiveCodeWeCom struct {
	IntegrationID  string   `dynamo:"integration_id" json:"integration_id"`
	ConfigID       string   `dynamo:"config_id" json:"config_id"`
	QRCode         string   `dynamo:"qr_code" json:"qr_code"`
	ChatIDs        []string `dynamo:"chat_ids" json:"chat_ids"`
	AutoCreateRoom bool     `dynamo:"auto_create_room" json:"auto_create_room"`
	RoomBaseName   string   `dynamo:"room_base_name,omitempty" json:"room_base_name,omitempty"`
	RoomBaseID     int      `dynamo:"room_base_id,omitempty" json:"room_base_id,omitempty"`
}

type liveCodeWeComItem struct {
	keyed
	LiveCodeWeCom
}

// LiveCodeWeCom returns a live code's join way; found is false when it has none.
func (t *Tenant) LiveCodeWeCom(ctx context.Context, code string) (LiveCodeWeCom, bool, error) {
	if !t.ownsLiveCode(code) {
		return LiveCodeWeCom{}, false, nil
	}
	pk, _ := t.liveCodeKey(code)
	var it liveCodeWeComItem
	found, err := t.findItem(ctx, pk, "WECOM", true, &it, "live code join way")
	return it.LiveCodeWeCom, found, err
}

// PutLiveCodeWeCom records a live code's join way.
func (t *Tenant) PutLiveCodeWeCom(ctx context.Context, code string, w LiveCodeWeCom) error {
	if !t.ownsLiveCode(code) {
		return problem.New(problem.NotFound, "live code not found")
	}
	pk, _ := t.liveCodeKey(code)
	it := liveCodeWeComItem{keyed{pk, "WECOM", table.TypeLiveCodeWeCom, 0}, w}
	return translate(t.table.Put(it).ConsumedCapacity(wcc(ctx)).Run(ctx), "live code join way")
}

// DeleteLiveCodeWeCom forgets a live code's join way.
func (t *Tenant) DeleteLiveCodeWeCom(ctx context.Context, code string) error {
	if !t.ownsLiveCode(code) {
		return problem.New(problem.NotFound, "live code not found")
	}
	pk, _ := t.liveCodeKey(code)
	return translate(t.table.Delete("PK", pk).Range("SK", "WECOM").ConsumedCapacity(wcc(ctx)).Run(ctx), "live code join way")
}

// Welcome is a 1:1 welcome message (好友欢迎语): text and at most one attachment.
type Welcome struct {
	Text        string              `dynamo:"text" json:"text"`
	Link        *WelcomeLink        `dynamo:"link,omitempty" json:"link,omitempty"`
	MiniProgram *WelcomeMiniProgram `dynamo:"miniprogram,omitempty" json:"miniprogram,omitempty"`
}

// WelcomeLink is a link card.
type WelcomeLink struct {
	Title  string `dynamo:"title" json:"title"`
	URL    string `dynamo:"url" json:"url"`
	PicURL string `dynamo:"picurl,omitempty" json:"picurl,omitempty"`
	Desc   string `dynamo:"desc,omitempty" json:"desc,omitempty"`
}

// WelcomeMiniProgram is a mini-program card; its cover is an uploaded media id.
type WelcomeMiniProgram struct {
	Title      string `dynamo:"title" json:"title"`
	AppID      string `dynamo:"appid" json:"appid"`
	Page       string `dynamo:"page" json:"page"`
	PicMediaID string `dynamo:"pic_media_id" json:"pic_media_id"`
}

type welcomeItem struct {
	keyed
	Welcome Welcome `dynamo:"welcome"`
}

func (t *Tenant) welcomeKey(channelID string) (string, string) {
	if channelID == "" {
		return t.pk("CONFIG"), "WELCOME"
	}
	pk, _ := t.channelKey(channelID)
	return pk, "WELCOME"
}

// WelcomeFor returns the welcome of a channel ("" for the tenant default);
// found is false when none is set.
func (t *Tenant) WelcomeFor(ctx context.Context, channelID string) (Welcome, bool, error) {
	if channelID != "" && !ids.Valid(ChannelPrefix, channelID) {
		return Welcome{}, false, problem.New(problem.NotFound, "channel not found")
	}
	pk, sk := t.welcomeKey(channelID)
	var it welcomeItem
	found, err := t.findItem(ctx, pk, sk, false, &it, "welcome")
	return it.Welcome, found, err
}

// PutWelcome sets the welcome of a channel ("" for the tenant default).
func (t *Tenant) PutWelcome(ctx context.Context, channelID string, w Welcome) error {
	pk, sk := t.welcomeKey(channelID)
	return translate(t.table.Put(welcomeItem{keyed{pk, sk, table.TypeWelcome, 0}, w}).ConsumedCapacity(wcc(ctx)).Run(ctx), "welcome")
}

// ClaimWelcomeCode records that a WeCom welcome code is being used and reports
// whether this caller is the first: a redelivered callback finds it claimed and
// sends nothing. Welcome codes live 20 seconds; the claim is kept a day.
func (t *Tenant) ClaimWelcomeCode(ctx context.Context, code string) (bool, error) {
	sum := sha256.Sum256([]byte(code))
	pk := t.pk("WELCOMED", hex.EncodeToString(sum[:12]))
	it := keyed{pk, "WELCOMED", table.TypeWelcomeSent, t.s.Now().Add(24 * time.Hour).Unix()}
	return t.recordOnce(ctx, t.table.Put(it))
}

// DeleteChannelWeCom forgets a channel's contact way.
func (t *Tenant) DeleteChannelWeCom(ctx context.Context, channelID string) error {
	if !ids.Valid(ChannelPrefix, channelID) {
		return problem.New(problem.NotFound, "channel not found")
	}
	pk, _ := t.channelKey(channelID)
	return translate(t.table.Delete("PK", pk).Range("SK", "WECOM").ConsumedCapacity(wcc(ctx)).Run(ctx), "channel contact way")
}
