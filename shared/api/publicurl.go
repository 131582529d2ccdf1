package api

import (
	"net/http"
	"strings"
)

// WithPublicBaseURL sets the base URL ("https://api.brand.example") of the URLs the
// API hands out to be printed or pasted elsewhere: webhook URLs and live-code
// URLs on posters. They must outlive the deployment, so on AWS they carry the
// custom domain (config.PublicBaseURL), never the execute-api host. Empty means
// the request's own host (local runs).
func WithPublicBaseURL(base string) Option {
	return func(s *Server) { s.publicBase = strings.TrimRight(base, "/") }
}

// publicURL is path under the public base URL, or under the request's host when
// there is none.
func (s *Server) publicURL(r *http.Request, path string) string {
	if s.publicBase != "" {
		return s.publicBase + path
	}
	scheme := "https"
	if r.TLS == nil && (r.Header.Get("X-Forwarded-Proto") == "http" || isLocal(r.Host)) {
		scheme = "http"
	}
	return scheme + "://" + r.Host + path
}
