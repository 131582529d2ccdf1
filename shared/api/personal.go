package api

import (
	"net/http"
	"strings"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// Personal data is never kept in an idempotency record. A record is keyed by the
// client's Idempotency-Key and lives 24 hours; erasure cannot find it by the
// person, so a stored response carrying a member's name, email or phone would
// outlive their erasure. A handler whose response carries a person's data calls
// c.personal(kind, id) before it can fail; the record then keeps the status, the
// Location and "kind:id", and a replay re-reads the resource and answers its
// current state (an erased member answers anonymised). A personal request that
// is refused (4xx) keeps no record at all: its problem may quote the request, and
// a refused request changed nothing, so a retry is simply evaluated again.
//
// Only POST keeps records (server.serve); PATCH, DELETE and GET (the member
// patch, erasure and export) keep none.

// personal marks the response as carrying a person's data: kind names the reader
// in rereaders, id the resource ("" until it exists; call again with it).
func (c *call) personal(kind, id string) { c.personalKind, c.personalID = kind, id }

// withoutPersonal turns the record of a personal request into a reference to re-read;
// keep is false when nothing may be kept.
func withoutPersonal(c *call, status int, rec store.IdemRecord) (store.IdemRecord, bool) {
	if c.personalKind == "" {
		return rec, true
	}
	if status >= 300 || c.personalID == "" {
		return store.IdemRecord{}, false
	}
	rec.Body, rec.ContentType, rec.SecretOmitted = nil, "", nil
	rec.Reread = c.personalKind + ":" + c.personalID
	return rec, true
}

// rereaders answer a replay of a personal request from the resource's current
// state; r is the replayed request (its body is the first request's: the
// fingerprint matched).
var rereaders = map[string]func(s *Server, r *http.Request, c *call, id string) (any, error){
	"member": func(s *Server, r *http.Request, c *call, id string) (any, error) {
		m, err := c.tenant.Member(r.Context(), id)
		if err != nil {
			return nil, err
		}
		return view(m, c.principal.Currency), nil
	},
	// identity: the identity the request added to member id.
	"identity": func(s *Server, r *http.Request, c *call, id string) (any, error) {
		var in identityIn
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		idents, err := c.tenant.Identities(r.Context(), id)
		if err != nil {
			return nil, err
		}
		for _, ident := range idents {
			if ident.Provider == in.Provider && ident.ExternalID == in.ExternalID {
				return ident, nil
			}
		}
		return nil, problem.New(problem.NotFound, "the identity this request added is no longer held by member %s (erased or merged)", id)
	},
}

// reread answers a replay of a personal request (withoutPersonal).
func (s *Server) reread(w http.ResponseWriter, r *http.Request, c *call, rec store.IdemRecord) error {
	kind, id, _ := strings.Cut(rec.Reread, ":")
	read, ok := rereaders[kind]
	if !ok {
		return problem.New(problem.Conflict, "this Idempotency-Key's request completed; its response is not kept")
	}
	v, err := read(s, r, c, id)
	if err != nil {
		return err
	}
	w.Header().Set("Idempotent-Replayed", "true")
	return writeJSON(w, rec.Status, v)
}
