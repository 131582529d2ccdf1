package awscall

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/awscall/awscalltest"
)

func TestPostIsSignedForTheServiceAndRegion(t *testing.T) {
	t.Parallel()
	// GIVEN an endpoint that checks signatures
	cfg, endpoint := awscalltest.Start(t, "kms", func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.Header.Get("X-Amz-Target") != "TrentService.Decrypt" || string(body) != `{"a":1}` {
			t.Errorf("target %q body %s", r.Header.Get("X-Amz-Target"), body)
		}
		w.Write([]byte(`{"ok":true}`))
	})

	// WHEN a call is posted
	h := http.Header{}
	h.Set("X-Amz-Target", "TrentService.Decrypt")
	out, err := New(cfg, "kms", endpoint).Post(context.Background(), h, []byte(`{"a":1}`))

	// THEN it is answered (the signature checked out)
	if err != nil || string(out) != `{"ok":true}` {
		t.Fatalf("answer %s, %v", out, err)
	}
}

func TestThrottlesAndServerErrorsAreRetriedClientErrorsAreNot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		answers  []int // statuses before a 200; 400 answers a throttle unless code says
		code     string
		calls    int
		wantCode string
	}{
		{"throttle then 500 then ok", []int{400, 500}, "ThrottlingException", 3, ""},
		{"always 503", []int{503, 503, 503, 503}, "ServiceUnavailable", 3, "ServiceUnavailable"},
		{"access denied", []int{400}, "AccessDeniedException", 1, "AccessDeniedException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// GIVEN an endpoint answering errors before succeeding
			var calls atomic.Int32
			cfg, endpoint := awscalltest.Start(t, "kms", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				n := int(calls.Add(1))
				if n <= len(tc.answers) {
					w.WriteHeader(tc.answers[n-1])
					w.Write([]byte(`{"__type":"com.amazonaws.kms#` + tc.code + `","message":"no"}`))
					return
				}
				w.Write([]byte(`{}`))
			})
			c := New(cfg, "kms", endpoint)
			c.backoff = time.Millisecond

			// WHEN a call is posted
			_, err := c.Post(context.Background(), http.Header{}, []byte(`{}`))

			// THEN retryable failures are tried again, up to three times, and the
			// error names AWS's code
			if int(calls.Load()) != tc.calls {
				t.Errorf("calls %d, want %d", calls.Load(), tc.calls)
			}
			var e *Error
			if tc.wantCode == "" && err != nil || tc.wantCode != "" && (!errors.As(err, &e) || e.Code != tc.wantCode) {
				t.Errorf("error %v, want code %q", err, tc.wantCode)
			}
		})
	}
}

func TestErrorAnswersOfBothProtocols(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]Error{
		`{"__type":"com.amazonaws.kms#InvalidCiphertextException","message":"bad"}`:                                       {400, "InvalidCiphertextException", "bad"},
		`{"__type":"IncorrectKeyException:http://internal.amazon.com/","Message":"key"}`:                                  {400, "IncorrectKeyException", "key"},
		`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>`: {400, "AccessDenied", "no"},
		`oops`: {400, "Bad Request", "oops"},
	} {
		if got := parseError(400, []byte(body)); *got != want {
			t.Errorf("%s: got %+v, want %+v", body, *got, want)
		}
	}
	if got := RegionalEndpoint("sts", "cn-north-1"); got != "https://sts.cn-north-1.amazonaws.com.cn" {
		t.Errorf("China endpoint %s", got)
	}
}
