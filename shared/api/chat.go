package api

import (
	"errors"
	"net/http"

	"github.com/tribehq/tribe/shared/chat"
	"github.com/tribehq/tribe/shared/chat/generic"
	"github.com/tribehq/tribe/shared/chat/wecom"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// Chat integration providers, beside the shop ones.
const (
	providerWeCom = "wecom"
	providerChat  = "chat"
)

func crypterOf(ig store.Integration) (*wecom.Crypter, error) {
	return wecom.NewCrypter(ig.Settings["token"], ig.Settings["encoding_aes_key"], ig.Settings["corp_id"])
}

// verifyWeCom answers WeCom's URL verification: the decrypted echostr, as plain
// text, when the signature holds.
func (s *Server) verifyWeCom(w http.ResponseWriter, r *http.Request, c *call) error {
	_, ig, err := s.pathIntegration(r, c, providerWeCom)
	if err != nil {
		return err
	}
	cr, err := crypterOf(ig)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	plain, err := cr.VerifyURL(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), q.Get("echostr"))
	if err != nil {
		return problem.Wrap(problem.BadSignature, err, "WeCom URL verification failed")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(plain)
	return nil
}

// receiveWeCom takes an encrypted WeCom callback: verify, decrypt, normalise, store
// each event once, and answer at once (WeCom waits 5 seconds at most); the effects
// happen on the stream.
func (s *Server) receiveWeCom(w http.ResponseWriter, r *http.Request, c *call) error {
	t, ig, err := s.pathIntegration(r, c, providerWeCom)
	if err != nil {
		return err
	}
	cr, err := crypterOf(ig)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	inner, err := cr.Decrypt(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), body)
	if errors.Is(err, wecom.ErrSignature) || errors.Is(err, wecom.ErrReceiveID) {
		return problem.Wrap(problem.BadSignature, err, "the WeCom signature does not match this integration")
	}
	if err != nil {
		return problem.Wrap(problem.Invalid, err, "the WeCom callback could not be decrypted")
	}
	if err := wecom.CheckFresh(q.Get("timestamp"), s.store.Now()); err != nil {
		return problem.Wrap(problem.BadSignature, err, "the WeCom callback's timestamp is more than 5 minutes from Tribe's clock: a replayed or stale callback is refused")
	}
	ev, err := wecom.Parse(inner)
	if err != nil {
		return problem.Wrap(problem.Invalid, err, "the WeCom callback could not be read")
	}
	events, err := chat.FromWeCom(ev)
	if errors.Is(err, chat.ErrUnsupported) || errors.Is(err, chat.ErrNoMembers) {
		c.note("event", "wecom event not handled", "event", ev.Event, "change", ev.ChangeType, "err", err)
		events = nil
	} else if err != nil {
		return problem.Wrap(problem.Invalid, err, "the WeCom callback could not be read")
	}
	if gc, ok := chat.GroupChangeOf(ev); ok {
		events = append(events, gc)
	}
	if err := s.storeChatEvents(r, c, t, ig, events); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("success"))
	return nil
}

// receiveChat takes Tribe's generic signed chat event (tenants' own bots and the
// platforms without a native adapter).
func (s *Server) receiveChat(w http.ResponseWriter, r *http.Request, c *call) error {
	t, ig, err := s.pathIntegration(r, c, providerChat)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if err := generic.Verify(ig.Secret, r.Header, body, s.store.Now()); err != nil {
		return problem.Wrap(problem.BadSignature, err, "the Tribe-Signature does not match this integration's secret or is too old")
	}
	ev, err := generic.Parse(body)
	if err != nil {
		var fe *problem.FieldError
		if errors.As(err, &fe) {
			return problem.FromFields(err, "")
		}
		return problem.Wrap(problem.Invalid, err, "the chat event is not one JSON object in Tribe's chat event format (malformed, an unknown field or a value of the wrong type)")
	}
	if err := s.storeChatEvents(r, c, t, ig, []chat.Event{chat.FromGeneric(ev)}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"received": true})
}

func (s *Server) storeChatEvents(r *http.Request, c *call, t *store.Tenant, ig store.Integration, events []chat.Event) error {
	now := s.store.Now()
	for _, e := range events {
		at := e.At
		if at.IsZero() {
			at = now
		}
		fresh, err := t.RecordChatEvent(r.Context(), store.ChatEventRecord{
			IntegrationID: ig.ID, Platform: e.Platform, Kind: string(e.Kind), ChatID: e.ChatID, UserID: e.UserID,
			UserName: e.UserName, Text: e.Text, State: e.State, WelcomeCode: e.WelcomeCode, At: at.UTC(), DedupeKey: e.DedupeKey, ReceivedAt: now,
		})
		if err != nil {
			return err
		}
		c.note("kind", e.Kind, "fresh", fresh)
	}
	return nil
}
