package api

import (
	"net/http"
	"time"

	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

func validTimezone(tz string) error {
	if tz == "" || tz == "Local" {
		return problem.Field("timezone", "timezone must be an IANA time zone such as Asia/Shanghai")
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return problem.Field("timezone", "unknown time zone %q; use an IANA name such as Asia/Shanghai", tz)
	}
	return nil
}

type keyCreated struct {
	store.APIKey
	// Key is shown here once and never again.
	Key string `json:"key"`
}

func (s *Server) newKey(tenantID, currency, name string, scopes []catalogue.Scope) keyCreated {
	key, hash := auth.NewKey(tenantID)
	return keyCreated{
		APIKey: store.APIKey{
			ID: ids.New(ids.APIKey), Name: name, Scopes: scopes,
			Prefix: key[:len(auth.KeyPrefix)+len(tenantID)+5], CreatedAt: s.store.Now(), Hash: hash,
			Currency: currency,
		},
		Key: key,
	}
}

func (s *Server) getTenant(w http.ResponseWriter, r *http.Request, c *call) error {
	info, err := c.tenant.Info(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}

func (s *Server) updateTenant(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Name      *string          `json:"name"`
		Timezone  *string          `json:"timezone"`
		Lifecycle *store.Lifecycle `json:"lifecycle"`
		// stats.go: the points ROI's point value and the morning report's connector.
		PointValue             *string `json:"point_value"`
		MorningReportConnector *string `json:"morning_report_connector"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := checkStatsSettings(r, c, in.PointValue, in.MorningReportConnector); err != nil {
		return err
	}
	info, err := c.tenant.UpdateInfo(r.Context(), func(t *store.TenantInfo) error {
		if in.Name != nil {
			name, err := validName("name", *in.Name, 200)
			if err != nil {
				return err
			}
			t.Name = name
		}
		if in.Timezone != nil {
			if err := validTimezone(*in.Timezone); err != nil {
				return err
			}
			t.Timezone = *in.Timezone
		}
		if l := in.Lifecycle; l != nil {
			if l.NewForDays < 1 || l.SilentAfterDays < 1 || l.ChurnedAfterDays <= l.SilentAfterDays || l.ChurnedAfterDays > 3650 {
				return problem.Field("lifecycle", "need 1 <= new_for_days, 1 <= silent_after_days < churned_after_days <= 3650")
			}
			t.Lifecycle = *l
		}
		if in.PointValue != nil {
			t.PointValue = *in.PointValue
		}
		if in.MorningReportConnector != nil {
			t.MorningReportConnector = *in.MorningReportConnector
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Name   string            `json:"name"`
		Scopes []catalogue.Scope `json:"scopes"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	name, err := validName("name", in.Name, 100)
	if err != nil {
		return err
	}
	if len(in.Scopes) == 0 {
		return problem.Field("scopes", "scopes is required: any of admin, write, read")
	}
	seen := map[catalogue.Scope]bool{}
	var scopes []catalogue.Scope
	for _, sc := range in.Scopes {
		switch sc {
		case catalogue.ScopeAdmin, catalogue.ScopeWrite, catalogue.ScopeRead:
		default:
			return problem.Field("scopes", "unknown scope %q: use admin, write or read", sc)
		}
		if !seen[sc] {
			seen[sc] = true
			scopes = append(scopes, sc)
		}
	}
	key := s.newKey(c.tenant.ID(), c.principal.Currency, name, scopes)
	if err := c.tenant.CreateKey(r.Context(), key.APIKey); err != nil {
		return err
	}
	c.note("event", "api key created", "key_id", key.ID)
	c.secret("key")
	return writeJSON(w, http.StatusCreated, key)
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request, c *call) error {
	keys, err := c.tenant.ListKeys(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(store.Page[store.APIKey]{Items: keys}))
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id", ids.APIKey, "api key")
	if err != nil {
		return err
	}
	k, err := c.tenant.RevokeKey(r.Context(), id)
	if err != nil {
		return err
	}
	c.note("event", "api key revoked", "key_id", id)
	return writeJSON(w, http.StatusOK, k)
}
