package api

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// iso4217 lists the active ISO 4217 currency codes Tribe accepts.
const iso4217 = "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG"

func validCurrency(c string) bool {
	return len(c) == 3 && strings.Contains(" "+iso4217+" ", " "+c+" ")
}

func validName(field, v string, max int) (string, error) {
	v = normalizeSpace(v)
	if v == "" {
		return "", problem.Field(field, "%s is required", field)
	}
	if utf8.RuneCountInString(v) > max {
		return "", problem.Field(field, "%s is at most %d characters", field, max)
	}
	return v, nil
}

func validTimezone(tz string) error {
	if tz == "" || tz == "Local" {
		return problem.Field("timezone", "timezone must be an IANA time zone such as Asia/Shanghai")
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return problem.Field("timezone", "unknown time zone %q; use an IANA name such as Asia/Shanghai", tz)
	}
	return nil
}

type tenantCreated struct {
	Tenant store.TenantInfo `json:"tenant"`
	APIKey keyCreated       `json:"api_key"`
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

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Name     string `json:"name"`
		Timezone string `json:"timezone"`
		Currency string `json:"currency"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	name, err := validName("name", in.Name, 200)
	if err != nil {
		return err
	}
	if err := validTimezone(in.Timezone); err != nil {
		return err
	}
	if !validCurrency(in.Currency) {
		return problem.Field("currency", "currency must be an ISO 4217 code such as CNY")
	}
	now := s.store.Now()
	info := store.TenantInfo{
		ID: ids.New(ids.Tenant), Name: name, Timezone: in.Timezone, Currency: in.Currency,
		Lifecycle: store.DefaultLifecycle, CreatedAt: now, UpdatedAt: now,
	}
	key := s.newKey(info.ID, info.Currency, "first admin key", []catalogue.Scope{catalogue.ScopeAdmin})
	if err := s.store.CreateTenant(r.Context(), info, key.APIKey); err != nil {
		return err
	}
	c.log.InfoContext(r.Context(), "tenant created", "tenant", info.ID)
	return writeJSON(w, http.StatusCreated, tenantCreated{Tenant: info, APIKey: key})
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	if cursor != "" && !ids.Valid(ids.Tenant, cursor) {
		return problem.Field("cursor", "cursor is not one this API returned")
	}
	page, err := s.store.ListTenants(r.Context(), limit, cursor)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(page))
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
	}
	if err := decode(r, &in); err != nil {
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
	c.log.InfoContext(r.Context(), "api key created", "key_id", key.ID)
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
	c.log.InfoContext(r.Context(), "api key revoked", "key_id", id)
	return writeJSON(w, http.StatusOK, k)
}
