package wecom

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecrypt feeds arbitrary ciphertext bytes under a valid signature, so the
// fuzzer gets past the signature check and into base64, CBC, padding, length
// and receive-id handling. It must never panic, and every failure must be one
// of the sentinels.
func FuzzDecrypt(f *testing.F) {
	c := sampleCrypter(f)
	f.Add([]byte{})
	f.Add(make([]byte, 16))
	f.Add(make([]byte, 32))
	raw, _ := base64.StdEncoding.DecodeString(encryptText(f, readSample(f, "official_post.xml")))
	f.Add(raw)
	f.Fuzz(func(t *testing.T, ciphertext []byte) {
		enc := base64.StdEncoding.EncodeToString(ciphertext)
		sig := Signature(sampleToken, "1", "n", enc)
		body := []byte("<xml><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>")
		for _, err := range []error{
			func() error { _, err := c.Decrypt(sig, "1", "n", body); return err }(),
			func() error { _, err := c.VerifyURL(sig, "1", "n", enc); return err }(),
		} {
			if err != nil && !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrReceiveID) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error %v", err)
			}
		}
	})
}

// FuzzParse feeds arbitrary bytes to Parse and the envelope reader: no panics,
// and every Parse failure is ErrMalformed.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.xml"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("<xml><MemChangeList>a,,b<Item/></MemChangeList></xml>"))
	c := sampleCrypter(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		ev, err := Parse(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error %v", err)
			}
		} else {
			_ = ev.DedupeKey()
			_ = ev.Supported()
			_ = ev.Time()
		}
		_, _ = c.Decrypt("x", "1", "n", in)
	})
}
