package tenantcreds_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tribehq/tribe/shared/awscall"
	"github.com/tribehq/tribe/shared/awscall/awscalltest"
	"github.com/tribehq/tribe/shared/tenantcreds"
)

func TestSTSAssumesTheTenantRoleOverTheQueryAPI(t *testing.T) {
	t.Parallel()
	// GIVEN STS (its query API, signatures checked) answering AssumeRole
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	var form url.Values
	cfg, endpoint := awscalltest.Start(t, "sts", func(w http.ResponseWriter, r *http.Request, body []byte) {
		form, _ = url.ParseQuery(string(body))
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/x/members@ten_a</Arn><AssumedRoleId>AROA:members@ten_a</AssumedRoleId></AssumedRoleUser>
<Credentials><AccessKeyId>ASIATENANT</AccessKeyId><SecretAccessKey>s3cr3t</SecretAccessKey><SessionToken>tok</SessionToken>
<Expiration>` + expires.Format(time.RFC3339) + `</Expiration></Credentials><PackedPolicySize>6</PackedPolicySize>
</AssumeRoleResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></AssumeRoleResponse>`))
	})
	c, err := tenantcreds.New(dynamodb.Options{}, tenantcreds.NewSTS(cfg, endpoint), role, "members")
	if err != nil {
		t.Fatal(err)
	}

	// WHEN a tenant's credentials are retrieved
	creds := retrieve(t, c, "ten_a")

	// THEN the request assumed the tenant role, named and tagged for the tenant,
	// for an hour, and the session's expiring credentials are used
	want := url.Values{
		"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {role}, "RoleSessionName": {"members@ten_a"},
		"DurationSeconds": {"3600"}, "Tags.member.1.Key": {"tenant"}, "Tags.member.1.Value": {"ten_a"},
	}
	if form.Encode() != want.Encode() {
		t.Errorf("AssumeRole form %v, want %v", form, want)
	}
	if creds.AccessKeyID != "ASIATENANT" || creds.SecretAccessKey != "s3cr3t" || creds.SessionToken != "tok" ||
		!creds.CanExpire || !creds.Expires.Equal(expires) {
		t.Errorf("credentials %+v", creds)
	}
}

func TestSTSRefusalIsAnError(t *testing.T) {
	t.Parallel()
	// GIVEN STS refusing the role
	cfg, endpoint := awscalltest.Start(t, "sts", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed</Message></Error></ErrorResponse>`))
	})

	// WHEN the role is assumed
	_, err := tenantcreds.NewSTS(cfg, endpoint).AssumeRole(context.Background(), tenantcreds.AssumeRoleInput{RoleARN: role, SessionName: "s", Duration: time.Hour})

	// THEN the error carries STS's code
	var e *awscall.Error
	if !errors.As(err, &e) || e.Code != "AccessDenied" {
		t.Errorf("error %v, want AccessDenied", err)
	}
}
