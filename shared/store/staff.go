package store

// Staff accounts: the people who log in to the console. Their passwords live in
// the identity provider (Amazon Cognito; cognito-local on this machine), never
// here; this is who they are in the tenant: role, assigned groups, status.
//
// Keys:
//
//	T#<tenant>#STAFF                     <staff id>   one staff member (a tenant has tens)
//	T#_platform#STAFFEMAIL#<email>       STAFFEMAIL   email → tenant and staff id, unique
//
// A login names only an email, so the email item sits in the platform partition:
// it makes an email one staff account across tenants and finds the tenant.

import (
	"context"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// StaffPrefix starts staff ids.
const StaffPrefix = "stf"

// Staff statuses.
const (
	StaffActive   = "active"
	StaffDisabled = "disabled"
)

// Staff is one staff member of a tenant.
type Staff struct {
	ID    string `dynamo:"id" json:"id"`
	Email string `dynamo:"email" json:"email"`
	Name  string `dynamo:"name,omitempty" json:"name,omitempty"`
	Role  string `dynamo:"role" json:"role"`
	// Groups are the groups the staff member is responsible for (群主/运营); their
	// group views default to them.
	Groups    []string  `dynamo:"groups,omitempty" json:"groups"`
	Status    string    `dynamo:"status" json:"status"`
	Currency  string    `dynamo:"currency" json:"-"`
	CreatedAt time.Time `dynamo:"created_at" json:"created_at"`
	UpdatedAt time.Time `dynamo:"updated_at" json:"updated_at"`
	Version   int       `dynamo:"version" json:"-"`
}

type staffItem struct {
	keyed
	Staff
}

type staffEmailItem struct {
	keyed
	Tenant  string `dynamo:"tenant"`
	StaffID string `dynamo:"staff_id"`
}

// NormalEmail is the form staff emails are kept and looked up in.
func NormalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func (t *Tenant) staffKey(id string) (string, string) { return t.pk("STAFF"), id }

func (s *Store) staffEmailKey(email string) (string, string) {
	return s.platform().pk("STAFFEMAIL", NormalEmail(email)), "STAFFEMAIL"
}

// CreateStaff stores a new staff member and the uniqueness of their email in one
// transaction. It fills in the id (when empty), status and times. An email in use
// (in any tenant) is problem.Conflict.
func (t *Tenant) CreateStaff(ctx context.Context, st Staff) (Staff, error) {
	if st.ID == "" {
		st.ID = ids.New(StaffPrefix)
	} else if !ids.Valid(StaffPrefix, st.ID) {
		return Staff{}, problem.Field("id", "id is not a staff id")
	}
	st.Email = NormalEmail(st.Email)
	st.CreatedAt = t.s.Now()
	st.UpdatedAt = st.CreatedAt
	st.Status = StaffActive
	st.Version = 1
	pk, sk := t.staffKey(st.ID)
	epk, esk := t.s.staffEmailKey(st.Email)
	err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
		tx.Put(t.table.Put(staffItem{keyed{pk, sk, table.TypeStaff, 0}, st}).If("attribute_not_exists(PK)"))
		tx.Put(t.s.table.Put(staffEmailItem{keyed{epk, esk, table.TypeStaffEmail, 0}, t.id, st.ID}).If("attribute_not_exists(PK)"))
	})
	if condFailedAt(err, 1) {
		return Staff{}, problem.Wrap(problem.Conflict, err, "a staff account with email %q exists", st.Email)
	}
	if err != nil {
		return Staff{}, translate(err, "staff")
	}
	return st, nil
}

// Staff returns one staff member.
func (t *Tenant) Staff(ctx context.Context, id string) (Staff, error) {
	if !ids.Valid(StaffPrefix, id) {
		return Staff{}, problem.New(problem.NotFound, "staff member not found")
	}
	pk, sk := t.staffKey(id)
	var it staffItem
	err := t.getItem(ctx, pk, sk, true, &it, "staff member")
	return it.Staff, err
}

// ListStaff returns every staff member of the tenant, by id.
func (t *Tenant) ListStaff(ctx context.Context) ([]Staff, error) {
	pk, _ := t.staffKey("")
	var items []staffItem
	if err := t.table.Get("PK", pk).ConsumedCapacity(rcc(ctx)).All(ctx, &items); err != nil {
		return nil, translate(err, "staff")
	}
	out := make([]Staff, len(items))
	for i, it := range items {
		out[i] = it.Staff
	}
	return out, nil
}

// UpdateStaff applies fn to a staff member and writes it if nobody changed it
// meanwhile (retried on a race). fn may not change the id or email.
func (t *Tenant) UpdateStaff(ctx context.Context, id string, fn func(*Staff) error) (Staff, error) {
	return update(3, "staff member", func() (Staff, error) { return t.Staff(ctx, id) }, fn, func(cur Staff, next *Staff) error {
		next.ID, next.Email, next.Version, next.UpdatedAt = cur.ID, cur.Email, cur.Version+1, t.s.Now()
		pk, sk := t.staffKey(id)
		return t.table.Put(staffItem{keyed{pk, sk, table.TypeStaff, 0}, *next}).
			If("'version' = ?", cur.Version).ConsumedCapacity(wcc(ctx)).Run(ctx)
	})
}

// DeleteStaff removes a staff member and frees their email, in one transaction.
// A staff member already gone is problem.NotFound.
func (t *Tenant) DeleteStaff(ctx context.Context, id string) (Staff, error) {
	st, err := t.Staff(ctx, id)
	if err != nil {
		return Staff{}, err
	}
	pk, sk := t.staffKey(id)
	epk, esk := t.s.staffEmailKey(st.Email)
	err = t.runTx(ctx, func(tx *dynamo.WriteTx) {
		tx.Delete(t.table.Delete("PK", pk).Range("SK", sk).If("attribute_exists(PK)"))
		tx.Delete(t.s.table.Delete("PK", epk).Range("SK", esk).If("'staff_id' = ?", id))
	})
	if condFailedAt(err, 0) {
		return Staff{}, problem.Wrap(problem.NotFound, err, "staff member not found")
	}
	return st, translate(err, "staff")
}

// StaffByEmail returns the tenant and id of the staff account with an email,
// problem.NotFound when there is none.
func (s *Store) StaffByEmail(ctx context.Context, email string) (tenantID, staffID string, err error) {
	pk, sk := s.staffEmailKey(email)
	var it staffEmailItem
	if err := s.platform().getItem(ctx, pk, sk, true, &it, "staff account"); err != nil {
		return "", "", err
	}
	return it.Tenant, it.StaffID, nil
}

// FindStaff is the authorizer's read of a staff member: one consistent GetItem in
// the tenant's partition, as for keys.
func (s *Store) FindStaff(ctx context.Context, tenantID, staffID string) (auth.StoredStaff, error) {
	t, err := s.Tenant(tenantID)
	if err != nil {
		return auth.StoredStaff{}, problem.Wrap(problem.NotFound, err, "staff member not found")
	}
	st, err := t.Staff(ctx, staffID)
	if err != nil {
		return auth.StoredStaff{}, err
	}
	return auth.StoredStaff{ID: st.ID, Role: st.Role, Disabled: st.Status != StaffActive, Currency: st.Currency}, nil
}
