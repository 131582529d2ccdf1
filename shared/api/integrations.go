package api

import (
	"net/http"

	"github.com/tribehq/tribe/shared/chat/wecom"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/webhook"
)

// integrationView is an integration as the API shows it: never its secret, except
// once, at creation.
type integrationView struct {
	store.Integration
	WebhookURL string `json:"webhook_url"`
	Secret     string `json:"secret,omitempty"`
	CorpID     string `json:"corp_id,omitempty"`
	// APIEnabled: the WeCom integration holds its app's corp_secret, so Tribe
	// calls WeCom's API with it (shared/wecom).
	APIEnabled bool `json:"api_enabled,omitempty"`
}

func (s *Server) webhookURL(r *http.Request, in store.Integration) string {
	return s.publicURL(r, "/v1/webhooks/"+in.Provider+"/"+in.ID)
}

func (s *Server) viewOf(r *http.Request, ig store.Integration) integrationView {
	return integrationView{Integration: ig, WebhookURL: s.webhookURL(r, ig), CorpID: ig.Settings["corp_id"],
		APIEnabled: ig.Settings["api_enabled"] == "true"}
}

func isLocal(host string) bool {
	for _, p := range []string{"127.0.0.1", "localhost", "[::1]"} {
		if host == p || len(host) > len(p) && host[:len(p)+1] == p+":" {
			return true
		}
	}
	return false
}

func (s *Server) createIntegration(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Provider string `json:"provider"`
		Name     string `json:"name"`
		Secret   string `json:"secret"`
		ClientID string `json:"client_id"`
		// WeCom's callback settings.
		Token          string `json:"token"`
		EncodingAESKey string `json:"encoding_aes_key"`
		CorpID         string `json:"corp_id"`
		// CorpSecret is the self-built app's secret (客户联系 permission), for
		// Tribe's calls to WeCom's API; optional.
		CorpSecret string `json:"corp_secret"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	var settings map[string]string
	switch _, shop := webhook.Lookup(in.Provider); {
	case in.Provider == providerWeCom:
		if _, err := wecom.NewCrypter(in.Token, in.EncodingAESKey, in.CorpID); err != nil || in.CorpID == "" {
			return problem.Field("encoding_aes_key", "wecom needs token, encoding_aes_key (43 characters) and corp_id from the app's callback settings")
		}
		settings = map[string]string{"token": in.Token, "encoding_aes_key": in.EncodingAESKey, "corp_id": in.CorpID}
		if in.CorpSecret != "" {
			if err := validCorpSecret(in.CorpSecret); err != nil {
				return err
			}
			settings["corp_secret"], settings["api_enabled"] = in.CorpSecret, "true"
		}
		in.Secret = "wecom:" + in.Token
	case in.Provider == providerChat || (shop && in.Provider == "generic"):
		if in.Secret == "" {
			in.Secret = "whsec_" + ids.Random(40)
		}
	case in.CorpSecret != "":
		return problem.Field("corp_secret", "corp_secret is for wecom integrations only")
	case !shop:
		return problem.Field("provider", "provider is one of %v, wecom or chat", webhook.Names())
	}
	if len(in.Secret) < 8 || len(in.Secret) > 512 {
		return problem.Field("secret", "secret is the platform's signing secret (8 to 512 characters)")
	}
	if in.Provider == "youzan" && in.ClientID == "" {
		return problem.Field("client_id", "youzan needs the app's client_id: its signatures include it")
	}
	if len(in.Name) > 200 {
		return problem.Field("name", "name is at most 200 characters")
	}
	if len(in.ClientID) > 200 {
		return problem.Field("client_id", "client_id is at most 200 characters")
	}
	ig := store.Integration{ID: store.NewIntegrationID(c.tenant.ID()), Provider: in.Provider, Name: normalizeSpace(in.Name),
		ClientID: in.ClientID, Secret: in.Secret, CreatedAt: s.store.Now(), Settings: settings}
	if err := c.tenant.CreateIntegration(r.Context(), ig); err != nil {
		return err
	}
	c.note("event", "integration created", "integration", ig.ID, "provider", ig.Provider)
	w.Header().Set("Location", "/v1/integrations/"+ig.ID)
	view := s.viewOf(r, ig)
	view.Secret = ig.Secret
	c.secret("secret")
	if ig.Provider == providerWeCom {
		view.Secret = "" // WeCom's token and key were the tenant's to begin with
	}
	return writeJSON(w, http.StatusCreated, view)
}

func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request, c *call) error {
	list, err := c.tenant.Integrations(r.Context())
	if err != nil {
		return err
	}
	out := make([]integrationView, len(list))
	for i, ig := range list {
		out[i] = s.viewOf(r, ig)
	}
	return writeJSON(w, http.StatusOK, listOf(store.Page[integrationView]{Items: out}))
}

func integrationID(r *http.Request, name string) (string, string, error) {
	id := r.PathValue(name)
	tenantID, ok := store.TenantOfIntegration(id)
	if !ok {
		return "", "", problem.New(problem.NotFound, "integration not found")
	}
	return id, tenantID, nil
}

func (s *Server) getIntegration(w http.ResponseWriter, r *http.Request, c *call) error {
	id, tenantID, err := integrationID(r, "id")
	if err != nil || tenantID != c.tenant.ID() {
		return problem.New(problem.NotFound, "integration not found")
	}
	ig, err := c.tenant.Integration(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.viewOf(r, ig))
}

func (s *Server) deleteIntegration(w http.ResponseWriter, r *http.Request, c *call) error {
	id, tenantID, err := integrationID(r, "id")
	if err != nil || tenantID != c.tenant.ID() {
		return problem.New(problem.NotFound, "integration not found")
	}
	if err := c.tenant.DeleteIntegration(r.Context(), id); err != nil {
		return err
	}
	s.integrations.Delete(id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// resealSecrets is the one-off migration of the tenant's secrets written before
// sealing existed (store.ResealSecrets): it runs in this function because this
// function may seal. Idempotent; a rerun rewrites nothing.
func (s *Server) resealSecrets(w http.ResponseWriter, r *http.Request, c *call) error {
	n, err := c.tenant.ResealSecrets(r.Context())
	if err != nil {
		return err
	}
	c.note("event", "secrets resealed", "integrations", n.Integrations, "connectors", n.Connectors)
	return writeJSON(w, http.StatusOK, map[string]int{"integrations": n.Integrations, "connectors": n.Connectors})
}

func validCorpSecret(s string) error {
	if len(s) < 8 || len(s) > 256 || normalizeSpace(s) != s {
		return problem.Field("corp_secret", "corp_secret is the WeCom app's secret (8 to 256 characters, no spaces)")
	}
	return nil
}

// updateIntegration sets a WeCom integration's app secret (corp_secret), sealed
// like every secret; null or "" removes it and with it Tribe's calls to WeCom.
func (s *Server) updateIntegration(w http.ResponseWriter, r *http.Request, c *call) error {
	id, tenantID, err := integrationID(r, "id")
	if err != nil || tenantID != c.tenant.ID() {
		return problem.New(problem.NotFound, "integration not found")
	}
	var in struct {
		CorpSecret *string `json:"corp_secret"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	cur, err := c.tenant.Integration(r.Context(), id)
	if err != nil {
		return err
	}
	if cur.Provider != providerWeCom {
		return problem.Field("corp_secret", "corp_secret is for wecom integrations only")
	}
	kv := map[string]string{"corp_secret": "", "api_enabled": ""}
	if in.CorpSecret != nil && *in.CorpSecret != "" {
		if err := validCorpSecret(*in.CorpSecret); err != nil {
			return err
		}
		kv["corp_secret"], kv["api_enabled"] = *in.CorpSecret, "true"
	}
	ig, err := c.tenant.SetIntegrationSettings(r.Context(), id, kv)
	if err != nil {
		return err
	}
	s.integrations.Delete(id)
	return writeJSON(w, http.StatusOK, s.viewOf(r, ig))
}
