package wecomsync

import (
	"context"
	"time"

	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/wecom"
)

// DeliveryKind marks the delivery log entries of Tribe's calls to WeCom's API.
const DeliveryKind connector.Kind = "wecom_api"

// Welcome sends a new contact the tenant's welcome (好友欢迎语) with the welcome
// code of their add_external_contact event: the welcome of the channel whose
// code is state, else the tenant's default; none set, nothing is sent. Each code
// is claimed before the send, so a redelivered callback (or a retried record)
// sends nothing twice; WeCom accepts a code once, within 20 s. The attempt is
// logged in the delivery log (target contact:<member>, ref welcome). A tenant
// whose integration has no app secret sends nothing and it is no error.
func (s *Syncer) Welcome(ctx context.Context, t *store.Tenant, integrationID, state, code, memberID string, now time.Time) error {
	if code == "" {
		return nil
	}
	w, found, err := welcomeFor(ctx, t, state)
	if err != nil || !found {
		return err
	}
	cl, _, err := s.clients.For(ctx, t, integrationID)
	if problem.Is(err, problem.Invalid) {
		return nil
	}
	if err != nil {
		return err
	}
	first, err := t.ClaimWelcomeCode(ctx, code)
	if err != nil || !first {
		return err
	}
	msg := wecom.WelcomeMsg{WelcomeCode: code}
	if w.Text != "" {
		msg.Text = &struct {
			Content string `json:"content"`
		}{w.Text}
	}
	if l := w.Link; l != nil {
		msg.Attachments = append(msg.Attachments, wecom.Attachment{MsgType: "link", Link: &wecom.Link{Title: l.Title, PicURL: l.PicURL, Desc: l.Desc, URL: l.URL}})
	}
	if m := w.MiniProgram; m != nil {
		msg.Attachments = append(msg.Attachments, wecom.Attachment{MsgType: "miniprogram", MiniProgram: &wecom.MiniProgram{Title: m.Title, PicMediaID: m.PicMediaID, AppID: m.AppID, Page: m.Page}})
	}
	start := time.Now()
	sendErr := cl.SendWelcomeMsg(ctx, msg)
	d := store.Delivery{Kind: DeliveryKind, Target: "contact:" + memberID, Ref: "welcome", Status: store.DeliveryDelivered,
		HTTPStatus: 200, Attempts: 1, DurationMS: time.Since(start).Milliseconds(), At: now}
	if sendErr != nil {
		d.Status, d.Error = store.DeliveryFailed, sendErr.Error()
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := t.RecordDelivery(rctx, d); err != nil {
		s.log.ErrorContext(ctx, "wecomsync: welcome delivery not logged", "tenant", t.ID(), "member", memberID, "err", err)
	}
	if sendErr != nil {
		// Not returned: the code is spent either way, a retry cannot help.
		s.log.WarnContext(ctx, "wecomsync: welcome not sent", "tenant", t.ID(), "member", memberID, "err", sendErr)
	}
	return nil
}

func welcomeFor(ctx context.Context, t *store.Tenant, state string) (store.Welcome, bool, error) {
	if state != "" {
		ch, err := t.ChannelByCode(ctx, state)
		if err == nil {
			w, found, err := t.WelcomeFor(ctx, ch.ID)
			if err != nil || found {
				return w, found, err
			}
		} else if !problem.Is(err, problem.NotFound) {
			return store.Welcome{}, false, err
		}
	}
	return t.WelcomeFor(ctx, "")
}

// Profile reads a new contact's profile (externalcontact/get): a member without a
// name takes the contact's, and the contact's unionid links identities as the
// tenant's rules say (LinkUnionID). It returns the member the contact is now.
// A tenant whose integration has no app secret reads nothing.
func (s *Syncer) Profile(ctx context.Context, t *store.Tenant, integrationID, memberID, externalUserID string, now time.Time) (string, error) {
	cl, _, err := s.clients.For(ctx, t, integrationID)
	if problem.Is(err, problem.Invalid) {
		return memberID, nil
	}
	if err != nil {
		return memberID, err
	}
	p, err := cl.GetExternalContact(ctx, externalUserID)
	if err != nil {
		return memberID, err
	}
	if m, err := t.Member(ctx, memberID); err != nil {
		return memberID, err
	} else if p.Name != "" && m.Name == "" {
		if _, err := t.UpdateMember(ctx, memberID, func(m *store.Member) error {
			if m.Name == "" {
				m.Name = p.Name
			}
			return nil
		}); err != nil && !problem.Is(err, problem.Conflict) {
			return memberID, err
		}
	}
	return LinkUnionID(ctx, t, memberID, p.UnionID, now)
}
