package api

import (
	"crypto/sha256"
	"net/http"
	"strings"
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
	c.note("event", "connector created", "connector", con.ID, "kind", con.Kind)
	w.Header().Set("Location", "/v1/connectors/"+con.ID)
	return writeJSON(w, http.StatusCreated, viewConnector(con))
}

func (s *Server) listConnectors(w http.ResponseWriter, r *http.Request, c *call) error {
	return listView(w, r, c.tenant.Connectors, viewConnector)
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
	c.note("event", "connector updated", "connector", con.ID, "kind", con.Kind)
	return writeJSON(w, http.StatusOK, viewConnector(con))
}

func (s *Server) deleteConnector(w http.ResponseWriter, r *http.Request, c *call) error {
	id := r.PathValue("id")
	if err := c.tenant.DeleteConnector(r.Context(), id); err != nil {
		return err
	}
	c.note("event", "connector deleted", "connector", id)
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

type broadcastIn struct {
	GroupIDs []string `json:"group_ids"`
	Text     string   `json:"text"`
	Markdown string   `json:"markdown"`
	Title    string   `json:"title"`
}

// broadcastOut is a broadcast and where it stands: running until every group's
// task is delivered, failed or skipped.
type broadcastOut struct {
	ID        string                `json:"id"`
	Status    string                `json:"status"`
	CreatedAt time.Time             `json:"created_at"`
	Pending   int                   `json:"pending"`
	Delivered int                   `json:"delivered"`
	Failed    int                   `json:"failed"`
	Skipped   int                   `json:"skipped"`
	Results   []store.BroadcastTask `json:"results"`
}

// Broadcast statuses.
const (
	broadcastRunning = "running"
	broadcastDone    = "done"
)

func broadcastView(b store.Broadcast, tasks []store.BroadcastTask) broadcastOut {
	out := broadcastOut{ID: b.ID, Status: broadcastDone, CreatedAt: b.CreatedAt, Results: tasks}
	for _, task := range tasks {
		switch task.Status {
		case store.DeliveryDelivered:
			out.Delivered++
		case store.DeliveryFailed:
			out.Failed++
		case store.BroadcastSkipped:
			out.Skipped++
		default:
			out.Pending++
			out.Status = broadcastRunning
		}
	}
	return out
}

func (in broadcastIn) validate() error {
	switch {
	case len(in.GroupIDs) == 0 || len(in.GroupIDs) > store.MaxBroadcastGroups:
		return problem.Field("group_ids", "group_ids holds 1 to %d group ids", store.MaxBroadcastGroups)
	case strings.TrimSpace(in.Text) == "" && strings.TrimSpace(in.Markdown) == "":
		return problem.Field("text", "text or markdown is required")
	case len(in.Text)+len(in.Markdown)+len(in.Title) > 20<<10:
		return problem.Field("text", "text, markdown and title are at most 20 KiB together")
	case len(in.Title) > 200:
		return problem.Field("title", "title is at most 200 bytes")
	}
	seen := make(map[string]bool, len(in.GroupIDs))
	for _, id := range in.GroupIDs {
		if !store.ValidGroupID(id) {
			return problem.Field("group_ids", "%q is not a group id", id)
		}
		if seen[id] {
			return problem.Field("group_ids", "group %s is listed twice", id)
		}
		seen[id] = true
	}
	return nil
}

// createBroadcast accepts one message for many groups (多群转播) and answers 202
// with the broadcast's id at once: the broadcast and one task per group are stored,
// and the broadcasts consumer sends each group's share off the table's stream,
// through the group's own connector, exactly once. GET /v1/broadcasts/{id} tells
// how it went. With an Idempotency-Key the id is derived from the key, so a retry
// that takes over a request cut off half-way completes the same broadcast.
func (s *Server) createBroadcast(w http.ResponseWriter, r *http.Request, c *call) error {
	var in broadcastIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	id := ids.New(store.BroadcastPrefix)
	if c.idemKey != "" {
		sum := sha256.Sum256([]byte(c.tenant.ID() + "\n" + c.idemKey))
		id = ids.FromHash(store.BroadcastPrefix, sum[:])
	}
	b := store.Broadcast{ID: id, GroupIDs: in.GroupIDs, Text: in.Text, Markdown: in.Markdown, Title: in.Title, CreatedAt: s.store.Now()}
	if !c.idemAt.IsZero() {
		b.CreatedAt = c.idemAt
	}
	if _, err := c.tenant.CreateBroadcast(r.Context(), b); err != nil {
		return err
	}
	c.note("event", "broadcast accepted", "broadcast", b.ID, "groups", len(b.GroupIDs))
	tasks := make([]store.BroadcastTask, len(b.GroupIDs))
	for i, g := range b.GroupIDs {
		tasks[i] = store.BroadcastTask{GroupID: g, Status: store.BroadcastPending, UpdatedAt: b.CreatedAt}
	}
	w.Header().Set("Location", "/v1/broadcasts/"+b.ID)
	return writeJSON(w, http.StatusAccepted, broadcastView(b, tasks))
}

// getBroadcast answers a broadcast's status and each group's outcome.
func (s *Server) getBroadcast(w http.ResponseWriter, r *http.Request, c *call) error {
	b, tasks, err := c.tenant.Broadcast(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, broadcastView(b, tasks))
}
