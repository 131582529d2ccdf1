package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

func (s *Server) createChannel(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Name  string          `json:"name"`
		Code  string          `json:"code"`
		WeCom *channelWeComIn `json:"wecom"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	name, err := validName("name", in.Name, 100)
	if err != nil {
		return err
	}
	if !store.ValidChannelCode(in.Code) || len(in.Code) > 30 {
		return problem.Field("code", "code is 1-30 letters, digits, - or _ (WeCom's state parameter allows 30)")
	}
	if in.WeCom != nil {
		if err := in.WeCom.check(); err != nil {
			return err
		}
	}
	ch, err := c.tenant.CreateChannel(r.Context(), store.Channel{ID: ids.New(store.ChannelPrefix), Name: name, Code: in.Code, CreatedAt: s.store.Now()})
	if err != nil {
		return err
	}
	view := channelView{Channel: ch}
	if in.WeCom != nil {
		// The code is taken first, so two requests never make two contact ways
		// for one code; when WeCom refuses, the channel goes again.
		rec, err := s.addContactWay(r.Context(), c, ch, *in.WeCom)
		if err != nil {
			if derr := c.tenant.DeleteChannel(context.WithoutCancel(r.Context()), ch.ID); derr != nil {
				c.log.ErrorContext(r.Context(), "channel left without its contact way", "channel", ch.ID, "err", derr)
			}
			return err
		}
		view.WeCom = &rec
	}
	w.Header().Set("Location", "/v1/channels/"+ch.ID)
	return writeJSON(w, http.StatusCreated, view)
}

// updateChannel renames a channel and creates, changes or (wecom: null) deletes
// its WeCom contact way. The code stays: it is printed in QR codes.
func (s *Server) updateChannel(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	var in struct {
		Name  *string         `json:"name"`
		WeCom json.RawMessage `json:"wecom"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	ch, err := c.tenant.Channel(ctx, id)
	if err != nil {
		return err
	}
	if in.Name != nil {
		name, err := validName("name", *in.Name, 100)
		if err != nil {
			return err
		}
		if ch, err = c.tenant.UpdateChannel(ctx, id, name); err != nil {
			return err
		}
	}
	if len(in.WeCom) > 0 {
		cur, found, err := c.tenant.ChannelWeCom(ctx, id)
		if err != nil {
			return err
		}
		if string(in.WeCom) == "null" {
			if found {
				if err := s.deleteContactWay(ctx, c, id, cur); err != nil {
					return err
				}
			}
		} else {
			var wi channelWeComIn
			if err := decodeBytes(in.WeCom, &wi); err != nil {
				return problem.FromFields(err, "wecom.")
			}
			if err := wi.check(); err != nil {
				return err
			}
			if err := s.changeContactWay(ctx, c, ch, cur, found, wi); err != nil {
				return err
			}
		}
	}
	view, err := s.channelView(ctx, c.tenant, ch)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, view)
}

// changeContactWay gives a channel the contact way wi asks for: a new one, the
// same one changed, or, when it goes from one person to several or back (WeCom
// keeps a way's type), a new one, with a new QR code, in place of the old.
func (s *Server) changeContactWay(ctx context.Context, c *call, ch store.Channel, cur store.ChannelWeCom, found bool, wi channelWeComIn) error {
	if found && wi.IntegrationID != "" && wi.IntegrationID != cur.IntegrationID {
		return problem.Field("wecom.integration_id", "a contact way stays with its integration: set wecom to null first")
	}
	if found && wi.SkipVerify == nil {
		wi.SkipVerify = &cur.SkipVerify
	}
	if found && (len(wi.UserIDs) > 1) != (len(cur.UserIDs) > 1) {
		if err := s.deleteContactWay(ctx, c, ch.ID, cur); err != nil {
			return err
		}
		wi.IntegrationID, found = cur.IntegrationID, false
	}
	if !found {
		_, err := s.addContactWay(ctx, c, ch, wi)
		return err
	}
	cl, _, err := s.wecom.For(ctx, c.tenant, cur.IntegrationID)
	if err != nil {
		return err
	}
	if err := cl.UpdateContactWay(ctx, wi.way(ch, cur.ConfigID)); err != nil {
		return weComProblem(err)
	}
	cur.UserIDs, cur.SkipVerify = wi.UserIDs, *wi.SkipVerify
	return c.tenant.PutChannelWeCom(ctx, ch.ID, cur)
}

// deleteContactWay deletes a channel's contact way on WeCom, then its record.
func (s *Server) deleteContactWay(ctx context.Context, c *call, channelID string, cur store.ChannelWeCom) error {
	cl, _, err := s.wecom.For(ctx, c.tenant, cur.IntegrationID)
	if err != nil {
		return err
	}
	if err := cl.DelContactWay(ctx, cur.ConfigID); err != nil {
		return weComProblem(err)
	}
	return c.tenant.DeleteChannelWeCom(ctx, channelID)
}

// deleteChannel deletes a channel and its WeCom contact way (first, so a failure
// at WeCom leaves the channel as it was); its code is free again.
func (s *Server) deleteChannel(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := c.tenant.Channel(ctx, id); err != nil {
		return err
	}
	cur, found, err := c.tenant.ChannelWeCom(ctx, id)
	if err != nil {
		return err
	}
	if found && cur.ConfigID != "" {
		cl, _, err := s.wecom.For(ctx, c.tenant, cur.IntegrationID)
		if err != nil {
			return err
		}
		if err := cl.DelContactWay(ctx, cur.ConfigID); err != nil {
			return weComProblem(err)
		}
	}
	if err := c.tenant.DeleteChannel(ctx, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func channelID(r *http.Request) (string, error) {
	return pathID(r, "id", store.ChannelPrefix, "channel")
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request, c *call) error {
	return byPathID(w, r, channelID, func(ctx context.Context, id string) (channelView, error) {
		ch, err := c.tenant.Channel(ctx, id)
		if err != nil {
			return channelView{}, err
		}
		return s.channelView(ctx, c.tenant, ch)
	})
}

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request, c *call) error {
	return listPage(w, r, c.tenant.Channels)
}

// channelStats is the channel funnel (引流转换率): per day scans, members added,
// members who joined a group, first orders and GMV.
func (s *Server) channelStats(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	if _, err := c.tenant.Channel(r.Context(), id); err != nil {
		return err
	}
	from, to, err := s.localRange(r, c)
	if err != nil {
		return err
	}
	// The days carry the channel's scans (landing-page views its links brought)
	// from its sharded counters, as ScanDays would give them.
	days, err := c.tenant.ChannelStats(r.Context(), id, from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(store.Page[store.ChannelDay]{Items: days}))
}
