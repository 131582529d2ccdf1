// Package referral is Tribe's referral and distribution engine (裂变 · 以老代新 ·
// 分销): invite codes, first-touch attribution with its fraud rules, the referral
// program's rewards through the points ledger, distributor commission, and the
// stream consumer and hourly confirmation that drive them.
package referral

import (
	"crypto/rand"
	"strings"
)

// Alphabet is the invite code alphabet: digits and capitals without 0, 1, I, L,
// O and U, which are misread or spell words.
const Alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

// CodeLen is the length of an invite code: 30^8 ≈ 6.6e11 codes.
const CodeLen = 8

// StatePrefix marks an invite code in a chat platform's state parameter (WeCom
// contact ways, join ways, Tribe's chat events). Channel codes are letters, digits,
// - and _ only, so no channel code starts with it: the namespaces never collide.
// "ref." plus 8 fits WeCom's 30-character state.
const StatePrefix = "ref."

// NewCode returns a random invite code.
func NewCode() string {
	var b [CodeLen]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, CodeLen)
	for i, c := range b {
		// 256 is not a multiple of 30; the bias (≤ 1/8 on the first 16 letters)
		// costs a little entropy, not uniqueness, which the code's item enforces.
		out[i] = Alphabet[int(c)%len(Alphabet)]
	}
	return string(out)
}

// ParseCode normalises what a person typed or a platform carried as an invite
// code: the state prefix, surrounding space, lower case, and - or space between
// groups are accepted. It reports false for anything that is not a well-formed code.
func ParseCode(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 64 {
		return "", false
	}
	if len(s) >= len(StatePrefix) && strings.EqualFold(s[:len(StatePrefix)], StatePrefix) {
		s = s[len(StatePrefix):]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		if strings.IndexByte(Alphabet, c) < 0 {
			return "", false
		}
		b.WriteByte(c)
	}
	if b.Len() != CodeLen {
		return "", false
	}
	return b.String(), true
}

// FromState returns the invite code a chat state carries, when it carries one:
// only states with StatePrefix are invite codes, everything else is a channel's.
func FromState(state string) (string, bool) {
	if len(state) < len(StatePrefix) || !strings.EqualFold(state[:len(StatePrefix)], StatePrefix) {
		return "", false
	}
	return ParseCode(state)
}

// State is the chat state parameter that carries code.
func State(code string) string { return StatePrefix + code }
