package tribesig

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_795_000_000, 0)
	body := []byte(`{"id":"evt_1"}`)
	good := Sign("s3cret", now, body)
	for _, tc := range []struct {
		name   string
		values []string
		body   []byte
		secret string
		at     time.Time
		want   error
	}{
		{"good", []string{good}, body, "s3cret", now, nil},
		{"split by the Lambda adapter", strings.Split(good, ","), body, "s3cret", now, nil},
		{"rotated: second v1 matches", []string{Sign("old", now, body) + "," + strings.Split(good, ",")[1]}, body, "s3cret", now, nil},
		{"tampered body", []string{good}, []byte(`{"id":"evt_2"}`), "s3cret", now, ErrSignature},
		{"wrong secret", []string{good}, body, "other", now, ErrSignature},
		{"stale", []string{good}, body, "s3cret", now.Add(6 * time.Minute), ErrStale},
		{"future", []string{good}, body, "s3cret", now.Add(-6 * time.Minute), ErrStale},
		{"missing", nil, body, "s3cret", now, ErrMissing},
		{"no v1", []string{"t=1795000000"}, body, "s3cret", now, ErrSignature},
		{"garbage", []string{"hello"}, body, "s3cret", now, ErrSignature},
		{"no secret", []string{good}, body, "", now, ErrNoSecret},
	} {
		h := http.Header{}
		for _, v := range tc.values {
			h.Add(Header, v)
		}
		if err := Verify(tc.secret, h, tc.body, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
