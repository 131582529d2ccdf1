package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// CloudFormation takes at most 500 resources in a stack. Tribe spreads its
// functions over nested stacks (nested.go) and spends resources only where they
// carry something of their own: one API Gateway invoke permission and one
// integration per function rather than per route (addAPI), one CodeDeploy service
// role (addCanaryDeployments), and roles carrying their policies inline rather
// than in a separate AWS::IAM::Policy each (inlinePolicies).
// TestEveryStackStaysWellUnderTheResourceLimit and
// TestResourceLimitHoldsAt45Functions say when to add function groups.

// inlinePolicies moves the statements CDK gathers in role's default policy (its
// own grants and those of constructs bound to it) into the role as an inline
// policy: the same permissions, one resource instead of two. It must run after
// the last grant to the role has been made; statements added later still land in
// the same document. Whatever depended on the role still does, and now gets the
// permissions with it.
func inlinePolicies(role awsiam.IRole) {
	child := role.Node().TryFindChild(jsii.String("DefaultPolicy"))
	if child == nil {
		return
	}
	policy := child.(awsiam.Policy)
	cfn := role.Node().DefaultChild().(awsiam.CfnRole)
	if cfn.Policies() != nil {
		panic("stack: role " + *role.Node().Path() + " already has inline policies")
	}
	cfn.SetPolicies(&[]any{&awsiam.CfnRole_PolicyProperty{
		PolicyName:     jsii.String("default"),
		PolicyDocument: policy.Document(),
	}})
	role.Node().TryRemoveChild(jsii.String("DefaultPolicy"))
}
