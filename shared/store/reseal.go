package store

// Resealing: a one-off migration for secrets written before sealing existed
// (secrets.go). Such a value is read as it is and sealed when its item is next
// written, but integrations have no update route, so without this migration they
// stay plaintext. ResealSecrets seals, in place, every plaintext secret of a
// tenant's integrations and connectors; ResealTenants drives it over the tenants a
// page at a time (make reseal). Each item is rewritten on its own, only if it
// still holds a plaintext secret and has not changed meanwhile, so the migration
// is idempotent and resumable: a rerun, or one resumed from the last cursor it
// reported, skips what is sealed and writes nothing twice.

import (
	"context"
	"fmt"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/envelope"
)

// ResealCount is what a reseal rewrote.
type ResealCount struct {
	Tenants      int `json:"tenants"`
	Integrations int `json:"integrations"`
	Connectors   int `json:"connectors"`
}

func (c *ResealCount) add(o ResealCount) {
	c.Tenants += o.Tenants
	c.Integrations += o.Integrations
	c.Connectors += o.Connectors
}

// sealPlain is seal for plaintext values only: empty and sealed values stay as they
// are; changed is set when one was sealed.
func (t *Tenant) sealPlain(ctx context.Context, changed *bool) func(string) (string, error) {
	return func(v string) (string, error) {
		if v == "" || envelope.IsSealed(v) {
			return v, nil
		}
		*changed = true
		return t.seal(ctx, v)
	}
}

// ResealSecrets seals every plaintext secret of the tenant's integrations and
// connectors, and counts the items it rewrote.
func (t *Tenant) ResealSecrets(ctx context.Context) (ResealCount, error) {
	var n ResealCount
	ipk, _ := t.integrationKey("")
	var ints []integrationItem
	if err := t.table.Get("PK", ipk).Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &ints); err != nil {
		return n, translate(err, "integrations")
	}
	for _, it := range ints {
		changed := false
		in, err := mapSecrets(it.Integration, t.sealPlain(ctx, &changed))
		if err != nil {
			return n, fmt.Errorf("integration %s: %w", it.ID, err)
		}
		if !changed {
			continue
		}
		// Integrations are never updated in place: the item is the one read
		// unless it was deleted (or deleted and created anew, with a new time).
		it.Integration = in
		err = t.table.Put(it).If("attribute_exists(PK) AND created_at = ?", it.CreatedAt).ConsumedCapacity(wcc(ctx)).Run(ctx)
		if dynamo.IsCondCheckFailed(err) {
			continue
		}
		if err != nil {
			return n, translate(err, "integration")
		}
		n.Integrations++
	}

	cpk, _ := t.connectorKey("")
	var cons []connectorItem
	if err := t.table.Get("PK", cpk).Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &cons); err != nil {
		return n, translate(err, "connectors")
	}
	for _, it := range cons {
		done, err := t.resealConnector(ctx, it)
		if err != nil {
			return n, err
		}
		if done {
			n.Connectors++
		}
	}
	return n, nil
}

// resealConnector seals a connector's plaintext URL and secret in place. The
// version stays: the values mean the same, and an update that read the plaintext
// writes its own sealed values over these. If the connector changed meanwhile, it
// is read again (an update seals it anyway).
func (t *Tenant) resealConnector(ctx context.Context, it connectorItem) (bool, error) {
	for attempt := 0; attempt < 5; attempt++ {
		changed := false
		c := it.Connector
		if err := each(t.sealPlain(ctx, &changed), &c.URL, &c.Secret); err != nil {
			return false, fmt.Errorf("connector %s: %w", c.ID, err)
		}
		if !changed {
			return false, nil
		}
		next := it
		next.Connector = c
		err := t.table.Put(next).If("attribute_exists(PK) AND version = ?", it.Version).ConsumedCapacity(wcc(ctx)).Run(ctx)
		if !dynamo.IsCondCheckFailed(err) {
			return err == nil, translate(err, "connector")
		}
		err = t.table.Get("PK", it.PK).Range("SK", dynamo.Equal, it.SK).Consistent(true).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
		if err == dynamo.ErrNotFound {
			return false, nil
		}
		if err != nil {
			return false, translate(err, "connector")
		}
	}
	return false, fmt.Errorf("connector %s: changed during the reseal; run it again", it.ID)
}

// ResealTenants runs ResealSecrets for the page of tenants (limit of them) after
// cursor, and returns what it rewrote and the cursor to resume from, "" after the
// last tenant.
func (s *Store) ResealTenants(ctx context.Context, limit int, cursor string) (ResealCount, string, error) {
	var n ResealCount
	page, err := s.ListTenants(ctx, limit, cursor)
	if err != nil {
		return n, cursor, err
	}
	for _, info := range page.Items {
		t, err := s.Tenant(info.ID)
		if err != nil {
			return n, cursor, err
		}
		got, err := t.ResealSecrets(ctx)
		n.add(got)
		if err != nil {
			return n, cursor, fmt.Errorf("tenant %s: %w", info.ID, err)
		}
		n.Tenants++
		cursor = info.ID
	}
	return n, page.NextCursor, nil
}
