package api

// Staff accounts (console logins): staff with an email, a password kept by the
// staff user pool (Amazon Cognito; cognito-local here), a role that maps onto the
// key scopes (auth.RoleScopes) and the groups they look after.
//
// Login goes through the API (POST /v1/staff/login) rather than from the browser
// to Cognito: the console then talks to one origin only (the API), a login names
// just an email (the API finds the tenant; Cognito knows users by
// <tenant>.<staff id>), and disabled staff are refused before Cognito is asked.
// The password passes through the function in memory only; it is never logged or
// stored (public routes keep no idempotency record).

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// StaffDirectory is the staff user pool (shared/staffpool on Cognito).
type StaffDirectory interface {
	CreateUser(ctx context.Context, tenantID, staffID, email, role, password string) error
	SetPassword(ctx context.Context, tenantID, staffID, password string) error
	SetRole(ctx context.Context, tenantID, staffID, email, role string) error
	DeleteUser(ctx context.Context, tenantID, staffID string) error
	Login(ctx context.Context, tenantID, staffID, password string) (auth.StaffTokens, error)
	Refresh(ctx context.Context, refreshToken string) (auth.StaffTokens, error)
}

// staffDeps are the staff routes' own dependencies.
type staffDeps struct {
	dir StaffDirectory
	// logins rate-limits logins per source address (Cognito locks out a user
	// after repeated failures on its own).
	logins *limiter
}

// WithStaffDirectory sets the staff user pool; without it the staff routes answer
// that staff accounts are not configured.
func WithStaffDirectory(d StaffDirectory) Option {
	return func(s *Server) { s.staff = staffDeps{dir: d, logins: newLimiter(1, 10)} }
}

// Password bounds: the stack's pool policy asks at least 10 characters.
const (
	minPassword = 10
	maxPassword = 256
	maxGroups   = 100
)

func (s *Server) staffDir() (StaffDirectory, error) {
	if s.staff.dir == nil {
		return nil, problem.New(problem.Forbidden, "staff accounts are not configured on this deployment (no staff user pool)")
	}
	return s.staff.dir, nil
}

func validPassword(p string) error {
	if n := utf8.RuneCountInString(p); n < minPassword || len(p) > maxPassword {
		return problem.Field("password", "password must be 10 to 256 characters")
	}
	return nil
}

func validRole(role string) error {
	if !slices.Contains(auth.Roles, role) {
		return problem.Field("role", "role must be one of owner, admin, operator, analyst")
	}
	return nil
}

func validGroups(groups []string) ([]string, error) {
	if len(groups) > maxGroups {
		return nil, problem.Field("groups", "at most 100 groups")
	}
	out := []string{}
	for i, g := range groups {
		if !ids.Valid(store.GroupPrefix, g) {
			return nil, problem.Field("groups["+strconv.Itoa(i)+"]", "not a group id")
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}

// callerRole is the caller's staff role; an API key (admin scope) counts as owner:
// it is the tenant's root credential, and it creates the first owner.
func (s *Server) callerRole(ctx context.Context, c *call) (string, error) {
	if c.principal.StaffID == "" {
		return auth.RoleOwner, nil
	}
	me, err := c.tenant.Staff(ctx, c.principal.StaffID)
	if err != nil {
		return "", err
	}
	return me.Role, nil
}

func (s *Server) createStaff(w http.ResponseWriter, r *http.Request, c *call) error {
	dir, err := s.staffDir()
	if err != nil {
		return err
	}
	var in struct {
		Email    string   `json:"email"`
		Name     string   `json:"name"`
		Role     string   `json:"role"`
		Groups   []string `json:"groups"`
		Password string   `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if addr, err := mail.ParseAddress(in.Email); err != nil || addr.Address != in.Email || len(in.Email) > 254 {
		return problem.Field("email", "a plain email address is required (name@example.com)")
	}
	if err := validRole(in.Role); err != nil {
		return err
	}
	if err := validPassword(in.Password); err != nil {
		return err
	}
	name := ""
	if in.Name != "" {
		if name, err = validName("name", in.Name, 100); err != nil {
			return err
		}
	}
	groups, err := validGroups(in.Groups)
	if err != nil {
		return err
	}
	role, err := s.callerRole(r.Context(), c)
	if err != nil {
		return err
	}
	if in.Role == auth.RoleOwner && role != auth.RoleOwner {
		return problem.New(problem.Forbidden, "only an owner can make an owner")
	}
	// The pool user first, then the item: a user without an item can log in to
	// nothing (the authorizer needs the item), and a retry reuses the id only
	// through the Idempotency-Key, so a failed item leaves no account behind.
	st := store.Staff{ID: ids.New(store.StaffPrefix), Email: store.NormalEmail(in.Email), Name: name, Role: in.Role,
		Groups: groups, Currency: c.principal.Currency}
	if _, _, err := s.store.StaffByEmail(r.Context(), st.Email); err == nil {
		return problem.New(problem.Conflict, "a staff account with email %q exists", st.Email)
	}
	if err := dir.CreateUser(r.Context(), c.tenant.ID(), st.ID, st.Email, st.Role, in.Password); err != nil {
		return err
	}
	st, err = c.tenant.CreateStaff(r.Context(), st)
	if err != nil {
		_ = dir.DeleteUser(r.Context(), c.tenant.ID(), st.ID)
		return err
	}
	c.note("staff", st.ID, "role", st.Role)
	w.Header().Set("Location", "/v1/staff/"+st.ID)
	return writeJSON(w, http.StatusCreated, st)
}

func (s *Server) listStaff(w http.ResponseWriter, r *http.Request, c *call) error {
	all, err := c.tenant.ListStaff(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(store.Page[store.Staff]{Items: all}))
}

// getMe is the calling staff member: the console's who-am-I (role, groups).
func (s *Server) getMe(w http.ResponseWriter, r *http.Request, c *call) error {
	if c.principal.StaffID == "" {
		return problem.New(problem.NotFound, "this request was made with an API key, not by a staff member")
	}
	me, err := c.tenant.Staff(r.Context(), c.principal.StaffID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, me)
}

func staffID(r *http.Request) (string, error) {
	return pathID(r, "id", store.StaffPrefix, "staff member")
}

// guardTarget refuses what only an owner may do to an owner, and changes to
// oneself that would lock one out.
func (s *Server) guardTarget(ctx context.Context, c *call, target store.Staff, selfOK bool) error {
	role, err := s.callerRole(ctx, c)
	if err != nil {
		return err
	}
	if target.Role == auth.RoleOwner && role != auth.RoleOwner {
		return problem.New(problem.Forbidden, "only an owner can change or remove an owner")
	}
	if !selfOK && target.ID == c.principal.StaffID {
		return problem.New(problem.Forbidden, "you cannot change your own role or status, or remove yourself")
	}
	return nil
}

func (s *Server) updateStaff(w http.ResponseWriter, r *http.Request, c *call) error {
	dir, err := s.staffDir()
	if err != nil {
		return err
	}
	id, err := staffID(r)
	if err != nil {
		return err
	}
	var in struct {
		Name     *string   `json:"name"`
		Role     *string   `json:"role"`
		Groups   *[]string `json:"groups"`
		Status   *string   `json:"status"`
		Password *string   `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Role != nil {
		if err := validRole(*in.Role); err != nil {
			return err
		}
	}
	if in.Status != nil && *in.Status != store.StaffActive && *in.Status != store.StaffDisabled {
		return problem.Field("status", "status must be active or disabled")
	}
	if in.Password != nil {
		if err := validPassword(*in.Password); err != nil {
			return err
		}
	}
	var groups []string
	if in.Groups != nil {
		if groups, err = validGroups(*in.Groups); err != nil {
			return err
		}
	}
	name := ""
	if in.Name != nil && *in.Name != "" {
		if name, err = validName("name", *in.Name, 100); err != nil {
			return err
		}
	}
	cur, err := c.tenant.Staff(r.Context(), id)
	if err != nil {
		return err
	}
	self := in.Role == nil && in.Status == nil
	if err := s.guardTarget(r.Context(), c, cur, self); err != nil {
		return err
	}
	if in.Role != nil && *in.Role == auth.RoleOwner {
		if role, _ := s.callerRole(r.Context(), c); role != auth.RoleOwner {
			return problem.New(problem.Forbidden, "only an owner can make an owner")
		}
	}
	if in.Password != nil {
		if err := dir.SetPassword(r.Context(), c.tenant.ID(), id, *in.Password); err != nil {
			return err
		}
	}
	st, err := c.tenant.UpdateStaff(r.Context(), id, func(st *store.Staff) error {
		if in.Name != nil {
			st.Name = name
		}
		if in.Role != nil {
			st.Role = *in.Role
		}
		if in.Groups != nil {
			st.Groups = groups
		}
		if in.Status != nil {
			st.Status = *in.Status
		}
		return nil
	})
	if err != nil {
		return err
	}
	if in.Role != nil && *in.Role != cur.Role {
		if err := dir.SetRole(r.Context(), c.tenant.ID(), id, st.Email, st.Role); err != nil {
			c.log.WarnContext(r.Context(), "staff role attribute not updated in the pool", "err", err)
		}
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) deleteStaff(w http.ResponseWriter, r *http.Request, c *call) error {
	dir, err := s.staffDir()
	if err != nil {
		return err
	}
	id, err := staffID(r)
	if err != nil {
		return err
	}
	cur, err := c.tenant.Staff(r.Context(), id)
	if err != nil {
		return err
	}
	if err := s.guardTarget(r.Context(), c, cur, false); err != nil {
		return err
	}
	// The item first: without it the authorizer refuses the user's tokens at once.
	if _, err := c.tenant.DeleteStaff(r.Context(), id); err != nil {
		return err
	}
	if err := dir.DeleteUser(r.Context(), c.tenant.ID(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// staffSession is a login's answer.
type staffSession struct {
	auth.StaffTokens
	TenantID string      `json:"tenant_id"`
	Staff    store.Staff `json:"staff"`
}

var errLogin = problem.New(problem.Unauthenticated, "wrong email or password")

func (s *Server) staffLogin(w http.ResponseWriter, r *http.Request, c *call) error {
	dir, err := s.staffDir()
	if err != nil {
		return err
	}
	if !s.staff.logins.allow(sourceIP(r), s.store.Now()) {
		w.Header().Set("Retry-After", "1")
		return problem.New(problem.RateLimited, "too many logins from this address; retry in a second")
	}
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Email == "" || len(in.Email) > 254 {
		return problem.Field("email", "email is required")
	}
	if in.Password == "" || len(in.Password) > maxPassword {
		return problem.Field("password", "password is required")
	}
	tenantID, id, err := s.store.StaffByEmail(r.Context(), in.Email)
	if problem.Is(err, problem.NotFound) {
		return errLogin
	}
	if err != nil {
		return err
	}
	t, err := s.store.Tenant(tenantID)
	if err != nil {
		return errLogin
	}
	st, err := t.Staff(r.Context(), id)
	if problem.Is(err, problem.NotFound) {
		return errLogin
	}
	if err != nil {
		return err
	}
	if st.Status != store.StaffActive {
		return problem.New(problem.Forbidden, "this staff account is disabled")
	}
	tok, err := dir.Login(r.Context(), tenantID, id, in.Password)
	if errors.Is(err, auth.ErrCredentials) {
		return errLogin
	}
	if err != nil {
		return err
	}
	c.note("staff", st.ID, "tenant", tenantID)
	return writeJSON(w, http.StatusOK, staffSession{StaffTokens: tok, TenantID: tenantID, Staff: st})
}

func (s *Server) staffRefresh(w http.ResponseWriter, r *http.Request, c *call) error {
	dir, err := s.staffDir()
	if err != nil {
		return err
	}
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.RefreshToken == "" || len(in.RefreshToken) > 8192 {
		return problem.Field("refresh_token", "refresh_token is required")
	}
	tok, err := dir.Refresh(r.Context(), in.RefreshToken)
	if errors.Is(err, auth.ErrCredentials) {
		return problem.New(problem.Unauthenticated, "the refresh token is not valid; log in again")
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tok)
}
