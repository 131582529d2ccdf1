// Package system assembles the whole of Tribe in one process for the local stand-in
// and the integration tests: every catalogue function's real Lambda handler, keyed
// by function name, behind the local gateway, stream pump and scheduler.
package system

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/tribehq/tribe/infra/local/gateway"
	"github.com/tribehq/tribe/shared/api"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/community"
	"github.com/tribehq/tribe/shared/counters"
	"github.com/tribehq/tribe/shared/lifecycle"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/referral"
	"github.com/tribehq/tribe/shared/store"
)

// StreamHandler is a stream consumer's Lambda handler.
type StreamHandler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Target is a scheduled function's handler; it gets the schedule's input.
type Target func(context.Context, json.RawMessage) error

// System is every function of the catalogue, wired to one store.
type System struct {
	Authorizer *auth.Authorizer
	HTTP       map[string]gateway.HTTPHandler
	Streams    map[string]StreamHandler
	Targets    map[string]Target
	Gateway    http.Handler
}

// New wires every catalogue function as its main package does, and checks that
// none is missing.
func New(st *store.Store, adminKey string, log *slog.Logger, apiOpts ...api.Option) (*System, error) {
	authz, err := auth.NewAuthorizer(st, adminKey, log)
	if err != nil {
		return nil, err
	}
	srv, err := api.New(st, log, apiOpts...)
	if err != nil {
		return nil, err
	}
	life, err := lifecycle.New(st, log)
	if err != nil {
		return nil, err
	}
	eng, err := points.New(st, log)
	if err != nil {
		return nil, err
	}
	cnt, err := counters.New(st, eng, log)
	if err != nil {
		return nil, err
	}
	comm, err := community.New(st, eng, srv, log)
	if err != nil {
		return nil, err
	}
	ref, err := referral.New(st, eng, log)
	if err != nil {
		return nil, err
	}
	sys := &System{
		Authorizer: authz,
		HTTP:       map[string]gateway.HTTPHandler{},
		Streams: map[string]StreamHandler{
			"counters":  cnt.Handle,
			"ledger":    eng.Handle,
			"community": comm.Handle,
			"referral":  ref.Handle,
		},
		Targets: map[string]Target{
			"lifecycle": func(ctx context.Context, in json.RawMessage) error {
				_, err := life.Handle(ctx, in)
				return err
			},
			"expiry": func(ctx context.Context, in json.RawMessage) error {
				_, err := eng.Expire(ctx, in)
				return err
			},
			"referralconfirm": func(ctx context.Context, in json.RawMessage) error {
				_, err := ref.Confirm(ctx, in)
				return err
			},
			"tiers": func(ctx context.Context, in json.RawMessage) error {
				_, err := eng.Downgrade(ctx, in)
				return err
			},
		},
	}
	for _, fn := range catalogue.All() {
		switch {
		case len(fn.Routes) > 0:
			h, err := srv.Handler(fn)
			if err != nil {
				return nil, err
			}
			sys.HTTP[fn.Name] = httpadapter.NewV2(h).ProxyWithContext
		case fn.Stream != nil:
			if sys.Streams[fn.Name] == nil {
				return nil, fmt.Errorf("system: no stream handler for %s", fn.Name)
			}
		case fn.Schedule != nil:
			if sys.Targets[fn.Name] == nil {
				return nil, fmt.Errorf("system: no scheduled target for %s", fn.Name)
			}
		case fn.Authorizer:
		default:
			return nil, fmt.Errorf("system: %s has no trigger", fn.Name)
		}
	}
	sys.Gateway, err = gateway.New(sys.HTTP, authz.Handle, log)
	if err != nil {
		return nil, err
	}
	return sys, nil
}

// Invoke runs a scheduled target by function name.
func (s *System) Invoke(ctx context.Context, target string, input json.RawMessage) error {
	t, ok := s.Targets[target]
	if !ok {
		return errors.New("system: no target " + target)
	}
	return t(ctx, input)
}
