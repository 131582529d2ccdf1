package store

// Secrets at rest: integration signing secrets, WeCom tokens and EncodingAESKeys,
// connector URLs (which carry the platform's token) and connector secrets are
// sealed here, at the store boundary, with the tenant id bound to each value
// (shared/envelope). Writes seal; reads open, so no handler ever sees a sealed
// string. A value written before sealing existed is plaintext: it is read as it
// is and sealed the next time its item is written.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/envelope"
)

// Sealer seals and opens secrets for a tenant; *envelope.Sealer is one.
type Sealer interface {
	Seal(ctx context.Context, tenant, plaintext string) (string, error)
	Open(ctx context.Context, tenant, sealed string) (string, error)
}

// Option configures a Store.
type Option func(*Store)

// WithSealer sets how secrets are sealed at rest. A store without one refuses to
// write a secret (ErrNoSealer) and to read a sealed one.
func WithSealer(s Sealer) Option { return func(st *Store) { st.sealer = s } }

// ErrNoSealer: a secret was to be written or opened by a store built without a
// Sealer. Secrets are never written in plaintext.
var ErrNoSealer = errors.New("store: no sealer configured; secrets are not stored in plaintext")

// CanSeal reports whether the store was built with a Sealer.
func (s *Store) CanSeal() bool { return s.sealer != nil }

// seal returns v sealed for the tenant; empty stays empty.
func (t *Tenant) seal(ctx context.Context, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if t.s.sealer == nil {
		return "", ErrNoSealer
	}
	out, err := t.s.sealer.Seal(ctx, t.id, v)
	if err != nil {
		return "", fmt.Errorf("seal secret: %w", err)
	}
	return out, nil
}

// open returns the plaintext of a stored secret: a sealed value is opened, a
// legacy plaintext one returned as it is.
func (t *Tenant) open(ctx context.Context, v string) (string, error) {
	if !envelope.IsSealed(v) {
		return v, nil
	}
	if t.s.sealer == nil {
		return "", ErrNoSealer
	}
	out, err := t.s.sealer.Open(ctx, t.id, v)
	if err != nil {
		return "", fmt.Errorf("open secret: %w", err)
	}
	return out, nil
}

// sealing and opening are seal and open as functions of the value, for
// mapSecrets and each.
func (t *Tenant) sealing(ctx context.Context) func(string) (string, error) {
	return func(v string) (string, error) { return t.seal(ctx, v) }
}

func (t *Tenant) opening(ctx context.Context) func(string) (string, error) {
	return func(v string) (string, error) { return t.open(ctx, v) }
}

// each replaces each of vs by f of it, stopping at the first failure.
func each(f func(string) (string, error), vs ...*string) error {
	for _, v := range vs {
		out, err := f(*v)
		if err != nil {
			return err
		}
		*v = out
	}
	return nil
}

// ErrSecretsNotAllowed: the function's catalogue Secrets do not allow what it
// tried (seal without Encrypt, open without Decrypt). On AWS the KMS key policy
// refuses the same.
var ErrSecretsNotAllowed = errors.New("store: this function's catalogue Secrets do not allow it")

// ForFunction returns a store on the same table, following s's clock, whose
// sealer lets fn seal and open only as its catalogue Secrets say, as the KMS key
// policy does on AWS. The local system builds each function on one, so a function
// that needs the key without the flag fails in tests, not first in production.
func (s *Store) ForFunction(fn catalogue.Function) *Store {
	cp := *s
	cp.now = func() time.Time { return s.now() }
	if s.sealer != nil {
		cp.sealer = limitedSealer{inner: s.sealer, use: fn.Secrets, name: fn.Name}
	}
	return &cp
}

type limitedSealer struct {
	inner Sealer
	use   catalogue.SecretUse
	name  string
}

func (l limitedSealer) Seal(ctx context.Context, tenant, plaintext string) (string, error) {
	if l.use&catalogue.Encrypt == 0 {
		return "", fmt.Errorf("%s may not seal: %w", l.name, ErrSecretsNotAllowed)
	}
	return l.inner.Seal(ctx, tenant, plaintext)
}

func (l limitedSealer) Open(ctx context.Context, tenant, sealed string) (string, error) {
	if l.use&catalogue.Decrypt == 0 {
		return "", fmt.Errorf("%s may not open: %w", l.name, ErrSecretsNotAllowed)
	}
	return l.inner.Open(ctx, tenant, sealed)
}
