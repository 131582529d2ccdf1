package api

import (
	"net/http/httptest"
	"testing"

	"github.com/tribehq/tribe/shared/store"
)

func TestHandedOutURLsUseThePublicBaseURL(t *testing.T) {
	t.Parallel()
	// GIVEN a request that reached the API through its execute-api host
	r := httptest.NewRequest("GET", "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/integrations", nil)
	ig := store.Integration{ID: "int_1", Provider: "shopify"}
	lc := store.LiveCode{Code: "lc_1"}

	// WHEN the server has a public base URL, and when it has none
	s := &Server{}
	WithPublicBaseURL("https://api.brand.example/")(s)
	bare := &Server{}

	// THEN webhook and live-code URLs carry the custom domain, never the
	// execute-api host; without one they carry the request's host
	for _, c := range []struct{ got, want string }{
		{s.webhookURL(r, ig), "https://api.brand.example/v1/webhooks/shopify/int_1"},
		{s.liveCodeView(r, lc).ResolveURL, "https://api.brand.example/v1/live-codes/lc_1/resolve"},
		{bare.webhookURL(r, ig), "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/webhooks/shopify/int_1"},
	} {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
}
