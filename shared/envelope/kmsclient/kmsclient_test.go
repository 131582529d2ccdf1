package kmsclient

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"sync"
	"testing"

	"github.com/tribehq/tribe/shared/awscall"
	"github.com/tribehq/tribe/shared/awscall/awscalltest"
	"github.com/tribehq/tribe/shared/envelope"
)

// recorder is KMS (its JSON API, signatures checked) answering every call with
// status and errType, or else a fixed key; it keeps the requests by operation.
type recorder struct {
	status  int
	errType string
	mu      sync.Mutex
	calls   map[string]map[string]any
}

func (r *recorder) start(t *testing.T) *Client {
	r.calls = map[string]map[string]any{}
	cfg, endpoint := awscalltest.Start(t, "kms", func(w http.ResponseWriter, req *http.Request, body []byte) {
		if req.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
			t.Errorf("content type %q", req.Header.Get("Content-Type"))
		}
		var in map[string]any
		if err := json.Unmarshal(body, &in); err != nil {
			t.Errorf("request body %s: %v", body, err)
		}
		r.mu.Lock()
		r.calls[req.Header.Get("X-Amz-Target")] = in
		r.mu.Unlock()
		if r.status != 0 {
			w.WriteHeader(r.status)
			w.Write([]byte(`{"__type":"` + r.errType + `","message":"refused"}`))
			return
		}
		// 32 zero bytes and "wrapped", base64
		w.Write([]byte(`{"KeyId":"key-1","Plaintext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","CiphertextBlob":"d3JhcHBlZA=="}`))
	})
	return New(cfg, endpoint)
}

// TestRequests: both calls name the key and the tenant's encryption context, and
// data keys are AES-256.
func TestRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := &recorder{}
	kek, err := envelope.NewKMSKey(r.start(t), "key-1")
	if err != nil {
		t.Fatal(err)
	}
	_, wrapped, err := kek.NewDataKey(ctx, "ten_42")
	if err != nil {
		t.Fatal(err)
	}
	if string(wrapped) != "wrapped" {
		t.Errorf("wrapped key %q", wrapped)
	}
	want := map[string]any{"tenant": "ten_42"}
	g := r.calls["TrentService.GenerateDataKey"]
	if g["KeyId"] != "key-1" || g["KeySpec"] != "AES_256" || !maps.Equal(g["EncryptionContext"].(map[string]any), want) {
		t.Errorf("GenerateDataKey input %+v", g)
	}
	if _, err := kek.UnwrapDataKey(ctx, "ten_42", wrapped); err != nil {
		t.Fatal(err)
	}
	d := r.calls["TrentService.Decrypt"]
	if d["KeyId"] != "key-1" || d["CiphertextBlob"] != "d3JhcHBlZA==" || !maps.Equal(d["EncryptionContext"].(map[string]any), want) {
		t.Errorf("Decrypt input %+v", d)
	}
}

// TestDecryptErrors: KMS refusing the ciphertext is envelope.ErrOpen; a KMS
// failure (throttling, outage) is not, so callers retry it.
func TestDecryptErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status  int
		errType string
		open    bool
	}{
		{400, "InvalidCiphertextException", true},
		{400, "com.amazonaws.kms#IncorrectKeyException", true},
		{500, "KMSInternalException", false},
		{400, "AccessDeniedException", false},
	} {
		_, err := (&recorder{status: tc.status, errType: tc.errType}).start(t).Decrypt(context.Background(), "key-1", []byte("w"), nil)
		var e *awscall.Error
		if errors.Is(err, envelope.ErrOpen) != tc.open || (!tc.open && !errors.As(err, &e)) {
			t.Errorf("%s: Decrypt error %v, want ErrOpen %v", tc.errType, err, tc.open)
		}
	}
}
