// Package youzan verifies and normalises Youzan (有赞) push messages.
//
// Both documented signatures are checked with the app's client_id and
// client_secret; neither includes a timestamp, so there is no staleness check:
//   - Youzan Cloud (无容器 HTTP push): header Event-Sign = lowercase hex
//     MD5(client_id + raw body + client_secret), with Event-Type and Client-Id
//     headers. Used whenever Event-Sign is present.
//   - Legacy: the body's own sign = MD5(client_id + msg + client_secret), msg
//     being the URL-encoded JSON string exactly as it stands in the body. It
//     covers msg only: type, status, msg_id and test are unsigned, so Parse
//     decides a legacy push's effect from msg's fields alone (status,
//     refund_state, pay_time) and refuses as malformed, rather than guess from
//     the envelope, a push whose msg does not show it paid or refunded.
//
// Both carry the same JSON envelope: client_id, id (the order number for trade
// messages), kdt_id, type, status, msg, msg_id, version, test. msg is a
// URL-encoded JSON string, except in the newer youzan_trade_Refund* messages,
// where it is a JSON object.
//
// Money in these messages is yuan as decimal strings ("12.30"), converted to fen;
// the currency is always CNY. Times are Beijing time without an offset.
//
// Field names come from Youzan's message pages as quoted by SDKs and integrators
// (doc.youzanyun.com itself could not be read); the newer youzan_trade_Refund*
// messages are known only second-hand.
package youzan

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/webhook"
)

// Headers of the Youzan Cloud push.
const (
	HeaderEventSign = "Event-Sign"
	HeaderEventType = "Event-Type"
	HeaderClientID  = "Client-Id"
)

// Message types that mean something to Tribe.
const (
	TypeTradePaid         = "trade_TradePaid"                // msg: the full order (full_order_info)
	TypeRefundSuccess     = "trade_refund_RefundSuccess"     // msg: tid, refund_id, refunded_fee…
	TypeRefundSellerAgree = "trade_refund_RefundSellerAgree" // ends a refund-only request
	TypeNewRefundSuccess  = "youzan_trade_RefundSuccess"     // msg is a JSON object
	TypeNewRefundAgree    = "youzan_trade_RefundSellerAgree" // msg is a JSON object
	TypeLegacyTradeState  = "TRADE_ORDER_STATE"              // msg: tid, status, payment, update_time
	TypeLegacyTradeRefund = "TRADE_ORDER_REFUND"             // msg: tid, refund_id, refund_state, refunded_fee…
)

const (
	statusWaitSellerSend = "WAIT_SELLER_SEND_GOODS" // paid, awaiting shipment
	refundStateFinished  = "SAFE_FINISHED"
	refundStateAccepted  = "SAFE_ACCEPT"
	refundTypeRefundOnly = "REFUND_ONLY"
	currency             = "CNY"
)

// Beijing has had no daylight saving since 1991, so a fixed zone is exact and
// needs no tzdata in the Lambda image.
var beijing = time.FixedZone("CST", 8*60*60)

// Errors, shared by every provider.
var (
	ErrSignature = webhook.ErrSignature
	ErrMalformed = webhook.ErrMalformed
)

func init() { webhook.Register("youzan", provider{}) }

type provider struct{}

func (provider) Verify(s webhook.Secret, h http.Header, body []byte, now time.Time) error {
	return Verify(s, h, body, now)
}

func (provider) Parse(h http.Header, body []byte) (order.Event, error) { return Parse(h, body) }

// envelope is the body of every push.
type envelope struct {
	ClientID string          `json:"client_id"`
	ID       webhook.Scalar  `json:"id"`
	KdtID    webhook.Scalar  `json:"kdt_id"`
	Type     string          `json:"type"`
	Status   string          `json:"status"`
	Msg      json.RawMessage `json:"msg"`
	MsgID    string          `json:"msg_id"`
	Version  webhook.Scalar  `json:"version"`
	Sign     string          `json:"sign"`
	Test     bool            `json:"test"`
}

// Verify checks Event-Sign when the header is present, otherwise the body's
// legacy sign, with secret.ClientID and secret.Key (client_secret). Test
// messages (test: true), which Youzan sends to check the endpoint is alive, are
// accepted unsigned because Parse turns them into KindPing, which carries and
// changes nothing; a test message that is signed must be signed right.
// ErrSignature for a missing or wrong signature and when the integration has no
// client id or secret.
func Verify(secret webhook.Secret, h http.Header, body []byte, now time.Time) error {
	if sig := strings.TrimSpace(h.Get(HeaderEventSign)); sig != "" {
		if err := hasSecret(secret); err != nil {
			return err
		}
		return compare(sig, secret.ClientID, body, secret.Key)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%w: no %s and the body is not a push envelope", ErrSignature, HeaderEventSign)
	}
	if env.Sign == "" {
		if env.Test {
			return nil
		}
		return fmt.Errorf("%w: no %s and no sign in the body", ErrSignature, HeaderEventSign)
	}
	var msg string
	if err := json.Unmarshal(env.Msg, &msg); err != nil {
		// The legacy sign is defined over a string msg only.
		return fmt.Errorf("%w: legacy sign needs a string msg", ErrSignature)
	}
	if err := hasSecret(secret); err != nil {
		return err
	}
	return compare(env.Sign, secret.ClientID, []byte(msg), secret.Key)
}

func hasSecret(s webhook.Secret) error {
	if s.Key == "" || s.ClientID == "" {
		return fmt.Errorf("%w: integration needs a client id and a client secret", ErrSignature)
	}
	return nil
}

// compare checks a hex MD5 signature in constant time; hex of either case is
// accepted.
func compare(sig, clientID string, content []byte, clientSecret string) error {
	got, err := hex.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: signature is not hex", ErrSignature)
	}
	want := digest(clientID, content, clientSecret)
	if subtle.ConstantTimeCompare(got, want[:]) != 1 {
		return ErrSignature
	}
	return nil
}

func digest(clientID string, content []byte, clientSecret string) [md5.Size]byte {
	b := make([]byte, 0, len(clientID)+len(content)+len(clientSecret))
	b = append(append(append(b, clientID...), content...), clientSecret...)
	return md5.Sum(b)
}

// Sign is the lowercase hex MD5(clientID + content + clientSecret): the Event-Sign
// header when content is the raw body, the legacy sign when it is msg.
func Sign(clientID string, content []byte, clientSecret string) string {
	d := digest(clientID, content, clientSecret)
	return hex.EncodeToString(d[:])
}

// Parse normalises a verified push. The type is the body's type, or the
// Event-Type header when the body has none. trade_TradePaid and a legacy TRADE_ORDER_STATE of
// WAIT_SELLER_SEND_GOODS are KindOrderPaid; a successful refund
// (trade_refund_RefundSuccess, youzan_trade_RefundSuccess, a seller's agreement to
// a refund-only request, a legacy TRADE_ORDER_REFUND that is SAFE_FINISHED, or
// SAFE_ACCEPT for refund-only) is KindRefund; a test message is KindPing;
// everything else is KindIgnored. Refunds are keyed by refund_id, so the same
// refund reported by two messages is one refund to an idempotent consumer.
//
// DeliveryID is msg_id, or, for messages without one, a hash of type, id,
// version and msg, which Youzan repeats unchanged when it re-pushes.
//
// Without Event-Sign only msg is signed, so a paid order needs msg's pay_time (or
// a legacy state message its status) and a refund needs msg's refund_state; a
// push whose msg lacks them is refused with ErrMalformed (its event still
// carries the DeliveryID and Topic), never decided by the unsigned envelope.
func Parse(h http.Header, body []byte) (order.Event, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return order.Event{}, webhook.Malformed("envelope: %v", err)
	}
	// The body's type is covered by Event-Sign; the Event-Type header is not.
	typ := strings.TrimSpace(env.Type)
	if typ == "" {
		typ = strings.TrimSpace(h.Get(HeaderEventType))
	}
	e := order.Event{Kind: order.KindIgnored, DeliveryID: deliveryID(typ, env), Topic: typ}
	if env.Test {
		e.Kind = order.KindPing
		return webhook.Checked(e)
	}
	// Under Event-Sign the whole body is signed; under the legacy sign only msg
	// is, and the envelope's status may only ever lead to doing nothing.
	cloudSigned := strings.TrimSpace(h.Get(HeaderEventSign)) != ""
	signedStatus := ""
	if cloudSigned {
		signedStatus = env.Status
	}
	// unproven is an authentic push whose signed part does not show its effect:
	// refused as unreadable (keeping its delivery id), never applied on unsigned
	// words.
	unproven := func(what string) (order.Event, error) {
		return order.Event{DeliveryID: e.DeliveryID, Topic: typ}, webhook.Malformed("the signed part of this %s push does not say %s (under the legacy sign, the envelope's type and status are unsigned)", typ, what)
	}
	switch typ {
	case TypeTradePaid:
		var m tradeMsg
		if err := decodeMsg(env.Msg, &m); err != nil {
			return order.Event{}, err
		}
		if !cloudSigned && m.FullOrderInfo.OrderInfo.PayTime == "" {
			return unproven("when it was paid (pay_time)")
		}
		o, err := m.FullOrderInfo.order()
		if err != nil {
			return order.Event{}, err
		}
		e.Kind, e.Order = order.KindOrderPaid, o
	case TypeLegacyTradeState:
		var m legacyStateMsg
		err := decodeMsg(env.Msg, &m)
		if env.Status != "" && env.Status != statusWaitSellerSend && (err != nil || m.Status != statusWaitSellerSend) {
			break // other states need no msg, and a bad one must not bounce them
		}
		if err != nil {
			return order.Event{}, err
		}
		status := m.Status
		if status == "" {
			status = signedStatus
		}
		if status == "" {
			return unproven("the order's status")
		}
		if status != statusWaitSellerSend {
			break
		}
		o, err := m.order()
		if err != nil {
			return order.Event{}, err
		}
		e.Kind, e.Order = order.KindOrderPaid, o
	case TypeRefundSuccess, TypeNewRefundSuccess, TypeRefundSellerAgree, TypeNewRefundAgree, TypeLegacyTradeRefund:
		var m refundMsg
		if err := decodeMsg(env.Msg, &m); err != nil {
			return order.Event{}, err
		}
		succeeded := m.succeeded(typ, signedStatus)
		if !cloudSigned {
			// The type is unsigned too: only msg's own refund_state counts.
			if m.RefundState == "" {
				return unproven("the refund's state (refund_state)")
			}
			succeeded = m.succeeded(TypeLegacyTradeRefund, "")
		}
		if !succeeded {
			break
		}
		r, err := m.refund()
		if err != nil {
			return order.Event{}, err
		}
		e.Kind, e.Refund = order.KindRefund, r
	}
	return webhook.Checked(e)
}

func deliveryID(typ string, env envelope) string {
	if id := strings.TrimSpace(env.MsgID); id != "" {
		return id
	}
	s := sha256.New()
	for _, part := range [][]byte{[]byte(typ), []byte(env.KdtID), []byte(env.ID), []byte(env.Version), env.Msg} {
		s.Write(part)
		s.Write([]byte{0})
	}
	return hex.EncodeToString(s.Sum(nil))
}

// decodeMsg reads msg, a URL-encoded JSON string or (newer refund messages) a
// JSON object, into v. Encoders differ on spaces ("+" or "%20");
// QueryUnescape reads both, and a literal "+" in the data is always sent as %2B.
func decodeMsg(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return webhook.Malformed("msg is missing")
	}
	if raw[0] == '{' {
		if err := json.Unmarshal(raw, v); err != nil {
			return webhook.Malformed("msg: %v", err)
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return webhook.Malformed("msg is neither a string nor an object")
	}
	plain, err := url.QueryUnescape(s)
	if err != nil {
		return webhook.Malformed("msg is not URL-encoded: %v", err)
	}
	if err := json.Unmarshal([]byte(plain), v); err != nil {
		return webhook.Malformed("msg: %v", err)
	}
	return nil
}

type tradeMsg struct {
	FullOrderInfo fullOrderInfo `json:"full_order_info"`
}

type fullOrderInfo struct {
	OrderInfo struct {
		TID        string `json:"tid"`
		Created    string `json:"created"`
		PayTime    string `json:"pay_time"`
		UpdateTime string `json:"update_time"`
		OrderExtra struct {
			BuyerName string `json:"buyer_name"`
		} `json:"order_extra"`
	} `json:"order_info"`
	PayInfo struct {
		Payment  webhook.Scalar `json:"payment"`   // what the buyer paid, postage included
		TotalFee webhook.Scalar `json:"total_fee"` // goods before discounts
		PostFee  webhook.Scalar `json:"post_fee"`
	} `json:"pay_info"`
	BuyerInfo struct {
		YzOpenID     string         `json:"yz_open_id"`
		BuyerID      webhook.Scalar `json:"buyer_id"`
		FansID       webhook.Scalar `json:"fans_id"`
		BuyerPhone   string         `json:"buyer_phone"`
		FansNickname string         `json:"fans_nickname"`
	} `json:"buyer_info"`
	Orders []struct {
		ItemID     webhook.Scalar `json:"item_id"`
		OuterSkuID string         `json:"outer_sku_id"`
		OuterID    string         `json:"outer_item_id"`
		Title      string         `json:"title"`
		Num        webhook.Scalar `json:"num"`
		Price      webhook.Scalar `json:"price"`     // unit price
		TotalFee   webhook.Scalar `json:"total_fee"` // price × num
		Payment    webhook.Scalar `json:"payment"`   // after discounts
	} `json:"orders"`
}

func (f fullOrderInfo) order() (*order.Order, error) {
	oi := f.OrderInfo
	if f.PayInfo.Payment == "" {
		return nil, webhook.Malformed("pay_info.payment is missing")
	}
	o := &order.Order{ExternalID: oi.TID, Number: oi.TID, Currency: currency}
	var err error
	for _, a := range []struct {
		dst   *int64
		v     webhook.Scalar
		field string
	}{
		{&o.TotalMinor, f.PayInfo.Payment, "pay_info.payment"},
		{&o.SubtotalMinor, f.PayInfo.TotalFee, "pay_info.total_fee"},
		{&o.ShippingMinor, f.PayInfo.PostFee, "pay_info.post_fee"},
	} {
		if *a.dst, err = a.v.Amount(a.field, currency); err != nil {
			return nil, err
		}
	}
	// Chinese retail prices include VAT and Youzan reports no tax; the discount
	// is what the goods and postage came to minus what was paid.
	if d := o.SubtotalMinor + o.ShippingMinor - o.TotalMinor; d > 0 {
		o.DiscountMinor = d
	}
	paid := oi.PayTime
	if paid == "" {
		paid = oi.UpdateTime
	}
	if o.PaidAt, err = parseTime("pay_time", paid); err != nil {
		return nil, err
	}
	b := f.BuyerInfo
	// yz_open_id is Youzan's current buyer id; older payloads have only
	// buyer_id or the WeChat fans_id.
	o.Customer.ExternalID = b.YzOpenID
	if o.Customer.ExternalID == "" {
		o.Customer.ExternalID = b.BuyerID.ID()
	}
	if o.Customer.ExternalID == "" {
		o.Customer.ExternalID = b.FansID.ID()
	}
	// Youzan documents no verification flag for buyer_phone (it may be a
	// consignee's number), so it is unverified: only the tenant's identity rules
	// can make it link a member, and it never merges members. (buyer_info is
	// buyer_id, buyer_phone 买家手机号, fans_type, fans_id, fans_nickname,
	// outer_user_id; no flag: Youzan's trade push, as SDKs model it, e.g.
	// github.com/zedisdog/youzanphp src/Api/Models/BuyerInfo.php.)
	o.Customer.Phone = plain(b.BuyerPhone)
	o.Customer.Name = plain(b.FansNickname)
	if o.Customer.Name == "" {
		o.Customer.Name = plain(oi.OrderExtra.BuyerName)
	}
	for _, it := range f.Orders {
		q, err := it.Num.Int("orders.num")
		if err != nil {
			return nil, err
		}
		price, err := it.Price.Amount("orders.price", currency)
		if err != nil {
			return nil, err
		}
		total, err := it.TotalFee.Amount("orders.total_fee", currency)
		if err != nil {
			return nil, err
		}
		pay, err := it.Payment.Amount("orders.payment", currency)
		if err != nil {
			return nil, err
		}
		sku := it.OuterSkuID
		if sku == "" {
			sku = it.OuterID
		}
		var disc int64
		if it.Payment != "" && total > pay {
			disc = total - pay
		}
		o.Lines = append(o.Lines, order.Line{
			ProductID:     it.ItemID.ID(),
			SKU:           sku,
			Title:         it.Title,
			Quantity:      q,
			PriceMinor:    price,
			DiscountMinor: disc,
		})
	}
	return o, nil
}

// plain drops values Youzan has encrypted for privacy ("$…$1$"), which are no
// use as contact details.
func plain(s string) string {
	if strings.HasPrefix(s, "$") && strings.HasSuffix(s, "$") {
		return ""
	}
	return s
}

type legacyStateMsg struct {
	TID        string         `json:"tid"`
	Status     string         `json:"status"`
	Payment    webhook.Scalar `json:"payment"`
	UpdateTime string         `json:"update_time"`
}

// order is the little a legacy state message tells: the order, what was paid and
// when; no customer and no lines.
func (m legacyStateMsg) order() (*order.Order, error) {
	if m.Payment == "" {
		return nil, webhook.Malformed("payment is missing")
	}
	total, err := m.Payment.Amount("payment", currency)
	if err != nil {
		return nil, err
	}
	at, err := parseTime("update_time", m.UpdateTime)
	if err != nil {
		return nil, err
	}
	return &order.Order{ExternalID: m.TID, Number: m.TID, Currency: currency, TotalMinor: total, SubtotalMinor: total, PaidAt: at}, nil
}

type refundMsg struct {
	TID         string         `json:"tid"`
	RefundID    webhook.Scalar `json:"refund_id"`
	RefundedFee webhook.Scalar `json:"refunded_fee"`
	RefundType  string         `json:"refund_type"`
	RefundState string         `json:"refund_state"`
	UpdateTime  string         `json:"update_time"`
}

// succeeded reports whether the message means money went back. A seller's
// agreement ends a refund-only request (no goods come back, and no later
// RefundSuccess was documented for that path); for returns, only RefundSuccess
// counts.
func (m refundMsg) succeeded(typ, status string) bool {
	switch typ {
	case TypeRefundSuccess, TypeNewRefundSuccess:
		return true
	case TypeRefundSellerAgree, TypeNewRefundAgree:
		return m.RefundType == refundTypeRefundOnly
	case TypeLegacyTradeRefund:
		state := m.RefundState
		if state == "" {
			state = status
		}
		return state == refundStateFinished || (state == refundStateAccepted && m.RefundType == refundTypeRefundOnly)
	}
	return false
}

func (m refundMsg) refund() (*order.Refund, error) {
	if m.RefundedFee == "" {
		return nil, webhook.Malformed("refunded_fee is missing")
	}
	amount, err := m.RefundedFee.Amount("refunded_fee", currency)
	if err != nil {
		return nil, err
	}
	r := &order.Refund{ExternalID: m.RefundID.ID(), OrderExternalID: m.TID, Currency: currency, AmountMinor: amount}
	if m.UpdateTime != "" {
		if r.CreatedAt, err = parseTime("update_time", m.UpdateTime); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// parseTime reads Youzan's "2006-01-02 15:04:05" Beijing time; a Unix time in
// seconds or milliseconds is accepted too.
func parseTime(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, webhook.Malformed("%s is missing", field)
	}
	if t, err := time.ParseInLocation(time.DateTime, s, beijing); err == nil {
		return t.UTC(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		if n > 1e12 {
			return time.UnixMilli(n).UTC(), nil
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, webhook.Malformed("%s: %q is not a time", field, s)
}
