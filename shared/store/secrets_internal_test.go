package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/envelope"
	"github.com/tribehq/tribe/shared/envelope/envelopetest"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/table"
)

func sealingStore(t *testing.T, opts ...Option) (*Store, *Tenant) {
	t.Helper()
	_, name := dynamotest.Table(t)
	st, err := New(dynamo.New(dynamolocal.Config(dynamotest.Endpoint(t))), name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := st.Tenant(ids.New(ids.Tenant))
	if err != nil {
		t.Fatal(err)
	}
	return st, tn
}

const (
	legacyURL    = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=legacy-plaintext-key"
	legacySecret = "legacy-plaintext-secret"
)

// TestPlaintextConnectorIsReadAndResealed: a connector written before sealing
// existed still sends, and its next write seals it.
func TestPlaintextConnectorIsReadAndResealed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, tn := sealingStore(t, WithSealer(envelopetest.Sealer(t)))
	now := st.Now()
	old := Connector{ID: ids.New(ConnectorPrefix), Name: "old", Kind: connector.Feishu, URL: legacyURL, Secret: legacySecret, Version: 1, CreatedAt: now, UpdatedAt: now}
	pk, sk := tn.connectorKey(old.ID)
	if err := st.table.Put(connectorItem{keyed{pk, sk, table.TypeConnector, 0}, old}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := tn.Connector(ctx, old.ID)
	if err != nil || got.URL != legacyURL || got.Secret != legacySecret {
		t.Fatalf("legacy connector = %+v, %v", got, err)
	}
	if _, err := tn.UpdateConnector(ctx, old.ID, func(c *Connector) error { c.Name = "renamed"; return nil }); err != nil {
		t.Fatal(err)
	}
	var raw connectorItem
	if err := st.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).One(ctx, &raw); err != nil {
		t.Fatal(err)
	}
	if !envelope.IsSealed(raw.URL) || !envelope.IsSealed(raw.Secret) {
		t.Errorf("after a write the stored connector is %q / %q, want both sealed", raw.URL, raw.Secret)
	}
	if got, err := tn.Connector(ctx, old.ID); err != nil || got.URL != legacyURL || got.Secret != legacySecret || got.Name != "renamed" {
		t.Errorf("resealed connector = %+v, %v", got, err)
	}
}

// TestPlaintextIntegrationStillVerifies: an integration written in plaintext
// still gives its secrets to the functions that verify.
func TestPlaintextIntegrationStillVerifies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, tn := sealingStore(t, WithSealer(envelopetest.Sealer(t)))
	in := Integration{ID: NewIntegrationID(tn.ID()), Provider: "wecom", Secret: "wecom:tok", CreatedAt: st.Now(),
		Settings: map[string]string{"token": "tok", "encoding_aes_key": "legacy-aes-key", "corp_id": "corp"}}
	pk, sk := tn.integrationKey(in.ID)
	if err := st.table.Put(integrationItem{keyed{pk, sk, table.TypeIntegration, 0}, in}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := tn.IntegrationWithSecrets(ctx, in.ID)
	if err != nil || got.Secret != in.Secret || got.Settings["encoding_aes_key"] != "legacy-aes-key" || got.Settings["corp_id"] != "corp" {
		t.Fatalf("legacy integration = %+v, %v", got, err)
	}
	shown, err := tn.Integration(ctx, in.ID)
	if err != nil || shown.Secret != "" || len(shown.Settings) != 1 || shown.Settings["corp_id"] != "corp" {
		t.Errorf("Integration (no secrets) = %+v, %v", shown, err)
	}
}

// TestSealedSecretsAreBoundToTheTenant: a sealed value copied into another
// tenant's item does not open there.
func TestSealedSecretsAreBoundToTheTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, a := sealingStore(t, WithSealer(envelopetest.Sealer(t)))
	b, _ := st.Tenant(ids.New(ids.Tenant))
	c, err := a.CreateConnector(ctx, Connector{Name: "x", Kind: connector.Generic, URL: "https://bots.example.com/x", Secret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	var raw connectorItem
	pk, sk := a.connectorKey(c.ID)
	if err := st.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).One(ctx, &raw); err != nil {
		t.Fatal(err)
	}
	raw.PK, raw.SK = b.connectorKey(c.ID)
	if err := st.table.Put(raw).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Connector(ctx, c.ID); !errors.Is(err, envelope.ErrOpen) {
		t.Errorf("tenant A's sealed connector read as tenant B's: %v, want ErrOpen", err)
	}
}

// TestStoreWithoutSealerWritesNoSecret: a store built without a Sealer refuses
// to write a secret rather than write it in plaintext, and cannot open a sealed
// one; items without secrets are unaffected.
func TestStoreWithoutSealerWritesNoSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, tn := sealingStore(t)
	if _, err := tn.CreateConnector(ctx, Connector{Name: "x", Kind: connector.Slack, URL: "https://hooks.slack.com/services/T/B/X"}); !errors.Is(err, ErrNoSealer) {
		t.Errorf("CreateConnector without a sealer: %v, want ErrNoSealer", err)
	}
	err := tn.CreateIntegration(ctx, Integration{ID: NewIntegrationID(tn.ID()), Provider: "generic", Secret: "whsec_x", CreatedAt: time.Now()})
	if !errors.Is(err, ErrNoSealer) {
		t.Errorf("CreateIntegration without a sealer: %v, want ErrNoSealer", err)
	}
	if _, err := tn.open(ctx, envelope.Prefix+strings.Repeat("A", 80)); !errors.Is(err, ErrNoSealer) {
		t.Errorf("open without a sealer: %v", err)
	}
}

// TestForFunctionFollowsTheCatalogue: a function's store seals and opens only as
// its catalogue Secrets say, and follows the parent store's clock.
func TestForFunctionFollowsTheCatalogue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, tn := sealingStore(t, WithSealer(envelopetest.Sealer(t)))
	view := func(use catalogue.SecretUse) *Tenant {
		s := st.ForFunction(catalogue.Function{Name: "f", Secrets: use})
		v, err := s.Tenant(tn.ID())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	c, err := view(catalogue.Encrypt).CreateConnector(ctx, Connector{Name: "x", Kind: connector.Generic, URL: "https://bots.example.com/x", Secret: "s3cret"})
	if err != nil {
		t.Fatalf("Encrypt may create: %v", err)
	}
	if _, err := view(catalogue.Encrypt).Connector(ctx, c.ID); !errors.Is(err, ErrSecretsNotAllowed) {
		t.Errorf("Encrypt only opened a connector: %v", err)
	}
	if _, err := view(0).CreateConnector(ctx, Connector{Name: "y", Kind: connector.Generic, URL: "https://bots.example.com/y", Secret: "s3cret"}); !errors.Is(err, ErrSecretsNotAllowed) {
		t.Errorf("no Secrets created a connector: %v", err)
	}
	if got, err := view(catalogue.Decrypt).Connector(ctx, c.ID); err != nil || got.Secret != "s3cret" {
		t.Errorf("Decrypt reading: %+v, %v", got, err)
	}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	fs := st.ForFunction(catalogue.Function{Name: "f"})
	st.SetClock(func() time.Time { return at })
	if !fs.Now().Equal(at) {
		t.Errorf("function store clock %v, want the parent's %v", fs.Now(), at)
	}
}
