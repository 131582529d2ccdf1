package api

import (
	"net/http"
	"strings"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/ratelimit"
	"github.com/tribehq/tribe/shared/store"
)

// iso4217 lists the active ISO 4217 currency codes Tribe accepts.
const iso4217 = "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG"

func validCurrency(c string) bool {
	return len(c) == 3 && strings.Contains(" "+iso4217+" ", " "+c+" ")
}

type tenantCreated struct {
	Tenant store.TenantInfo `json:"tenant"`
	APIKey keyCreated       `json:"api_key"`
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Name     string `json:"name"`
		Timezone string `json:"timezone"`
		Currency string `json:"currency"`
		planChange
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
		Lifecycle: store.DefaultLifecycle, CreatedAt: now, UpdatedAt: now, Plan: ratelimit.DefaultPlan,
	}
	if err := in.apply(&info); err != nil { // ratelimit.go
		return err
	}
	key := s.newKey(info.ID, info.Currency, "first admin key", []catalogue.Scope{catalogue.ScopeAdmin})
	if err := s.store.CreateTenant(r.Context(), info, key.APIKey); err != nil {
		return err
	}
	c.note("event", "tenant created", "tenant", info.ID)
	c.secret("api_key.key")
	return writeJSON(w, http.StatusCreated, tenantCreated{Tenant: info, APIKey: key})
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request, c *call) error {
	return listPage(w, r, idCursor(ids.Tenant, s.store.ListTenants))
}
