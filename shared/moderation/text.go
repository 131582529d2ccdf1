package moderation

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// text is a message's text prepared once per decision. Its slices usually
// live in buffers on Decide's stack.
type text struct {
	folded []rune // fold applied to every rune
	skel   []rune // the letters and digits of folded
	// joined[i] reports that skel[i] directly followed skel[i-1] in folded,
	// with nothing dropped in between; it tells "devx" from "dev x".
	joined  []bool
	hash    uint32 // FNV-1a of folded without white space and format characters
	hasText bool   // something was hashed
}

// fold maps full-width ASCII (U+FF01–FF5E) to ASCII, the ideographic space to
// a space, ideographic full stops to '.', and letters to lower case.
func fold(r rune) rune {
	switch {
	case r >= 'A' && r <= 'Z':
		return r + ('a' - 'A')
	case r < utf8.RuneSelf:
		return r
	case r >= 0xFF01 && r <= 0xFF5E:
		return fold(r - 0xFEE0)
	case r == 0x3000:
		return ' '
	case r == 0x3002 || r == 0xFF61: // 。 ｡
		return '.'
	case r >= 0x3040 && r <= 0x9FFF: // kana to CJK ideographs: no case, and the bulk of Chinese text
		return r
	default:
		return unicode.ToLower(r)
	}
}

// wordRune reports whether r survives into the skeleton: letters and digits
// are kept; spaces, punctuation, symbols, emoji, marks and invisible format
// characters inserted to break a word up are dropped.
func wordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
	}
	if isIdeograph(r) {
		return true
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

func hashedRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r > ' ' && r != 0x7f
	}
	if isIdeograph(r) {
		return true
	}
	return !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r)
}

// isIdeograph is a fast path for the CJK Unified Ideographs block.
func isIdeograph(r rune) bool { return r >= 0x4E00 && r <= 0x9FFF }

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' }

func isASCIIAlnum(r rune) bool { return isASCIILetter(r) || r >= '0' && r <= '9' }

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

// newText prepares s, appending to the given buffers.
func newText(s string, folded, skel []rune, joined []bool) text {
	t := text{folded: folded[:0], skel: skel[:0], joined: joined[:0]}
	h := uint32(fnvOffset)
	adjacent := false
	for _, r := range s {
		r = fold(r)
		t.folded = append(t.folded, r)
		if hashedRune(r) {
			h = (h ^ uint32(r)) * fnvPrime
			t.hasText = true
		}
		if wordRune(r) {
			t.skel = append(t.skel, r)
			t.joined = append(t.joined, adjacent)
			adjacent = true
		} else {
			adjacent = false
		}
	}
	t.hash = h
	return t
}

// skeleton appends the letters and digits of fold(s) to buf.
func skeleton(s string, buf []rune) []rune {
	for _, r := range s {
		if r = fold(r); wordRune(r) {
			buf = append(buf, r)
		}
	}
	return buf
}

// containsWord reports whether the skeleton holds word's skeleton; buf is
// scratch space. See KeywordRule for the Latin-letter boundary.
func (t *text) containsWord(word string, buf []rune) bool {
	kw := skeleton(word, buf[:0])
	if len(kw) == 0 || len(kw) > len(t.skel) {
		return false
	}
	checkStart, checkEnd := isASCIILetter(kw[0]), isASCIILetter(kw[len(kw)-1])
	for i := 0; i+len(kw) <= len(t.skel); i++ {
		if t.skel[i] != kw[0] || !equalRunes(t.skel[i:i+len(kw)], kw) {
			continue
		}
		if checkStart && i > 0 && t.joined[i] && isASCIILetter(t.skel[i-1]) {
			continue
		}
		if j := i + len(kw); checkEnd && j < len(t.skel) && t.joined[j] && isASCIILetter(t.skel[j]) {
			continue
		}
		return true
	}
	return false
}

func equalRunes(a, b []rune) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// containsASCII reports whether rs contains pat, which is lower-case ASCII.
func containsASCII(rs []rune, pat string) bool {
	for i := 0; i+len(pat) <= len(rs); i++ {
		j := 0
		for j < len(pat) && rs[i+j] == rune(pat[j]) {
			j++
		}
		if j == len(pat) {
			return true
		}
	}
	return false
}

// tlds are the top-level domains that make a bare "name.tld" a link. Words
// that double as file extensions (py, md, js, sh, rs) are left out on purpose.
var tlds = [...]string{
	"ai", "app", "art", "asia", "biz", "cc", "club", "cn", "co", "com", "dev",
	"fun", "hk", "icu", "info", "ink", "io", "jp", "kr", "link", "live", "ltd",
	"ly", "me", "mobi", "net", "online", "org", "shop", "site", "store", "tech",
	"top", "tv", "tw", "uk", "us", "vip", "wang", "work", "xin", "xyz",
}

func hostRune(r rune) bool { return isASCIIAlnum(r) || r == '-' || r == '.' }

// nextHost returns the host of the first link in the text at or after rune
// i, and where to continue; host is nil when there are no more links.
func (t *text) nextHost(i int) (host []rune, next int) {
	f := t.folded
	for i < len(f) {
		if !hostRune(f[i]) {
			i++
			continue
		}
		start := i
		for i < len(f) && hostRune(f[i]) {
			i++
		}
		scheme := start >= 3 && f[start-3] == ':' && f[start-2] == '/' && f[start-1] == '/'
		host := trimHost(f[start:i])
		if !isLinkHost(host, scheme) {
			continue
		}
		// Skip the path, so that "a.com/b.cn" is one link to a.com.
		if i < len(f) && (f[i] == '/' || f[i] == '?' || f[i] == '#' || f[i] == ':') {
			for i < len(f) && f[i] > ' ' && f[i] < utf8.RuneSelf && !strings.ContainsRune(",;!\"'<>()[]{}|\\^`", f[i]) {
				i++
			}
		}
		return host, i
	}
	return nil, i
}

func trimHost(h []rune) []rune {
	for len(h) > 0 && (h[0] == '.' || h[0] == '-') {
		h = h[1:]
	}
	for len(h) > 0 && (h[len(h)-1] == '.' || h[len(h)-1] == '-') {
		h = h[:len(h)-1]
	}
	return h
}

// isLinkHost: after a scheme anything is a host (IPs, localhost); otherwise
// the host needs two or more non-empty labels and either starts with "www."
// or ends in a known top-level domain.
func isLinkHost(h []rune, scheme bool) bool {
	if len(h) == 0 {
		return false
	}
	if scheme {
		return true
	}
	dot := -1
	for i, r := range h {
		if r == '.' {
			if i == dot+1 {
				return false // empty label
			}
			dot = i
		}
	}
	if dot < 0 {
		return false
	}
	if len(h) > 4 && h[0] == 'w' && h[1] == 'w' && h[2] == 'w' && h[3] == '.' {
		return true
	}
	last := h[dot+1:]
	for _, tld := range tlds {
		if len(tld) == len(last) && containsASCII(last, tld) {
			return true
		}
	}
	return false
}

// hostAllowed reports whether host is domain or under it; domain may be
// written "*.example.com" or ".example.com" and in any case.
func hostAllowed(host []rune, domain string) bool {
	domain = strings.TrimPrefix(strings.TrimPrefix(domain, "*."), ".")
	n, m := len(host), len(domain)
	if m == 0 || n < m || (n > m && host[n-m-1] != '.') {
		return false
	}
	for i := 0; i < m; i++ {
		c := domain[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if host[n-m+i] != rune(c) {
			return false
		}
	}
	return true
}

// qrLinks are QR targets in folded text; qrPhrases are scan prompts matched
// on the skeleton, so "长 按 识 别" counts too.
var (
	qrLinks   = [...]string{"weixin.qq.com/r/", "weixin.qq.com/g/", "u.wechat.com", "wxp://", "qr.alipay.com"}
	qrPhrases = [...]string{"长按识别", "识别二维码", "扫码", "扫一扫"}
)

func (t *text) hasQR(buf []rune) bool {
	for _, p := range qrLinks {
		if containsASCII(t.folded, p) {
			return true
		}
	}
	for _, p := range qrPhrases {
		if t.containsWord(p, buf) {
			return true
		}
	}
	return false
}
