package stack

import (
	"fmt"
	"hash/fnv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
)

// CloudFormation takes at most 500 resources in a stack, and each function costs
// about a dozen (log group, function, version, alias, role, deployment group,
// alarms, permission, mapping or schedule). So the functions live in nested
// stacks, FunctionGroups of them, each function with everything that is its own:
//
//   - root: the table, the scheduler group, role and queues, the failure bucket,
//     the admin key, the secrets key, the alarm topic, the HTTP API with its
//     stage, domain, authorizer, integrations and routes, the CodeDeploy
//     application and role, the table/API/scheduler/queue alarms, the dashboard,
//     the console hosting, and the roles of functions that use secrets (the
//     secrets key's policy names them; the key stays in the root, its logical id
//     unchanged, since sealed secrets in the retained table need it);
//   - each group: per function its log group, Lambda, version, live alias, role
//     and tenant role (secrets users' roles excepted), CodeDeploy deployment
//     group, alarms, API invoke permission, stream mapping, async invoke config,
//     schedule, and the policy letting the scheduler role invoke the group's
//     scheduled functions.
//
// The routes, integrations and authorizer stay in the root with the logical ids
// they had: API Gateway refuses a second route with the same key, and a route
// moved to another stack would be created before the old one is deleted.
// CDK wires references between the stacks as nested stack parameters and
// outputs; nothing in the root that a group uses refers back into a group (the
// scheduler role's invoke permission lives in the group for that reason, and the
// authorizer's invoke permission in the root).
//
// A function's group is a hash of its name, so adding a function never moves
// another one (moving a function between stacks replaces it).
// TestEveryStackStaysWellUnderTheResourceLimit and
// TestResourceLimitHoldsAt45Functions say when to add groups.
const FunctionGroups = 4

// GroupOf is the index of the nested stack that holds the catalogue function name.
func GroupOf(name string) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32() % FunctionGroups)
}

// addGroups creates the function groups' nested stacks.
func (t *tribe) addGroups() {
	for i := range FunctionGroups {
		t.groups = append(t.groups, awscdk.NewNestedStack(t.stack, jsii.String(fmt.Sprintf("Functions%d", i+1)), &awscdk.NestedStackProps{
			Description: jsii.String(fmt.Sprintf("Tribe (%s): function group %d of %d", t.props.Stage, i+1, FunctionGroups)),
		}))
	}
}

// group is the nested stack of the catalogue function name.
func (t *tribe) group(name string) awscdk.NestedStack { return t.groups[GroupOf(name)] }

// roleScope is where f's roles live: the root for a function using secrets,
// whose role the secrets key's policy names (a key policy in the root naming a
// role in a group that takes the key's ARN as a parameter would be a cycle); its
// group otherwise.
func (t *tribe) roleScope(f catalogue.Function) constructs.Construct {
	if f.Secrets != 0 {
		return t.stack
	}
	return t.group(f.Name)
}

// allowSchedulerInvoke lets the scheduler role invoke the live alias of the
// catalogue function name (its catalogue schedule, or schedules a function
// creates at run time targeting it) and returns the policy that does, for
// schedules to wait on. Never grant it with the alias's GrantInvoke: that puts the
// statement in the root's scheduler role policy, naming the group's alias while
// the group waits for that policy (a cycle).
func (t *tribe) allowSchedulerInvoke(name string) awsiam.Policy {
	p := t.schedulerInvokePolicy(name)
	p.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{t.aliases[name].FunctionArn()},
	}))
	return p
}

// schedulerInvokePolicy is the policy of name's group on the scheduler role allowing it to
// invoke the group's scheduled functions, created on first use. It lives in the
// group: in the root it would name the group's aliases while the group's
// schedules wait for it.
func (t *tribe) schedulerInvokePolicy(name string) awsiam.Policy {
	g := GroupOf(name)
	p, ok := t.schedulerInvoke[g]
	if !ok {
		p = awsiam.NewPolicy(t.groups[g], jsii.String(*t.groups[g].Node().Id()+"SchedulerInvoke"), &awsiam.PolicyProps{
			Roles: &[]awsiam.IRole{t.scheduler.role},
		})
		t.schedulerInvoke[g] = p
	}
	return p
}
