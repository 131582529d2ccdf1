// Package displayname makes a chat platform's display name safe to repeat in a
// message Tribe sends through a brand's robot ({name} in welcome and moderation
// templates). A display name is chosen by whoever joins, so it must not be able
// to reorder the text around it, hide text, break lines to fake an official
// notice, or carry a link the robot's platform would make clickable in the
// brand's voice.
package displayname

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxRunes is the longest name Clean returns, in characters, the ellipsis
// included. WeCom and WeChat display names are at most 32 characters.
const MaxRunes = 32

// Clean returns name fit for {name}:
//   - invalid UTF-8 is dropped; control characters (line breaks and tabs
//     included) become spaces, and runs of white space one space;
//   - every format character (Unicode Cf) is removed: the bidi embeddings,
//     overrides and isolates U+202A–U+202E and U+2066–U+2069, the marks
//     U+200E/U+200F/U+061C, zero-width characters (U+200B–U+200D, U+2060,
//     U+FEFF), soft hyphens and tag characters;
//   - links are neutralised by breaking the text linkifiers look for, keeping it
//     readable: "://" becomes "：//" (a full-width colon) and a dot between two
//     letters or digits ("evil.cn", "1.2.3.4") becomes "․" (U+2024 ONE DOT
//     LEADER), so no scheme or host name is left for a robot to turn into a link;
//   - the result is cut to MaxRunes, ending in "…" when cut.
//
// Clean may return "": the caller then uses its own default.
func Clean(name string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(name, "") {
		switch {
		case unicode.Is(unicode.Cf, r):
			continue
		case unicode.IsControl(r) || unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	s := neutraliseLinks(b.String())
	if utf8.RuneCountInString(s) > MaxRunes {
		s = string([]rune(s)[:MaxRunes-1]) + "…"
	}
	return s
}

func neutraliseLinks(s string) string {
	s = strings.ReplaceAll(s, "://", "：//")
	rs := []rune(s)
	for i := 1; i+1 < len(rs); i++ {
		if isDot(rs[i]) && isWordRune(rs[i-1]) && isWordRune(rs[i+1]) {
			rs[i] = '․'
		}
	}
	return string(rs)
}

// isDot reports the dots linkifiers read as a host name's separator: the ASCII
// dot and the ideographic and full-width ones some platforms accept too.
func isDot(r rune) bool { return r == '.' || r == '。' || r == '．' || r == '｡' }

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
