package store

import (
	"context"

	"github.com/tribehq/tribe/shared/table"
)

// IdentityRules are a tenant's rules for linking shop customers to members by
// email and phone. By default only a contact the platform verified links (Shopify's
// verified_email, Tribe's format's email_verified/phone_verified): anyone can type
// someone else's email or phone at a guest checkout and would otherwise collect
// that person's points. A tenant whose shops verify contacts in ways the webhooks
// do not say may opt in; every posting matched that way records it (matched_by).
type IdentityRules struct {
	LinkUnverifiedEmail bool `dynamo:"link_unverified_email" json:"link_unverified_email"`
	LinkUnverifiedPhone bool `dynamo:"link_unverified_phone" json:"link_unverified_phone"`
	// LinkUnionID links the members of WeChat-based sources (WeCom contacts,
	// a mini-program or shop that reports the identity wechat_unionid) by the
	// person's WeChat unionid; a link that would join two members merges them
	// (shared/wecomsync). Off unless the tenant turns it on.
	LinkUnionID bool `dynamo:"link_unionid" json:"link_unionid"`
	// MergeOnVerifiedPhone: when a phone number a platform verified (or the
	// tenant, through the API) arrives for a member and another member has it
	// already, the two are merged into the one that had it (phonelink.go). On
	// unless set false: a verified contact links by default, and a link that
	// joins two members merges them (issue 11). Off, nothing is merged and the
	// conflict is listed for the operator (GET /v1/identity/links?kind=conflict).
	// A phone only the tenant's link_unverified_phone accepts never merges.
	MergeOnVerifiedPhone *bool `dynamo:"merge_on_verified_phone,omitempty" json:"merge_on_verified_phone"`
}

// MergesOnVerifiedPhone is MergeOnVerifiedPhone with its default (on).
func (r IdentityRules) MergesOnVerifiedPhone() bool {
	return r.MergeOnVerifiedPhone == nil || *r.MergeOnVerifiedPhone
}

// WithDefaults is r with every default spelled out, as the API shows it.
func (r IdentityRules) WithDefaults() IdentityRules {
	on := r.MergesOnVerifiedPhone()
	r.MergeOnVerifiedPhone = &on
	return r
}

func (t *Tenant) identityRulesKey() (string, string) { return t.pk("CONFIG"), "IDENTITY" }

type identityRulesItem struct {
	keyed
	Rules IdentityRules `dynamo:"rules"`
}

// IdentityRules returns the tenant's identity rules; the default (verified only)
// when never set.
func (t *Tenant) IdentityRules(ctx context.Context) (IdentityRules, error) {
	pk, sk := t.identityRulesKey()
	var it identityRulesItem
	if found, err := t.findItem(ctx, pk, sk, false, &it, "identity rules"); !found {
		return IdentityRules{}, err
	}
	return it.Rules, nil
}

// PutIdentityRules replaces the tenant's identity rules.
func (t *Tenant) PutIdentityRules(ctx context.Context, r IdentityRules) error {
	pk, sk := t.identityRulesKey()
	err := t.table.Put(identityRulesItem{keyed{pk, sk, table.TypeIdentityRules, 0}, r}).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "identity rules")
}
