// Package catalogue is the one definition of Tribe's functions: every Lambda, its
// HTTP routes with the scope each needs, its stream trigger or its schedule, and the
// table actions it may use. The CDK stack, the local gateway, the stream pump, the
// scheduler emulator, the OpenAPI test and the handler registry all read it; nothing
// lists a route a second time.
//
// Adding an endpoint is one Route here plus one handler registered under its Op.
package catalogue

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Scope is what a caller must hold to use a route.
type Scope string

// Scopes, from least to most privileged. Public routes need no key at all (webhooks
// and the like authenticate themselves); platform routes need the platform admin key.
const (
	ScopePublic   Scope = "public"
	ScopeRead     Scope = "read"
	ScopeWrite    Scope = "write"
	ScopeAdmin    Scope = "admin"
	ScopePlatform Scope = "platform"
)

// Route is one HTTP route: Method and Path in API Gateway syntax
// ("/v1/members/{id}"), which Go's ServeMux also understands.
type Route struct {
	Method string
	Path   string
	Scope  Scope
	// Op names the handler and is the route's OpenAPI operationId.
	Op string
}

// Pattern is the route as a ServeMux pattern and an API Gateway route key.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Stream declares that a function consumes the table's stream. Only records whose
// new or old image has a "type" attribute in ItemTypes reach it (on AWS as event
// source mapping filter criteria, locally in the pump).
type Stream struct {
	ItemTypes []string
	// Events are the record event names the function acts on (EventInsert,
	// EventModify, EventRemove); records of other events never reach it. See
	// Patterns.
	Events []string
	// ModifiedStatuses, when set, narrows MODIFY records to those whose new image's
	// status is one of them.
	ModifiedStatuses []string
	// ModifiedTypes and RemovedTypes, when set, narrow MODIFY and REMOVE records
	// to those item types (of ItemTypes): a consumer of inserted chat events need
	// not wake for their TTL expiry.
	ModifiedTypes []string
	RemovedTypes  []string
	// InsertedTypes, when set, narrows INSERT records the same way: eventsout
	// takes coupon codes only as they are issued (a MODIFY), not as uploaded.
	InsertedTypes []string
	// BatchSize is the most records per invocation.
	BatchSize int
	// MaxRetries is how often a failing record is retried before it is sent to the
	// dead-letter destination.
	MaxRetries int
	// Parallelization is how many batches of one stream shard run at once (records
	// of one partition key stay in order); zero means one.
	Parallelization int
}

// Schedule declares that a function runs on a schedule, as an EventBridge Scheduler
// expression ("cron(0 3 * * ? *)", "rate(1 hour)") evaluated in Timezone.
type Schedule struct {
	Expression string
	Timezone   string
}

// Table actions a function may be granted. Only these are ever granted, each on the
// one table and its indexes.
const (
	GetItem            = "dynamodb:GetItem"
	PutItem            = "dynamodb:PutItem"
	UpdateItem         = "dynamodb:UpdateItem"
	DeleteItem         = "dynamodb:DeleteItem"
	Query              = "dynamodb:Query"
	BatchGetItem       = "dynamodb:BatchGetItem"
	BatchWriteItem     = "dynamodb:BatchWriteItem"
	ConditionCheckItem = "dynamodb:ConditionCheckItem"
	// DescribeTable reads the table's key schema, no item. guregu/dynamo asks for it
	// to build a page cursor when a limited query ends exactly at its limit with no
	// LastEvaluatedKey, so every function that queries is granted it.
	DescribeTable = "dynamodb:DescribeTable"
)

// SecretUse is what a function may do with the key that seals secrets at rest
// (integration secrets, WeCom tokens and keys, connector URLs and secrets): on AWS
// the KMS key's policy lets exactly these functions generate data keys (Encrypt)
// or unwrap them (Decrypt); the others get no key at all.
type SecretUse uint8

// Secret uses.
const (
	// Encrypt: the function writes secrets (it creates or changes what holds them).
	Encrypt SecretUse = 1 << iota
	// Decrypt: the function reads secrets, to verify what comes in or to send.
	Decrypt
)

// Function is one Lambda.
type Function struct {
	Name        string
	Description string
	// Authorizer marks the API Gateway Lambda authorizer.
	Authorizer bool
	Routes     []Route
	Stream     *Stream
	Schedule   *Schedule
	// TableActions are the DynamoDB actions the function may call. TransactWriteItems
	// and TransactGetItems are authorised by the item actions inside them.
	TableActions []string
	// TenantScoped marks tenant-facing functions: every tenant's data is reached with
	// credentials of a role assumed for that tenant, which IAM lets touch only
	// partition keys starting T#<tenant>#; the function's own role reaches only the
	// platform's idempotency records of unauthenticated requests. Functions that
	// legitimately cross tenants (the authorizer, platform administration, the
	// tenant function, which keeps the platform registry copy of a tenant's
	// settings, stream consumers and scheduled jobs) keep their own role.
	TenantScoped bool
	// Platform marks functions that need the platform admin key secret.
	PlatformSecret bool
	// Secrets is what the function does with secrets at rest; zero for none.
	Secrets SecretUse
	// Schedules marks functions that create, move and cancel schedules in the
	// stack's schedule group (the campaigns API); only they get the scheduler
	// actions and may pass the scheduler role.
	Schedules bool
	// ScheduleTarget marks a function invoked by schedules made at run time (a
	// campaign's schedule invokes the campaign runner): its trigger. The
	// scheduler role may invoke it; Schedules functions learn its ARN.
	ScheduleTarget bool
	// ReadsStream marks a function that reads the table's stream itself through
	// the Streams API (the reconciler, with its own checkpoints), not through a
	// Lambda trigger: it gets the stream's record actions and its ARN.
	ReadsStream bool
	// MemoryMB and TimeoutSeconds size the Lambda; zero means the defaults.
	MemoryMB       int
	TimeoutSeconds int
	// ReservedConcurrency caps the function's concurrent executions; zero means
	// none (public routes get the front door's cap).
	ReservedConcurrency int
}

// DefaultMemoryMB is a function's memory when the catalogue gives none.
const DefaultMemoryMB = 256

// Memory is the function's memory in MB, the default when unset; the stack sizes
// the Lambda with it and the benchmarks price GB-seconds with it.
func (f Function) Memory() int {
	if f.MemoryMB == 0 {
		return DefaultMemoryMB
	}
	return f.MemoryMB
}

// DefaultTimeoutSeconds is a function's timeout when the catalogue names none.
const DefaultTimeoutSeconds = 10

// MaxRouteTimeoutSeconds bounds the functions behind routes: API Gateway's HTTP
// API answers 503 after 30 s whatever the function does, so a request must be done
// well before.
const MaxRouteTimeoutSeconds = 29

// Timeout is how long the function may run.
func (f Function) Timeout() time.Duration {
	if f.TimeoutSeconds == 0 {
		return DefaultTimeoutSeconds * time.Second
	}
	return time.Duration(f.TimeoutSeconds) * time.Second
}

// All returns every function, sorted by name. The slice is a copy.
func All() []Function {
	out := make([]Function, len(functions))
	copy(out, functions)
	return out
}

// Lookup returns the function called name.
func Lookup(name string) (Function, bool) {
	for _, f := range functions {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// MustLookup returns the function called name, and panics when there is none: call
// it at cold start only.
func MustLookup(name string) Function {
	f, ok := Lookup(name)
	if !ok {
		panic(fmt.Sprintf("catalogue: no function %q", name))
	}
	return f
}

// Authorizer returns the authorizer function.
func Authorizer() Function {
	for _, f := range functions {
		if f.Authorizer {
			return f
		}
	}
	panic("catalogue: no authorizer")
}

// Bound is a route with the function that serves it.
type Bound struct {
	Function string
	Route
}

// Routes returns every route of every function, sorted by path then method.
func Routes() []Bound {
	var out []Bound
	for _, f := range functions {
		for _, r := range f.Routes {
			out = append(out, Bound{Function: f.Name, Route: r})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Validate reports the first inconsistency in the catalogue: duplicate names, routes
// or ops, a function with more than one trigger, a route outside /v1 (public
// landing pages may sit under /l/, their short printed URL), a missing scope.
func Validate() error {
	names := map[string]bool{}
	patterns := map[string]string{}
	ops := map[string]string{}
	authorizers := 0
	for _, f := range functions {
		if f.Name == "" || strings.ToLower(f.Name) != f.Name {
			return fmt.Errorf("catalogue: function name %q must be lower case", f.Name)
		}
		if names[f.Name] {
			return fmt.Errorf("catalogue: function %q declared twice", f.Name)
		}
		names[f.Name] = true
		triggers := 0
		if len(f.Routes) > 0 {
			triggers++
			if f.Timeout() > MaxRouteTimeoutSeconds*time.Second {
				return fmt.Errorf("catalogue: %s serves routes and may run %s; API Gateway gives up at 30 s (at most %d s)", f.Name, f.Timeout(), MaxRouteTimeoutSeconds)
			}
		}
		if f.Stream != nil {
			triggers++
			if len(f.Stream.ItemTypes) == 0 || f.Stream.BatchSize <= 0 || f.Stream.MaxRetries <= 0 {
				return fmt.Errorf("catalogue: %s: stream needs item types, batch size and retries", f.Name)
			}
			if err := f.Stream.validateEvents(); err != nil {
				return fmt.Errorf("catalogue: %s: %w", f.Name, err)
			}
		}
		if f.Schedule != nil {
			triggers++
			if f.Schedule.Expression == "" || f.Schedule.Timezone == "" {
				return fmt.Errorf("catalogue: %s: schedule needs an expression and a time zone", f.Name)
			}
		}
		if f.Authorizer {
			authorizers++
			triggers++
		}
		if f.ScheduleTarget {
			triggers++
		}
		if triggers != 1 {
			return fmt.Errorf("catalogue: %s must have exactly one trigger, has %d", f.Name, triggers)
		}
		for _, r := range f.Routes {
			if !strings.HasPrefix(r.Path, "/v1/") && !(r.Scope == ScopePublic && strings.HasPrefix(r.Path, "/l/")) {
				return fmt.Errorf("catalogue: %s: route %s outside /v1", f.Name, r.Pattern())
			}
			switch r.Scope {
			case ScopePublic, ScopeRead, ScopeWrite, ScopeAdmin, ScopePlatform:
			default:
				return fmt.Errorf("catalogue: %s: route %s has scope %q", f.Name, r.Pattern(), r.Scope)
			}
			if prev, ok := patterns[r.Pattern()]; ok {
				return fmt.Errorf("catalogue: route %s in both %s and %s", r.Pattern(), prev, f.Name)
			}
			patterns[r.Pattern()] = f.Name
			if r.Op == "" {
				return fmt.Errorf("catalogue: %s: route %s has no op", f.Name, r.Pattern())
			}
			if prev, ok := ops[r.Op]; ok {
				return fmt.Errorf("catalogue: op %s in both %s and %s", r.Op, prev, f.Name)
			}
			ops[r.Op] = f.Name
		}
	}
	if authorizers != 1 {
		return fmt.Errorf("catalogue: want exactly one authorizer, have %d", authorizers)
	}
	return nil
}
