package store

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/envelope/envelopetest"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/table"
)

// TestResealSealsEveryPlaintextSecret: three tenants with integrations and
// connectors written before sealing existed (raw PutItem, plaintext), next to
// sealed ones. The migration, run a tenant per page and resumed from its cursor
// after the first page, leaves no plaintext secret in a scan of the table; every
// secret still opens to its value; a second run rewrites nothing.
func TestResealSealsEveryPlaintextSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := sealingStore(t, WithSealer(envelopetest.Sealer(t)))
	type want struct {
		tn     *Tenant
		integ  Integration
		conn   Connector
		plains []string
	}
	var all []want
	var plains []string
	for i := 0; i < 3; i++ {
		id := ids.New(ids.Tenant)
		k := APIKey{ID: ids.New("key"), Hash: ids.Random(32), CreatedAt: st.Now()}
		if err := st.CreateTenant(ctx, TenantInfo{ID: id, Name: "t", CreatedAt: st.Now()}, k); err != nil {
			t.Fatal(err)
		}
		tn, _ := st.Tenant(id)
		tag := "-t" + string(rune('a'+i))
		w := want{tn: tn,
			integ: Integration{ID: NewIntegrationID(id), Provider: "wecom", Secret: "legacy-wecom-secret" + tag, CreatedAt: st.Now(),
				Settings: map[string]string{"token": "legacy-token" + tag, "encoding_aes_key": "legacy-aes-key" + tag, "corp_id": "corp"}},
			conn: Connector{ID: ids.New(ConnectorPrefix), Name: "old", Kind: connector.Feishu, URL: legacyURL + tag, Secret: legacySecret + tag,
				Version: 3, CreatedAt: st.Now(), UpdatedAt: st.Now()}}
		w.plains = []string{w.integ.Secret, w.integ.Settings["token"], w.integ.Settings["encoding_aes_key"], "legacy-plaintext-key" + tag, w.conn.Secret}
		plains = append(plains, w.plains...)
		ipk, isk := tn.integrationKey(w.integ.ID)
		cpk, csk := tn.connectorKey(w.conn.ID)
		if err := st.table.Put(integrationItem{keyed{ipk, isk, table.TypeIntegration, 0}, w.integ}).Run(ctx); err != nil {
			t.Fatal(err)
		}
		if err := st.table.Put(connectorItem{keyed{cpk, csk, table.TypeConnector, 0}, w.conn}).Run(ctx); err != nil {
			t.Fatal(err)
		}
		// Sealed ones beside them are left alone.
		if err := tn.CreateIntegration(ctx, Integration{ID: NewIntegrationID(id), Provider: "generic", Secret: "whsec_sealed" + tag, CreatedAt: st.Now()}); err != nil {
			t.Fatal(err)
		}
		if _, err := tn.CreateConnector(ctx, Connector{Name: "new", Kind: connector.Generic, URL: "https://bots.example.com/x", Secret: "sealed" + tag}); err != nil {
			t.Fatal(err)
		}
		all = append(all, w)
	}
	scan := func() []string {
		var items []map[string]any
		if err := st.table.Scan().All(ctx, &items); err != nil {
			t.Fatal(err)
		}
		var hits []string
		for _, it := range items {
			raw, _ := json.Marshal(it)
			for _, p := range plains {
				if strings.Contains(string(raw), p) {
					hits = append(hits, p)
				}
			}
		}
		return hits
	}
	if len(scan()) != len(plains) {
		t.Fatalf("before the migration the scan finds %v, want all %d plaintext secrets", scan(), len(plains))
	}

	// A page of one tenant, then resumed from its cursor.
	first, cursor, err := st.ResealTenants(ctx, 1, "")
	if err != nil || cursor == "" || first != (ResealCount{Tenants: 1, Integrations: 1, Connectors: 1}) {
		t.Fatalf("first page: %+v %q %v", first, cursor, err)
	}
	rest := ResealCount{}
	for cursor != "" {
		var n ResealCount
		if n, cursor, err = st.ResealTenants(ctx, 1, cursor); err != nil {
			t.Fatal(err)
		}
		rest.add(n)
	}
	if rest != (ResealCount{Tenants: 2, Integrations: 2, Connectors: 2}) {
		t.Errorf("resumed run: %+v, want the two other tenants' integration and connector", rest)
	}
	if hits := scan(); len(hits) > 0 {
		t.Fatalf("plaintext secrets after the migration: %v", hits)
	}
	for _, w := range all {
		in, err := w.tn.IntegrationWithSecrets(ctx, w.integ.ID)
		if err != nil || in.Secret != w.integ.Secret || in.Settings["token"] != w.integ.Settings["token"] ||
			in.Settings["encoding_aes_key"] != w.integ.Settings["encoding_aes_key"] || in.Settings["corp_id"] != "corp" {
			t.Errorf("resealed integration = %+v, %v", in, err)
		}
		c, err := w.tn.Connector(ctx, w.conn.ID)
		if err != nil || c.URL != w.conn.URL || c.Secret != w.conn.Secret || c.Version != 3 {
			t.Errorf("resealed connector = %+v, %v", c, err)
		}
	}
	again, cursor, err := st.ResealTenants(ctx, 10, "")
	if err != nil || cursor != "" || again != (ResealCount{Tenants: 3}) {
		t.Errorf("second run: %+v %q %v, want 3 tenants and nothing rewritten", again, cursor, err)
	}
}

// TestResealYieldsToAConcurrentUpdate: a connector updated between the
// migration's read and its write keeps the update.
func TestResealYieldsToAConcurrentUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, tn := sealingStore(t, WithSealer(envelopetest.Sealer(t)))
	old := Connector{ID: ids.New(ConnectorPrefix), Name: "old", Kind: connector.Feishu, URL: legacyURL, Secret: legacySecret, Version: 1, CreatedAt: st.Now(), UpdatedAt: st.Now()}
	pk, sk := tn.connectorKey(old.ID)
	stale := connectorItem{keyed{pk, sk, table.TypeConnector, 0}, old}
	if err := st.table.Put(stale).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.UpdateConnector(ctx, old.ID, func(c *Connector) error { c.Name = "renamed"; return nil }); err != nil {
		t.Fatal(err)
	}
	if done, err := tn.resealConnector(ctx, stale); err != nil || done {
		t.Fatalf("reseal of a stale read: %v %v, want nothing to do (the update sealed it)", done, err)
	}
	var raw connectorItem
	if err := st.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).One(ctx, &raw); err != nil || raw.Name != "renamed" || raw.Version != 2 {
		t.Errorf("after the reseal: %+v %v", raw.Connector, err)
	}
}
