package api

import (
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tribehq/tribe/shared/attributes"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/referral"
	"github.com/tribehq/tribe/shared/store"
)

// Money is an amount in minor units of an ISO 4217 currency.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// memberView is a member as the API shows it.
type memberView struct {
	store.Member
	Spend Money `json:"spend"`
}

func view(m store.Member, currency string) memberView {
	if m.Tags == nil {
		m.Tags = []string{}
	}
	if m.Interests == nil {
		m.Interests = []string{}
	}
	if m.Attributes == nil {
		m.Attributes = map[string]any{}
	}
	return memberView{Member: m, Spend: Money{Amount: m.SpendMinor, Currency: currency}}
}

type identityIn struct {
	Provider   string `json:"provider"`
	ExternalID string `json:"external_id"`
}

var providerRe = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// validate checks an identity; prefix names where it sits in the request.
func (in identityIn) validate(prefix string) error {
	if !providerRe.MatchString(in.Provider) {
		return problem.Field(prefix+"provider", "provider is 1-32 characters of a-z, 0-9 and _ (e.g. shopify, wecom, phone)")
	}
	if in.ExternalID == "" || len(in.ExternalID) > 256 || strings.ContainsFunc(in.ExternalID, func(r rune) bool { return r < 0x20 }) {
		return problem.Field(prefix+"external_id", "external_id is 1-256 printable characters")
	}
	return nil
}

// memberFields are the fields a client may set, on create and (as pointers) patch.
type memberFields struct {
	Name         *string        `json:"name"`
	Email        *string        `json:"email"`
	Phone        *string        `json:"phone"`
	Gender       *string        `json:"gender"`
	Birthday     *string        `json:"birthday"`
	Region       *string        `json:"region"`
	Interests    *[]string      `json:"interests"`
	Tags         *[]string      `json:"tags"`
	Attributes   map[string]any `json:"attributes"`
	Channel      *string        `json:"channel"`
	ReferrerID   *string        `json:"referrer_id"`
	LastActiveAt *time.Time     `json:"last_active_at"`
	Stage        *string        `json:"stage"`
	// PhoneVerified says the tenant verified phone (an SMS code): it becomes the
	// member's phone identity, merging with the member that has it when the
	// identity rules say so (phonelink.go). It is not stored on the member.
	PhoneVerified *bool `json:"phone_verified"`
}

var emailRe = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
var phoneRe = regexp.MustCompile(`^\+?[0-9][0-9 \-]{4,31}$`)

// labelRe is compiled on first use: its Unicode classes take milliseconds and
// megabytes to compile, which every route function would pay at cold start.
var labelRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\p{L}\p{N}_\-:. ]{1,64}$`) })

func cleanList(field string, in []string, max int) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	for _, v := range in {
		v = normalizeSpace(v)
		if !labelRe().MatchString(v) {
			return nil, problem.Field(field, "each of %s is 1-64 letters, digits, spaces or _-:.", field)
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	if len(out) > max {
		return nil, problem.Field(field, "at most %d %s", max, field)
	}
	sort.Strings(out)
	return out, nil
}

// apply validates the fields present and sets them on m.
func (f memberFields) apply(m *store.Member) error {
	text := func(field string, v *string, max int, re *regexp.Regexp, dst *string) error {
		if v == nil {
			return nil
		}
		s := strings.TrimSpace(*v)
		if utf8.RuneCountInString(s) > max {
			return problem.Field(field, "%s is at most %d characters", field, max)
		}
		if s != "" && re != nil && !re.MatchString(s) {
			return problem.Field(field, "%s is not valid", field)
		}
		*dst = s
		return nil
	}
	for _, err := range []error{
		text("name", f.Name, 200, nil, &m.Name),
		text("email", f.Email, 254, emailRe, &m.Email),
		text("phone", f.Phone, 32, phoneRe, &m.Phone),
		text("region", f.Region, 100, nil, &m.Region),
		text("channel", f.Channel, 64, labelRe(), &m.Channel),
	} {
		if err != nil {
			return err
		}
	}
	if f.Gender != nil {
		switch *f.Gender {
		case "", "female", "male", "other", "unknown":
			m.Gender = *f.Gender
		default:
			return problem.Field("gender", "gender is female, male, other or unknown")
		}
	}
	if f.Birthday != nil {
		if err := validBirthday(*f.Birthday); err != nil {
			return err
		}
		m.Birthday = *f.Birthday
	}
	if f.ReferrerID != nil {
		if *f.ReferrerID != "" && !ids.Valid(ids.Member, *f.ReferrerID) {
			return problem.Field("referrer_id", "referrer_id is a member id")
		}
		if *f.ReferrerID == m.ID && m.ID != "" {
			return problem.Field("referrer_id", "a member cannot refer itself")
		}
		m.ReferrerID = *f.ReferrerID
	}
	if f.Interests != nil {
		v, err := cleanList("interests", *f.Interests, 50)
		if err != nil {
			return err
		}
		m.Interests = v
	}
	if f.Tags != nil {
		v, err := cleanList("tags", *f.Tags, 100)
		if err != nil {
			return err
		}
		m.Tags = v
	}
	if f.Attributes != nil {
		if m.Attributes == nil {
			m.Attributes = map[string]any{}
		}
		for k, v := range f.Attributes {
			if !labelRe().MatchString(k) {
				return problem.Field("attributes", "attribute names are 1-64 letters, digits or _-:.")
			}
			if v == nil {
				delete(m.Attributes, k)
				continue
			}
			m.Attributes[k] = v
		}
		if len(m.Attributes) > 100 {
			return problem.Field("attributes", "at most 100 attributes")
		}
		if err := attributes.Check(f.Attributes); err != nil {
			return problem.FromFields(err, "attributes")
		}
		if fe := (*problem.FieldError)(nil); errors.As(attributes.CheckSize(m.Attributes), &fe) {
			return &problem.Error{Code: problem.TooLarge, Field: "attributes", Message: fe.Reason, Err: fe}
		}
	}
	if f.LastActiveAt != nil {
		t := f.LastActiveAt.UTC()
		m.LastActiveAt = &t
	}
	if f.Stage != nil {
		switch *f.Stage {
		case store.StageNew, store.StageActive, store.StageSilent, store.StageChurned, store.StageWonBack:
			m.Stage = *f.Stage
		default:
			return problem.Field("stage", "stage is new, active, silent, churned or won_back")
		}
	}
	return nil
}

// validBirthday accepts "" (none), a date YYYY-MM-DD from 1900 to today, or a
// month and day MM-DD (02-29 included) when the year is not known.
func validBirthday(b string) error {
	if b == "" {
		return nil
	}
	if len(b) == len("01-02") {
		// 2000 is a leap year: every month-day there is, 02-29 included.
		if _, err := time.Parse(time.DateOnly, "2000-"+b); err == nil {
			return nil
		}
		return problem.Field("birthday", "birthday is a date YYYY-MM-DD or a month and day MM-DD")
	}
	d, err := time.Parse(time.DateOnly, b)
	if err != nil {
		return problem.Field("birthday", "birthday is a date YYYY-MM-DD or a month and day MM-DD")
	}
	if d.Year() < 1900 || d.After(time.Now().AddDate(0, 0, 1)) {
		return problem.Field("birthday", "birthday is between 1900 and today")
	}
	return nil
}

type memberCreate struct {
	memberFields
	// ReferralCode is the invite code the member came with; the referral consumer
	// attributes them to its holder (first touch).
	ReferralCode *string      `json:"referral_code"`
	JoinedAt     *time.Time   `json:"joined_at"`
	Identities   []identityIn `json:"identities"`
}

func (s *Server) createMember(w http.ResponseWriter, r *http.Request, c *call) error {
	c.personal("member", "") // personal.go
	var in memberCreate
	if err := decode(r, &in); err != nil {
		return err
	}
	now := s.store.Now()
	m := store.Member{
		ID: ids.New(ids.Member), Stage: store.StageNew, Status: store.StatusActive,
		JoinedAt: now, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	if err := in.memberFields.apply(&m); err != nil {
		return err
	}
	verified, err := in.phoneVerified(m)
	if err != nil {
		return err
	}
	created := m.ID
	if in.ReferralCode != nil && *in.ReferralCode != "" {
		referrer, _, err := referral.ReferrerOf(r.Context(), c.tenant, "referral_code", *in.ReferralCode)
		if err != nil {
			return err
		}
		m.ReferrerID = referrer
	}
	if in.JoinedAt != nil {
		if in.JoinedAt.After(now.Add(time.Minute)) {
			return problem.Field("joined_at", "joined_at cannot be in the future")
		}
		m.JoinedAt = in.JoinedAt.UTC()
	}
	idents := make([]store.Identity, 0, len(in.Identities))
	seen := map[string]bool{}
	for i, id := range in.Identities {
		if err := id.validate("identities[" + strconv.Itoa(i) + "]."); err != nil {
			return err
		}
		k := id.Provider + "\x00" + id.ExternalID
		if seen[k] {
			continue
		}
		seen[k] = true
		idents = append(idents, store.Identity{Provider: id.Provider, ExternalID: id.ExternalID, MemberID: m.ID, CreatedAt: now})
	}
	if err := c.tenant.CreateMember(r.Context(), m, idents); err != nil {
		return err
	}
	c.personal("member", m.ID)
	c.note("event", "member created", "member", m.ID)
	s.completeProfile(r.Context(), c, m)
	status := http.StatusCreated
	if verified {
		if m, err = s.linkVerifiedPhone(r, c, m); err != nil {
			return err
		}
		if m.ID != created {
			// The person was a member already: the new one was merged into it.
			c.personal("member", m.ID)
			status = http.StatusOK
		}
	}
	w.Header().Set("Location", "/v1/members/"+m.ID)
	return writeJSON(w, status, view(m, c.principal.Currency))
}

// memberID reads the {id} path value; a malformed id is simply not found.
func memberID(r *http.Request) (string, error) { return pathID(r, "id", ids.Member, "member") }

func (s *Server) getMember(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := memberID(r)
	if err != nil {
		return err
	}
	m, err := c.tenant.Member(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, view(m, c.principal.Currency))
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.MemberFilter{Tag: q.Get("tag"), Tier: q.Get("tier"), Stage: q.Get("stage"), Channel: q.Get("channel")}
	for name, v := range map[string]string{"tag": f.Tag, "tier": f.Tier, "stage": f.Stage, "channel": f.Channel} {
		if v != "" && !labelRe().MatchString(v) {
			return problem.Field(name, "%s is 1-64 letters, digits, spaces or _-:.", name)
		}
	}
	if f.RFM = q.Get("rfm"); f.RFM != "" && !store.ValidRFMPattern(f.RFM) {
		return problem.Field("rfm", "rfm is three RFM scores 1-5 or * each, e.g. 5** or 545")
	}
	page, err := c.tenant.ListMembers(r.Context(), f, limit, cursor)
	if err != nil {
		return err
	}
	keep, err := s.segmentFilter(r, c)
	if err != nil {
		return err
	}
	out := store.Page[memberView]{NextCursor: page.NextCursor}
	for _, m := range page.Items {
		if ok, err := keep(m); err != nil {
			return err
		} else if ok {
			out.Items = append(out.Items, view(m, c.principal.Currency))
		}
	}
	return writeJSON(w, http.StatusOK, listOf(out))
}

func (s *Server) lookupMember(w http.ResponseWriter, r *http.Request, c *call) error {
	in := identityIn{Provider: r.URL.Query().Get("provider"), ExternalID: r.URL.Query().Get("external_id")}
	if err := in.validate(""); err != nil {
		return err
	}
	ident, err := c.tenant.LookupIdentity(r.Context(), in.Provider, in.ExternalID)
	if err != nil {
		return err
	}
	m, err := c.tenant.Member(r.Context(), ident.MemberID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, view(m, c.principal.Currency))
}

func (s *Server) updateMember(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := memberID(r)
	if err != nil {
		return err
	}
	var in memberFields
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := c.tenant.UpdateMember(r.Context(), id, func(m *store.Member) error {
		if m.Status != store.StatusActive {
			return problem.New(problem.Conflict, "member %s is %s and cannot be changed", m.ID, m.Status)
		}
		return in.apply(m)
	})
	if err != nil {
		return err
	}
	s.completeProfile(r.Context(), c, m)
	if verified, err := in.phoneVerified(m); err != nil {
		return err
	} else if verified {
		if m, err = s.linkVerifiedPhone(r, c, m); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, view(m, c.principal.Currency))
}

func (s *Server) eraseMember(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := memberID(r)
	if err != nil {
		return err
	}
	m, err := c.tenant.EraseMember(r.Context(), id)
	if err != nil {
		return err
	}
	c.note("event", "member erased", "member", id)
	return writeJSON(w, http.StatusOK, view(m, c.principal.Currency))
}

func (s *Server) addIdentity(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := memberID(r)
	if err != nil {
		return err
	}
	c.personal("identity", id)
	var in identityIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := in.validate(""); err != nil {
		return err
	}
	ident := store.Identity{Provider: in.Provider, ExternalID: in.ExternalID, MemberID: id, CreatedAt: s.store.Now()}
	if err := c.tenant.AddIdentity(r.Context(), ident); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, ident)
}

func (s *Server) mergeMembers(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := memberID(r)
	if err != nil {
		return err
	}
	c.personal("member", id)
	var in struct {
		From string `json:"from"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if !ids.Valid(ids.Member, in.From) {
		return problem.Field("from", "from is the id of the member to merge into this one")
	}
	m, err := c.tenant.MergeMembers(r.Context(), id, in.From)
	if err != nil {
		return err
	}
	c.note("event", "members merged", "member", id, "from", in.From)
	return writeJSON(w, http.StatusOK, view(m, c.principal.Currency))
}

// exportOrder is an order as exported: the shop's order and its refunds.
type exportOrder struct {
	Provider      string         `json:"provider"`
	IntegrationID string         `json:"integration_id"`
	ReceivedAt    time.Time      `json:"received_at"`
	Order         order.Order    `json:"order"`
	Refunds       []order.Refund `json:"refunds"`
}

// exportChatEvent is a chat event as exported.
type exportChatEvent struct {
	IntegrationID string    `json:"integration_id"`
	Platform      string    `json:"platform"`
	Kind          string    `json:"kind"`
	ChatID        string    `json:"chat_id,omitempty"`
	UserID        string    `json:"user_id,omitempty"`
	UserName      string    `json:"user_name,omitempty"`
	Text          string    `json:"text,omitempty"`
	At            time.Time `json:"at"`
}

func (s *Server) exportMember(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := memberID(r)
	if err != nil {
		return err
	}
	d, err := c.tenant.MemberData(r.Context(), id)
	if err != nil {
		return err
	}
	orders := make([]exportOrder, len(d.Orders))
	for i, o := range d.Orders {
		orders[i] = exportOrder{Provider: o.Provider, IntegrationID: o.IntegrationID, ReceivedAt: o.ReceivedAt, Order: o.Order, Refunds: []order.Refund{}}
		for _, rf := range o.Refunds {
			orders[i].Refunds = append(orders[i].Refunds, rf.Refund)
		}
	}
	chats := make([]exportChatEvent, len(d.ChatEvents))
	for i, e := range d.ChatEvents {
		chats[i] = exportChatEvent{e.IntegrationID, e.Platform, e.Kind, e.ChatID, e.UserID, e.UserName, e.Text, e.At}
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`.json"`)
	return writeJSON(w, http.StatusOK, map[string]any{
		"member":         view(d.Member, c.principal.Currency),
		"identities":     nonNil(d.Identities),
		"ledger":         nonNil(d.Ledger),
		"orders":         orders,
		"groups":         nonNil(d.Groups),
		"violations":     nonNil(d.Violations),
		"chat_events":    chats,
		"tier_history":   nonNil(d.Tiers),
		"merged_members": nonNil(d.Merged),
		"exported_at":    s.store.Now(),
	})
}

// nonNil makes an absent list an empty JSON array.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func mustDate(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

// pathMember reads the {id} member; the points engine refuses changes to members
// that are merged or erased, reads show their history.
func pathMember(r *http.Request, c *call) (store.Member, error) {
	id, err := memberID(r)
	if err != nil {
		return store.Member{}, err
	}
	m, err := c.tenant.Member(r.Context(), id)
	if err != nil {
		return store.Member{}, err
	}
	return m, nil
}

func (s *Server) getIdentityRules(w http.ResponseWriter, r *http.Request, c *call) error {
	rules, err := c.tenant.IdentityRules(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rules.WithDefaults())
}

func (s *Server) putIdentityRules(w http.ResponseWriter, r *http.Request, c *call) error {
	var in store.IdentityRules
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := c.tenant.PutIdentityRules(r.Context(), in); err != nil {
		return err
	}
	s.settings.Forget(c.tenant.ID())
	return writeJSON(w, http.StatusOK, in.WithDefaults())
}
