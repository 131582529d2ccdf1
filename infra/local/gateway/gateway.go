// Package gateway is the local stand-in for API Gateway's HTTP API: it mounts every
// catalogue route, turns each request into the payload-2.0 event API Gateway sends,
// runs the same Lambda authorizer on routes that need a key, its answers cached as
// API Gateway caches them (catalogue.AuthorizerCacheTTL, authcache.go), and calls
// the same Lambda handler the function runs on AWS.
package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
)

// HTTPHandler is an HTTP function's Lambda handler.
type HTTPHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// AuthorizerHandler is the Lambda authorizer's handler.
type AuthorizerHandler func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error)

// maxPayload is API Gateway's request payload limit.
const maxPayload = 10 << 20

// Gateway is the local HTTP API.
type Gateway struct {
	mux  *http.ServeMux
	auth *authCache
}

// ServeHTTP serves a request as API Gateway would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.mux.ServeHTTP(w, r) }

// New returns a gateway for every catalogue route. handlers holds one handler per
// catalogue function that has routes.
func New(handlers map[string]HTTPHandler, authorize AuthorizerHandler, log *slog.Logger) (*Gateway, error) {
	if authorize == nil || log == nil {
		return nil, errors.New("gateway: need an authorizer and a logger")
	}
	cache, err := newAuthCache(authorize, catalogue.AuthorizerIdentitySources, catalogue.AuthorizerCacheTTL)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for _, rt := range catalogue.Routes() {
		h, ok := handlers[rt.Function]
		if !ok {
			return nil, fmt.Errorf("gateway: no handler for function %s (route %s)", rt.Function, rt.Pattern())
		}
		mux.Handle(rt.Pattern(), &route{rt: rt, h: h, auth: cache, log: log})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		gatewayError(w, http.StatusNotFound, "Not Found")
	})
	return &Gateway{mux: mux, auth: cache}, nil
}

type route struct {
	rt   catalogue.Bound
	h    HTTPHandler
	auth *authCache
	log  *slog.Logger
}

var paramRe = regexp.MustCompile(`\{([a-zA-Z0-9_]+)\}`)

// gatewayError answers like API Gateway does when it answers itself.
func gatewayError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q}`, msg)
}

func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ev, err := Event(r, rt.rt)
	if errors.Is(err, errTooLarge) {
		gatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	if err != nil {
		gatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if rt.rt.Scope != catalogue.ScopePublic {
		vals, ok := rt.auth.identity(&ev)
		if !ok {
			// API Gateway answers itself when an identity source is missing.
			gatewayError(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		res, err := rt.auth.answer(r.Context(), ev, vals)
		if err != nil {
			rt.log.Error("authorizer failed", "err", err, "request_id", ev.RequestContext.RequestID)
			gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		if !res.IsAuthorized {
			gatewayError(w, http.StatusForbidden, "Forbidden")
			return
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: res.Context}
	}
	resp, err := rt.h(r.Context(), ev)
	if err != nil {
		rt.log.Error("function failed", "function", rt.rt.Function, "err", err, "request_id", ev.RequestContext.RequestID)
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := WriteResponse(w, resp); err != nil {
		rt.log.Error("bad function response", "function", rt.rt.Function, "err", err)
	}
	rt.log.Debug("request", "route", rt.rt.Pattern(), "status", resp.StatusCode, "ms", time.Since(start).Milliseconds())
}

var errTooLarge = errors.New("gateway: payload too large")

// Event builds the payload-2.0 event API Gateway would send for r on route rt.
func Event(r *http.Request, rt catalogue.Bound) (events.APIGatewayV2HTTPRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, err
	}
	if len(body) > maxPayload {
		return events.APIGatewayV2HTTPRequest{}, errTooLarge
	}
	headers := map[string]string{}
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	var cookies []string
	if c, ok := headers["cookie"]; ok {
		cookies = strings.Split(c, "; ")
		delete(headers, "cookie")
	}
	query := map[string]string{}
	for k, vs := range r.URL.Query() {
		query[k] = strings.Join(vs, ",")
	}
	params := map[string]string{}
	for _, m := range paramRe.FindAllStringSubmatch(rt.Path, -1) {
		params[m[1]] = r.PathValue(m[1])
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := time.Now()
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       rt.Pattern(),
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Cookies:        cookies,
		Headers:        headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:   rt.Pattern(),
			AccountID:  "000000000000",
			Stage:      "$default",
			RequestID:  strings.TrimPrefix(ids.New("req"), "req_"),
			APIID:      "local",
			DomainName: r.Host,
			Time:       now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:  now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: host, UserAgent: r.UserAgent(),
			},
		},
	}
	if len(query) > 0 {
		ev.QueryStringParameters = query
	}
	if len(params) > 0 {
		ev.PathParameters = params
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev, nil
}

// AuthorizerEvent is the payload-2.0 authorizer request for a request event.
func AuthorizerEvent(ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2CustomAuthorizerV2Request {
	return events.APIGatewayV2CustomAuthorizerV2Request{
		Version:               "2.0",
		Type:                  "REQUEST",
		RouteArn:              "arn:aws:execute-api:local:000000000000:local/$default/" + strings.Replace(ev.RouteKey, " ", "", 1),
		IdentitySource:        []string{ev.Headers["authorization"]},
		RouteKey:              ev.RouteKey,
		RawPath:               ev.RawPath,
		RawQueryString:        ev.RawQueryString,
		Cookies:               ev.Cookies,
		Headers:               ev.Headers,
		QueryStringParameters: ev.QueryStringParameters,
		PathParameters:        ev.PathParameters,
		RequestContext:        ev.RequestContext,
	}
}

// WriteResponse writes a function's payload-2.0 response.
func WriteResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) error {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
			return err
		}
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}
