package stack

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/tribehq/tribe/shared/catalogue"
)

func TestConsoleIsServedFromAPrivateBucketThroughCloudFront(t *testing.T) {
	// GIVEN the stack synthesized with a built console in the asset folder
	s := synth(t)

	// WHEN the console's bucket, distribution and deployment are read
	bucketID := s.idOf(t, "AWS::S3::Bucket", "ConsoleBucket")
	bucket := s.doc.Resources[bucketID].Properties
	dist := s.find(t, "AWS::CloudFront::Distribution", func(map[string]any) bool { return true })
	oac := s.find(t, "AWS::CloudFront::OriginAccessControl", func(map[string]any) bool { return true })
	distID := s.idOf(t, "AWS::CloudFront::Distribution")

	// THEN the bucket is private and no website
	for _, block := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if dig(bucket, "PublicAccessBlockConfiguration", block) != true {
			t.Errorf("console bucket: %s not set", block)
		}
	}
	if bucket["WebsiteConfiguration"] != nil {
		t.Error("console bucket is a website")
	}
	// AND only the distribution may read it, through origin access control
	var reads []map[string]any
	for _, r := range s.doc.Resources {
		if r.Type == "AWS::S3::BucketPolicy" && refersTo(r.Properties["Bucket"], bucketID) {
			for _, st := range statementsOf(cfnResource{Type: "AWS::IAM::Policy", Properties: r.Properties}) {
				if st["Effect"] == "Allow" {
					reads = append(reads, st)
				}
			}
		}
	}
	if len(reads) != 1 || dig(reads[0], "Principal", "Service") != "cloudfront.amazonaws.com" ||
		!slices.Equal(asStrings(reads[0]["Action"]), []string{"s3:GetObject"}) ||
		!refersTo(dig(reads[0], "Condition", "StringEquals", "AWS:SourceArn"), distID) {
		t.Errorf("console bucket policy allows %v; want GetObject for this distribution only", reads)
	}
	if dig(oac, "OriginAccessControlConfig", "SigningBehavior") != "always" || dig(oac, "OriginAccessControlConfig", "OriginAccessControlOriginType") != "s3" {
		t.Errorf("origin access control %v", oac)
	}
	origins, _ := dig(dist, "DistributionConfig", "Origins").([]any)
	if len(origins) != 1 || !refersTo(dig(origins[0], "DomainName"), bucketID) || dig(origins[0], "OriginAccessControlId") == nil {
		t.Errorf("origins %v; want the console bucket through origin access control", origins)
	}
	// AND viewers are sent to HTTPS, with single-page app routes rewritten
	behavior := dig(dist, "DistributionConfig", "DefaultCacheBehavior")
	if dig(behavior, "ViewerProtocolPolicy") != "redirect-to-https" {
		t.Errorf("viewer protocol policy %v", dig(behavior, "ViewerProtocolPolicy"))
	}
	fnID, _ := dig(behavior, "FunctionAssociations", 0, "FunctionARN", "Fn::GetAtt", 0).(string)
	if dig(behavior, "FunctionAssociations", 0, "EventType") != "viewer-request" || s.doc.Resources[fnID].Type != "AWS::CloudFront::Function" {
		t.Errorf("function associations %v", dig(behavior, "FunctionAssociations"))
	}
	// AND the built console is deployed under /console/, invalidated each deploy
	deploy := s.find(t, "Custom::CDKBucketDeployment", func(map[string]any) bool { return true })
	if deploy["DestinationBucketKeyPrefix"] != "console/" || !refersTo(deploy["DestinationBucketName"], bucketID) ||
		!reflect.DeepEqual(deploy["DistributionPaths"], []any{"/console/*"}) || !refersTo(deploy["DistributionId"], distID) {
		t.Errorf("console deployment %v", deploy)
	}
	if _, ok := s.doc.Outputs["ConsoleUrl"]; !ok {
		t.Error("no ConsoleUrl output")
	}
}

func TestAPICorsAllowsOnlyTheConsole(t *testing.T) {
	// GIVEN the synthesized stack
	s := synth(t)

	// WHEN the API's CORS configuration is read
	api := s.doc.Resources[s.idOf(t, "AWS::ApiGatewayV2::Api")].Properties
	cors, _ := api["CorsConfiguration"].(map[string]any)

	// THEN the one allowed origin is the console distribution's https domain
	origins, _ := cors["AllowOrigins"].([]any)
	distID := s.idOf(t, "AWS::CloudFront::Distribution")
	if len(origins) != 1 || !refersTo(origins[0], distID) || !strings.Contains(jsonOf(origins[0]), `"https://"`) {
		t.Errorf("allowed origins %v; want https:// and the console distribution's domain", origins)
	}
	// AND the methods are the catalogue's, the headers those the API reads, no
	// wildcard anywhere and no credentials
	if got := asStrings(cors["AllowMethods"]); !slices.Equal(got, corsMethods()) || len(got) < 4 {
		t.Errorf("methods %v, want %v", got, corsMethods())
	}
	for _, h := range []string{"Authorization", "Content-Type", "Idempotency-Key"} {
		if !slices.Contains(asStrings(cors["AllowHeaders"]), h) {
			t.Errorf("allowed headers %v lack %s", cors["AllowHeaders"], h)
		}
	}
	if strings.Contains(jsonOf(cors), `"*"`) || cors["AllowCredentials"] == true {
		t.Errorf("CORS %v has a wildcard or credentials", cors)
	}
}

func TestConsoleWithoutABuildAndWithItsOwnDomain(t *testing.T) {
	// GIVEN an asset folder with the functions but no console, and a console domain
	dir := t.TempDir()
	if err := writeAssets(dir, catalogue.All()); err != nil {
		t.Fatal(err)
	}
	const domain, cert = "console.tribe.test", "arn:aws:acm:us-east-1:111122223333:certificate/console"

	// WHEN the stack is synthesized
	tr := newTribe(awscdk.NewApp(nil), "Tribe-console", &TribeStackProps{Stage: "test", AssetDir: dir,
		ConsoleDomain: domain, ConsoleCertificateArn: cert})
	stacks, err := deployedTemplates(tr)
	if err != nil {
		t.Fatal(err)
	}
	root := stacks[0].doc

	// THEN the bucket and distribution are there, serving the domain, with
	// nothing deployed into the bucket
	types := map[string]int{}
	var dist, api map[string]any
	for id, r := range root.Resources {
		types[r.Type]++
		switch r.Type {
		case "AWS::CloudFront::Distribution":
			dist = r.Properties
		case "AWS::ApiGatewayV2::Api":
			api = r.Properties
		case "AWS::S3::Bucket":
			if !strings.HasPrefix(id, "ConsoleBucket") && !strings.HasPrefix(id, "StreamFailures") {
				t.Errorf("unexpected bucket %s", id)
			}
		}
	}
	if types["AWS::S3::Bucket"] != 2 || types["AWS::CloudFront::Distribution"] != 1 || types["Custom::CDKBucketDeployment"] != 0 {
		t.Errorf("resources by type %v; want both buckets, the distribution and no deployment", types)
	}
	if got := dig(dist, "DistributionConfig", "Aliases"); !reflect.DeepEqual(got, []any{domain}) ||
		dig(dist, "DistributionConfig", "ViewerCertificate", "AcmCertificateArn") != cert {
		t.Errorf("distribution aliases %v, certificate %v", got, dig(dist, "DistributionConfig", "ViewerCertificate"))
	}
	// AND the API's CORS allows the console domain only
	if got := dig(api, "CorsConfiguration", "AllowOrigins"); !reflect.DeepEqual(got, []any{"https://" + domain}) {
		t.Errorf("allowed origins %v, want https://%s", got, domain)
	}
}

func TestConsoleRewriteServesTheAppForItsRoutes(t *testing.T) {
	// GIVEN the console's CloudFront Function and Node to run it
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node (which CDK synthesis needs too) is not installed: %v", err)
	}
	cases := map[string]string{
		"/":                         "301 /console/",
		"/console":                  "301 /console/",
		"/console/":                 "/console/index.html",
		"/console/members/m1":       "/console/index.html",
		"/console/assets/app.1a.js": "/console/assets/app.1a.js",
		"/console/favicon.ico":      "/console/favicon.ico",
		"/other.txt":                "/other.txt",
	}
	var uris []string
	for uri := range cases {
		uris = append(uris, uri)
	}

	// WHEN each path is requested
	script := consoleRewrite + `
const out = {};
for (const uri of JSON.parse(process.argv[1])) {
  const r = handler({request: {uri}});
  out[uri] = r.statusCode ? r.statusCode + ' ' + r.headers.location.value : r.uri;
}
console.log(JSON.stringify(out));`
	raw, err := exec.Command(node, "-e", script, jsonOf(uris)).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got map[string]string
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}

	// THEN app routes get index.html, files themselves, and the bare paths a redirect
	if !reflect.DeepEqual(got, cases) {
		t.Errorf("got %v, want %v", got, cases)
	}
}

func jsonOf(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}
