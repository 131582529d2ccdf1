package api

import (
	"net/http"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

func (s *Server) createChannel(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Name string `json:"name"`
		Code string `json:"code"`
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
	ch, err := c.tenant.CreateChannel(r.Context(), store.Channel{ID: ids.New(store.ChannelPrefix), Name: name, Code: in.Code, CreatedAt: s.store.Now()})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/channels/"+ch.ID)
	return writeJSON(w, http.StatusCreated, ch)
}

func channelID(r *http.Request) (string, error) {
	return pathID(r, "id", store.ChannelPrefix, "channel")
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request, c *call) error {
	return byPathID(w, r, channelID, c.tenant.Channel)
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
	days, err := c.tenant.ChannelStats(r.Context(), id, from, to)
	if err != nil {
		return err
	}
	// Scans are the landing-page views the channel's links brought (scans.go).
	scans, err := c.tenant.ScanDays(r.Context(), id, from, to)
	if err != nil {
		return err
	}
	days = withScans(days, scans)
	return writeJSON(w, http.StatusOK, listOf(store.Page[store.ChannelDay]{Items: days}))
}
