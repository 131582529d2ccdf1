package store

import (
	"context"
	"strings"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
)

// Contact is a person as a shop or a chat platform announces them: the identities
// to find their member by, and what a new member for them starts with.
type Contact struct {
	// Provider is the platform: it names the identity of ExternalID and is a new
	// member's channel.
	Provider   string
	ExternalID string
	Email      string
	Phone      string
	// EmailVerified and PhoneVerified say that Email and Phone may identify the
	// person: the platform verified them, or the tenant's IdentityRules accept
	// unverified ones. Unverified, they are kept on a new member's profile and
	// neither find nor become an identity.
	EmailVerified bool
	PhoneVerified bool
	// Name is a new member's name; it identifies no one.
	Name string
}

// Providers of the identities a contact's email and phone become.
const (
	ProviderEmail = "email"
	ProviderPhone = "phone"
)

// Refs returns c's identities in lookup order: the platform's id, the email
// (lower-cased), the phone (as PhoneKey writes it). Empty and unverified ones
// are left out, so a guest with an unverified email has none.
func (c Contact) Refs() []IdentityRef {
	var refs []IdentityRef
	if c.ExternalID != "" {
		refs = append(refs, IdentityRef{Provider: c.Provider, ExternalID: c.ExternalID})
	}
	if e := strings.ToLower(strings.TrimSpace(c.Email)); e != "" && c.EmailVerified {
		refs = append(refs, IdentityRef{Provider: ProviderEmail, ExternalID: e})
	}
	if p := PhoneKey(c.Phone); p != "" && c.PhoneVerified {
		refs = append(refs, IdentityRef{Provider: ProviderPhone, ExternalID: p})
	}
	return refs
}

// FindMember returns the id of the member c is, trying c's identities in order, and
// "" when none is known (a guest has none). It creates nobody.
func (t *Tenant) FindMember(ctx context.Context, c Contact) (string, error) {
	id, _, err := t.FindMemberBy(ctx, c)
	return id, err
}

// FindMemberBy is FindMember that also says which identity found the member. When
// no live identity matches but one of c's was erased, it is an *ErasedError.
func (t *Tenant) FindMemberBy(ctx context.Context, c Contact) (string, IdentityRef, error) {
	refs := c.Refs()
	for _, ref := range refs {
		found, err := t.LookupIdentity(ctx, ref.Provider, ref.ExternalID)
		if err == nil {
			return found.MemberID, ref, nil
		}
		if !problem.Is(err, problem.NotFound) {
			return "", IdentityRef{}, err
		}
	}
	erased, err := t.erasedMember(ctx, refs)
	if err != nil {
		return "", IdentityRef{}, err
	}
	if erased != "" {
		return "", IdentityRef{}, &ErasedError{MemberID: erased}
	}
	return "", IdentityRef{}, nil
}

// Newcomer returns the member to create for c on first sight, active and new, in
// tier since now, and its identities (none for a guest). Nothing is written: create
// them with CreateMember, or with a first posting through PostNew.
func (t *Tenant) Newcomer(c Contact, tier string) (Member, []Identity) {
	now := t.s.Now()
	m := Member{ID: ids.New(ids.Member), Name: c.Name, Email: strings.ToLower(c.Email), Phone: c.Phone,
		Channel: c.Provider, Stage: StageNew, Status: StatusActive, Tier: tier, TierSince: &now,
		JoinedAt: now, CreatedAt: now, UpdatedAt: now, Version: 1}
	refs := c.Refs()
	idents := make([]Identity, len(refs))
	for i, ref := range refs {
		idents[i] = Identity{Provider: ref.Provider, ExternalID: ref.ExternalID, MemberID: m.ID, CreatedAt: now}
	}
	return m, idents
}

// ResolveMember returns the id of the member c is and, on first sight, creates one
// in tier with c's identities (one transaction). It returns "" for a guest with
// nothing to identify them. When someone else creates the member meanwhile it looks
// again; after three such races it is problem.Conflict.
func (t *Tenant) ResolveMember(ctx context.Context, c Contact, tier string) (string, error) {
	for attempt := 0; attempt < 3; attempt++ {
		id, err := t.FindMember(ctx, c)
		if err != nil || id != "" {
			return id, err
		}
		m, idents := t.Newcomer(c, tier)
		if len(idents) == 0 {
			return "", nil
		}
		err = t.CreateMember(ctx, m, idents)
		if err == nil {
			return m.ID, nil
		}
		if !problem.Is(err, problem.IdentityTaken) {
			return "", err
		}
	}
	return "", problem.New(problem.Conflict, "could not resolve contact %s", c.ExternalID)
}
