// Package tableguard refuses, in the SDK, every DynamoDB call that IAM would refuse
// a function on AWS: an SDK middleware on the DynamoDB client that maps each request
// to the IAM actions it needs and fails it, before it is sent, unless all of them are
// in the function's catalogue table actions. DynamoDB Local does not evaluate IAM, so
// without it a function that calls an action it is not granted passes every local
// test and fails on its first day in AWS.
//
// The mapping is IAM's: a single-item or batch operation needs the action of its own
// name (BatchGetItem needs dynamodb:BatchGetItem, not GetItem); TransactWriteItems
// needs, per item, dynamodb:PutItem, UpdateItem, DeleteItem or ConditionCheckItem;
// TransactGetItems needs dynamodb:GetItem ("Using IAM with DynamoDB transactions",
// Amazon DynamoDB Developer Guide).
package tableguard

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// Actions returns the IAM actions a DynamoDB request needs, and the API operation
// it is. An input this package does not know is named by its Go type and needs an
// action no function is granted, so it is refused.
func Actions(input any) (op string, actions []string) {
	switch in := input.(type) {
	case *dynamodb.GetItemInput:
		return "GetItem", []string{"dynamodb:GetItem"}
	case *dynamodb.PutItemInput:
		return "PutItem", []string{"dynamodb:PutItem"}
	case *dynamodb.UpdateItemInput:
		return "UpdateItem", []string{"dynamodb:UpdateItem"}
	case *dynamodb.DeleteItemInput:
		return "DeleteItem", []string{"dynamodb:DeleteItem"}
	case *dynamodb.QueryInput:
		return "Query", []string{"dynamodb:Query"}
	case *dynamodb.ScanInput:
		return "Scan", []string{"dynamodb:Scan"}
	case *dynamodb.BatchGetItemInput:
		return "BatchGetItem", []string{"dynamodb:BatchGetItem"}
	case *dynamodb.BatchWriteItemInput:
		return "BatchWriteItem", []string{"dynamodb:BatchWriteItem"}
	case *dynamodb.DescribeTableInput:
		return "DescribeTable", []string{"dynamodb:DescribeTable"}
	case *dynamodb.TransactGetItemsInput:
		return "TransactGetItems", []string{"dynamodb:GetItem"}
	case *dynamodb.TransactWriteItemsInput:
		var out []string
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				out = append(out, "dynamodb:PutItem")
			case it.Update != nil:
				out = append(out, "dynamodb:UpdateItem")
			case it.Delete != nil:
				out = append(out, "dynamodb:DeleteItem")
			case it.ConditionCheck != nil:
				out = append(out, "dynamodb:ConditionCheckItem")
			}
		}
		slices.Sort(out)
		return "TransactWriteItems", slices.Compact(out)
	}
	name := fmt.Sprintf("%T", input)
	return name, []string{"unknown:" + name}
}

// DeniedError is the error a refused request fails with.
type DeniedError struct {
	Function, Op, Action string
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("tableguard: AccessDenied: %s is not granted %s (needed by %s)", e.Function, e.Action, e.Op)
}

// Guard is one function's grant. It records every refusal, so a caller that swallows
// the error (best-effort writes, logged failures) is still caught by the test that
// asks Denied afterwards.
type Guard struct {
	function string
	allowed  map[string]bool

	mu     sync.Mutex
	denied []string
}

// New returns the guard for function, allowing exactly actions.
func New(function string, actions []string) *Guard {
	g := &Guard{function: function, allowed: map[string]bool{}}
	for _, a := range actions {
		g.allowed[a] = true
	}
	return g
}

// Check returns a *DeniedError for the first action input needs that the function
// is not granted, and records it.
func (g *Guard) Check(input any) error {
	op, actions := Actions(input)
	for _, a := range actions {
		if !g.allowed[a] {
			e := &DeniedError{Function: g.function, Op: op, Action: a}
			g.record(e)
			return e
		}
	}
	return nil
}

func (g *Guard) record(e *DeniedError) {
	g.mu.Lock()
	g.denied = append(g.denied, e.Error())
	g.mu.Unlock()
}

// Denied returns every refusal so far, oldest first.
func (g *Guard) Denied() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.denied)
}

// Option installs the guard on a DynamoDB client: dynamodb.New(opts, g.Option).
// The check runs in the initialize step, before retries and before anything is sent.
func (g *Guard) Option(o *dynamodb.Options) { install(o, "TribeTableGuard", g.Check) }

func install(o *dynamodb.Options, name string, check func(any) error) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc(name,
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if err := check(in.Parameters); err != nil {
					return middleware.InitializeOutput{}, middleware.Metadata{}, err
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}
