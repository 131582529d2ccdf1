package api

import (
	"net/http"
	"strings"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// eraseContact erases a person who is no member, by email and/or phone: the
// customer of every guest-checkout order that carried either is removed, and kept
// unreadable deliveries mentioning them are dropped (store.EraseContact). A
// contact that identifies a live member is 409: erase the member, which does the
// same and more.
func (s *Server) eraseContact(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Email string `json:"email"`
		Phone string `json:"phone"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	in.Email, in.Phone = strings.TrimSpace(in.Email), strings.TrimSpace(in.Phone)
	switch {
	case in.Email == "" && in.Phone == "":
		return problem.Field("email", "email or phone is required")
	case in.Email != "" && (len(in.Email) > 254 || !emailRe.MatchString(in.Email)):
		return problem.Field("email", "email is not an email address")
	case in.Phone != "" && !phoneRe.MatchString(in.Phone):
		return problem.Field("phone", "phone is not a phone number")
	}
	id, err := c.tenant.FindMember(r.Context(), store.Contact{Email: in.Email, Phone: in.Phone, EmailVerified: true, PhoneVerified: true})
	if _, erased := store.Erased(err); erased {
		err = nil
	}
	if err != nil {
		return err
	}
	if id != "" {
		return problem.New(problem.Conflict, "this contact identifies member %s: erase the member (DELETE /v1/members/%s), which also erases their guest orders", id, id)
	}
	out, err := c.tenant.EraseContact(r.Context(), in.Email, in.Phone)
	if err != nil {
		return err
	}
	c.note("event", "contact erased", "orders", out.Orders)
	return writeJSON(w, http.StatusOK, out)
}
