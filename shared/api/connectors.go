package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// connectorView is a connector as the API shows it: the URL redacted (it carries the
// platform's token) and the secret never, not even at creation.
type connectorView struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Kind      connector.Kind `json:"kind"`
	URL       string         `json:"url"`
	HasSecret bool           `json:"has_secret"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

func viewConnector(c store.Connector) connectorView {
	return connectorView{ID: c.ID, Name: c.Name, Kind: c.Kind, URL: connector.Redact(c.URL), HasSecret: c.Secret != "",
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

type connectorIn struct {
	Name   *string `json:"name"`
	Kind   *string `json:"kind"`
	URL    *string `json:"url"`
	Secret *string `json:"secret"`
}

// signedKinds are the kinds whose connectors may have a signing secret.
var signedKinds = map[connector.Kind]bool{connector.Feishu: true, connector.DingTalk: true, connector.Generic: true}

func (in connectorIn) apply(c *store.Connector) error {
	if in.Name != nil {
		n, err := validName("name", *in.Name, 200)
		if err != nil {
			return err
		}
		c.Name = n
	}
	if in.Kind != nil {
		c.Kind = connector.Kind(*in.Kind)
	}
	if in.URL != nil {
		if len(*in.URL) > 2048 {
			return problem.Field("url", "url is at most 2048 characters")
		}
		c.URL = strings.TrimSpace(*in.URL)
	}
	if in.Secret != nil {
		if len(*in.Secret) > 512 {
			return problem.Field("secret", "secret is at most 512 characters")
		}
		c.Secret = *in.Secret
	}
	return validConnector(*c)
}

// validConnector checks the connector as the sender will: the platform's documented
// host, path and token for platform kinds, a public https host and a secret for
// generic.
func validConnector(c store.Connector) error {
	if c.Name == "" {
		return problem.Field("name", "name is required")
	}
	if c.Secret != "" && !signedKinds[c.Kind] {
		return problem.Field("secret", "only feishu, dingtalk and generic connectors have a signing secret")
	}
	// The connector package names the field (kind, url or secret) and never quotes
	// the URL in its reasons.
	return problem.FromFields(c.Config().Validate(), "")
}

func (s *Server) createConnector(w http.ResponseWriter, r *http.Request, c *call) error {
	var in connectorIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Kind == nil {
		return problem.Field("kind", "kind is required")
	}
	if in.URL == nil {
		return problem.Field("url", "url is required")
	}
	var con store.Connector
	if err := in.apply(&con); err != nil {
		return err
	}
	con, err := c.tenant.CreateConnector(r.Context(), con)
	if err != nil {
		return err
	}
	c.log.InfoContext(r.Context(), "connector created", "connector", con.ID, "kind", con.Kind)
	w.Header().Set("Location", "/v1/connectors/"+con.ID)
	return writeJSON(w, http.StatusCreated, viewConnector(con))
}

func (s *Server) listConnectors(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	page, err := c.tenant.Connectors(r.Context(), limit, cursor)
	if err != nil {
		return err
	}
	out := store.Page[connectorView]{Items: make([]connectorView, len(page.Items)), NextCursor: page.NextCursor}
	for i, con := range page.Items {
		out.Items[i] = viewConnector(con)
	}
	return writeJSON(w, http.StatusOK, listOf(out))
}

func (s *Server) getConnector(w http.ResponseWriter, r *http.Request, c *call) error {
	con, err := c.tenant.Connector(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewConnector(con))
}

func (s *Server) updateConnector(w http.ResponseWriter, r *http.Request, c *call) error {
	id := r.PathValue("id")
	if !ids.Valid(store.ConnectorPrefix, id) {
		return problem.New(problem.NotFound, "connector not found")
	}
	var in connectorIn
	if err := decode(r, &in); err != nil {
		return err
	}
	con, err := c.tenant.UpdateConnector(r.Context(), id, in.apply)
	if err != nil {
		return err
	}
	c.log.InfoContext(r.Context(), "connector updated", "connector", con.ID, "kind", con.Kind)
	return writeJSON(w, http.StatusOK, viewConnector(con))
}

func (s *Server) deleteConnector(w http.ResponseWriter, r *http.Request, c *call) error {
	id := r.PathValue("id")
	if err := c.tenant.DeleteConnector(r.Context(), id); err != nil {
		return err
	}
	c.log.InfoContext(r.Context(), "connector deleted", "connector", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	var f store.DeliveryFilter
	if v := r.URL.Query().Get("connector_id"); v != "" {
		if !ids.Valid(store.ConnectorPrefix, v) {
			return problem.Field("connector_id", "connector_id is not a connector id")
		}
		f.ConnectorID = v
	}
	page, err := c.tenant.Deliveries(r.Context(), f, limit, cursor)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(page))
}

// Broadcast limits.
const (
	maxBroadcastGroups = 200
	// broadcastWorkers bounds the sends in flight: chat platforms rate-limit per
	// robot, and a tenant's groups often share one.
	broadcastWorkers = 8
	// broadcastBudget leaves the function's 60 s timeout room to answer: groups
	// not reached by then are reported failed.
	broadcastBudget = 45 * time.Second
)

// Broadcast outcomes per group.
const (
	broadcastSkipped = "skipped"
)

type broadcastIn struct {
	GroupIDs []string `json:"group_ids"`
	Text     string   `json:"text"`
	Markdown string   `json:"markdown"`
	Title    string   `json:"title"`
}

type broadcastResult struct {
	GroupID    string `json:"group_id"`
	Status     string `json:"status"`
	Reason     string `json:"reason,omitempty"`
	DeliveryID string `json:"delivery_id,omitempty"`
}

type broadcastOut struct {
	ID        string            `json:"id"`
	Delivered int               `json:"delivered"`
	Failed    int               `json:"failed"`
	Skipped   int               `json:"skipped"`
	Results   []broadcastResult `json:"results"`
}

func (in broadcastIn) validate() error {
	switch {
	case len(in.GroupIDs) == 0 || len(in.GroupIDs) > maxBroadcastGroups:
		return problem.Field("group_ids", "group_ids holds 1 to %d group ids", maxBroadcastGroups)
	case strings.TrimSpace(in.Text) == "" && strings.TrimSpace(in.Markdown) == "":
		return problem.Field("text", "text or markdown is required")
	case len(in.Text)+len(in.Markdown)+len(in.Title) > 20<<10:
		return problem.Field("text", "text, markdown and title are at most 20 KiB together")
	case len(in.Title) > 200:
		return problem.Field("title", "title is at most 200 bytes")
	}
	seen := make(map[string]bool, len(in.GroupIDs))
	for _, id := range in.GroupIDs {
		if id == "" || len(id) > 64 {
			return problem.Field("group_ids", "group_ids holds group ids")
		}
		if seen[id] {
			return problem.Field("group_ids", "group %s is listed twice", id)
		}
		seen[id] = true
	}
	return nil
}

// createBroadcast sends one message to many groups (多群转播), each through its own
// connector, and answers with each group's outcome. A group that is archived, has no
// connector or does not exist is skipped; a send that fails is failed, with the
// sender's (redacted) reason. Each delivery's ref is the broadcast's id.
func (s *Server) createBroadcast(w http.ResponseWriter, r *http.Request, c *call) error {
	var in broadcastIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), broadcastBudget)
	defer cancel()
	out := broadcastOut{ID: ids.New("bc"), Results: make([]broadcastResult, len(in.GroupIDs))}
	msg := connector.Message{Text: in.Text, Markdown: in.Markdown, Title: in.Title}
	log := c.log.With("broadcast", out.ID)

	// The groups first, then their connectors once each, then the sends.
	groups := make([]store.Group, len(in.GroupIDs))
	err := broadcastEach(len(in.GroupIDs), func(i int) error {
		out.Results[i].GroupID = in.GroupIDs[i]
		g, err := c.tenant.Group(ctx, in.GroupIDs[i])
		switch {
		case problem.Is(err, problem.NotFound):
			out.Results[i].Status, out.Results[i].Reason = broadcastSkipped, "not found"
		case err != nil:
			return fmt.Errorf("broadcast: group %s: %w", in.GroupIDs[i], err)
		case g.Status == store.GroupArchived:
			out.Results[i].Status, out.Results[i].Reason = broadcastSkipped, "group is archived"
		case g.ConnectorID == "":
			out.Results[i].Status, out.Results[i].Reason = broadcastSkipped, "group has no connector"
		}
		groups[i] = g
		return nil
	})
	if err != nil {
		return err
	}
	cons := map[string]*store.Connector{}
	for i, g := range groups {
		if out.Results[i].Status != "" {
			continue
		}
		if _, ok := cons[g.ConnectorID]; !ok {
			con, err := c.tenant.Connector(ctx, g.ConnectorID)
			switch {
			case problem.Is(err, problem.NotFound):
				cons[g.ConnectorID] = nil
			case err != nil:
				return fmt.Errorf("broadcast: connector %s: %w", g.ConnectorID, err)
			default:
				cons[g.ConnectorID] = &con
			}
		}
		if cons[g.ConnectorID] == nil {
			out.Results[i].Status, out.Results[i].Reason = broadcastSkipped, "the group's connector does not exist"
		}
	}
	_ = broadcastEach(len(groups), func(i int) error {
		res := &out.Results[i]
		if res.Status != "" {
			return nil
		}
		if ctx.Err() != nil {
			res.Status, res.Reason = store.DeliveryFailed, "the broadcast ran out of time before this group; send to it again"
			return nil
		}
		d, err := s.delivery.SendVia(ctx, c.tenant, *cons[groups[i].ConnectorID], "group:"+groups[i].ID, out.ID, msg)
		res.Status, res.DeliveryID = d.Status, d.ID
		if err != nil {
			res.Status, res.Reason = store.DeliveryFailed, d.Error
			if d.Error == "" {
				res.Reason = "send failed"
			}
		}
		return nil
	})
	for _, res := range out.Results {
		switch res.Status {
		case store.DeliveryDelivered:
			out.Delivered++
		case store.DeliveryFailed:
			out.Failed++
		default:
			out.Skipped++
		}
	}
	log.InfoContext(r.Context(), "broadcast", "groups", len(out.Results), "delivered", out.Delivered, "failed", out.Failed, "skipped", out.Skipped)
	return writeJSON(w, http.StatusOK, out)
}

// broadcastEach runs fn for 0..n-1, broadcastWorkers at a time, and returns the first
// error; items not started when one fails are not run.
func broadcastEach(n int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, broadcastWorkers)
	for i := 0; i < n; i++ {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}
