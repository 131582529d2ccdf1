package stack

import (
	"os"
	"path/filepath"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
)

// The console (console/, `npm run build` → console/dist, copied by `make build` to
// <AssetDir>/console) is served by CloudFront from a private bucket under
// ConsolePath.
const (
	// ConsoleAssetDir is the console's folder in the asset directory.
	ConsoleAssetDir = "console"
	// ConsolePath is where the console is served ("/console/…"), and its
	// objects' prefix in the bucket.
	ConsolePath = "/console/"
)

// consoleRewrite is the CloudFront Function (viewer request) in front of the
// console: "/" and "/console" redirect to the console, and a path under it
// without a file extension (a route of the single-page app, such as
// /console/members/m1) is answered with the app's index.html. Files that do not
// exist stay 403 (the bucket lists nothing), so a missing script is not answered
// with HTML.
const consoleRewrite = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/' || uri === '/console') {
    return { statusCode: 301, statusDescription: 'Moved Permanently', headers: { location: { value: '/console/' } } };
  }
  if (uri.startsWith('/console/') && uri.split('/').pop().indexOf('.') === -1) {
    request.uri = '/console/index.html';
  }
  return request;
}`

// CORS of the HTTP API: the headers the console sends that are not safelisted,
// and those of the API's answers it may read.
var (
	corsAllowHeaders  = []string{"Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"}
	corsExposeHeaders = []string{"Location", "Retry-After", "X-Request-Id", "Idempotent-Replayed", "Content-Disposition"}
)

// addConsole creates the console's private bucket and the CloudFront distribution
// that reads it through origin access control, and deploys the built console
// into it when the asset directory has one (make synth works without it: the
// bucket and distribution are made, empty). It returns the console's origin
// ("https://…"): the ConsoleDomain when the stack has one, else the
// distribution's domain.
func (t *tribe) addConsole() *string {
	bucket := awss3.NewBucket(t.stack, jsii.String("ConsoleBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
	})
	rewrite := awscloudfront.NewFunction(t.stack, jsii.String("ConsoleRewrite"), &awscloudfront.FunctionProps{
		Comment: jsii.String("Tribe console: single-page app routes to /console/index.html"),
		Code:    awscloudfront.FunctionCode_FromInline(jsii.String(consoleRewrite)),
		Runtime: awscloudfront.FunctionRuntime_JS_2_0(),
	})
	props := &awscloudfront.DistributionProps{
		Comment: jsii.String("Tribe console (" + t.props.Stage + ")"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:                awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(bucket, nil),
			ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			CachePolicy:           awscloudfront.CachePolicy_CACHING_OPTIMIZED(),
			ResponseHeadersPolicy: awscloudfront.ResponseHeadersPolicy_SECURITY_HEADERS(),
			FunctionAssociations: &[]*awscloudfront.FunctionAssociation{{
				Function:  rewrite,
				EventType: awscloudfront.FunctionEventType_VIEWER_REQUEST,
			}},
		},
		MinimumProtocolVersion: awscloudfront.SecurityPolicyProtocol_TLS_V1_2_2021,
		HttpVersion:            awscloudfront.HttpVersion_HTTP2_AND_3,
	}
	if t.props.ConsoleDomain != "" && t.props.ConsoleCertificateArn != "" {
		props.DomainNames = jsii.Strings(t.props.ConsoleDomain)
		props.Certificate = awscertificatemanager.Certificate_FromCertificateArn(t.stack, jsii.String("ConsoleCertificate"), jsii.String(t.props.ConsoleCertificateArn))
	}
	dist := awscloudfront.NewDistribution(t.stack, jsii.String("ConsoleDistribution"), props)

	// The built console, when there is one: replaced whole on each deploy (files
	// no longer built are removed), revalidated by browsers, and the
	// distribution's copies invalidated.
	dir := filepath.Join(t.props.AssetDir, ConsoleAssetDir)
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err == nil {
		awss3deployment.NewBucketDeployment(t.stack, jsii.String("ConsoleDeployment"), &awss3deployment.BucketDeploymentProps{
			Sources:              &[]awss3deployment.ISource{awss3deployment.Source_Asset(jsii.String(dir), nil)},
			DestinationBucket:    bucket,
			DestinationKeyPrefix: jsii.String(ConsolePath[1:]),
			CacheControl:         &[]awss3deployment.CacheControl{awss3deployment.CacheControl_NoCache()},
			Distribution:         dist,
			DistributionPaths:    jsii.Strings(ConsolePath + "*"),
		})
	}

	origin := jsii.String("https://" + *dist.DistributionDomainName())
	if t.props.ConsoleDomain != "" {
		origin = jsii.String("https://" + t.props.ConsoleDomain)
	}
	awscdk.NewCfnOutput(t.stack, jsii.String("ConsoleUrl"), &awscdk.CfnOutputProps{
		Value: jsii.String(*origin + ConsolePath),
	})
	awscdk.NewCfnOutput(t.stack, jsii.String("ConsoleDistributionDomain"), &awscdk.CfnOutputProps{
		Description: jsii.String("With a console domain, point its DNS (CNAME or alias) here."),
		Value:       dist.DistributionDomainName(),
	})
	return origin
}

// apiCors lets only the console's origin call the API from a browser, with the
// methods the catalogue's routes use and the headers the API reads and answers.
// No credentials: the console sends its token in Authorization.
func apiCors(origin *string) *awsapigatewayv2.CorsPreflightOptions {
	var methods []awsapigatewayv2.CorsHttpMethod
	for _, m := range corsMethods() {
		methods = append(methods, awsapigatewayv2.CorsHttpMethod(m))
	}
	return &awsapigatewayv2.CorsPreflightOptions{
		AllowOrigins:  &[]*string{origin},
		AllowMethods:  &methods,
		AllowHeaders:  jsii.Strings(corsAllowHeaders...),
		ExposeHeaders: jsii.Strings(corsExposeHeaders...),
		MaxAge:        awscdk.Duration_Hours(jsii.Number(1)),
	}
}

// corsMethods are the methods of the catalogue's routes, sorted.
func corsMethods() []string {
	var out []string
	for _, r := range catalogue.Routes() {
		if !slices.Contains(out, r.Method) {
			out = append(out, r.Method)
		}
	}
	slices.Sort(out)
	return out
}
