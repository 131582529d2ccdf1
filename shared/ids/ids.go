// Package ids makes Tribe's identifiers: a short type prefix and a 26-character,
// time-ordered, random suffix in Crockford base32 (the ULID layout), so ids sort by
// creation and never collide in practice.
package ids

import (
	"crypto/rand"
	"strings"
	"time"
)

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// Prefixes in use.
const (
	Tenant = "ten"
	Member = "mem"
	APIKey = "key"
)

// New returns prefix_<ulid> for the current time.
func New(prefix string) string { return NewAt(prefix, time.Now()) }

// NewAt returns prefix_<ulid> for t.
func NewAt(prefix string, t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	return encode(prefix, b)
}

// FromHash returns prefix_<26 characters> made from the first 16 bytes of sum (a
// SHA-256 of what names the thing), for ids that a retry must arrive at again. It
// panics when sum is shorter than 16 bytes.
func FromHash(prefix string, sum []byte) string {
	return encode(prefix, [16]byte(sum[:16]))
}

func encode(prefix string, b [16]byte) string {
	var sb strings.Builder
	sb.Grow(len(prefix) + 27)
	sb.WriteString(prefix)
	sb.WriteByte('_')
	// 128 bits as 26 base32 digits: the first digit holds the top 3 bits.
	var acc uint64
	bits := 0
	sb.WriteByte(alphabet[b[0]>>5])
	acc = uint64(b[0] & 0x1f)
	bits = 5
	for _, c := range b[1:] {
		acc = acc<<8 | uint64(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			sb.WriteByte(alphabet[(acc>>uint(bits))&0x1f])
		}
	}
	return sb.String()
}

// Valid reports whether s looks like an id with the given prefix: it guards keys
// against user input that would break them.
func Valid(prefix, s string) bool {
	if len(s) != len(prefix)+27 || !strings.HasPrefix(s, prefix+"_") {
		return false
	}
	for _, c := range s[len(prefix)+1:] {
		if !strings.ContainsRune(alphabet, c) {
			return false
		}
	}
	return true
}

// Random returns n random characters from the id alphabet: for secrets.
func Random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]&0x1f]
	}
	return string(b)
}
