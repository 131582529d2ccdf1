package displayname

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "王小明", "王小明"},
		{"latin with spaces", "  Ana   Lee ", "Ana Lee"},
		{"line breaks", "Ana\n\n@all 官方通知", "Ana @all 官方通知"},
		{"bidi override", "Ana\u202Egnp.exe\u202C", "Anagnp․exe"},
		{"isolates and marks", "\u2066A\u2069\u200Eb\u200F\u061C", "Ab"},
		{"zero width", "A\u200Bn\u200C\u200Da\u2060\uFEFF", "Ana"},
		{"scheme", "https://evil.cn/x", "https：//evil․cn/x"},
		{"ip", "1.2.3.4", "1․2․3․4"},
		{"ideographic dot", "evil。cn", "evil․cn"},
		{"sentence dot kept", "Hi. Bye.", "Hi. Bye."},
		{"invalid utf-8", "A\xffB", "AB"},
		{"long", strings.Repeat("长", 40), strings.Repeat("长", 31) + "…"},
		{"only format characters", "\u202E\u200B", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Clean(tc.in); got != tc.want {
				t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzClean: whatever the name, the result is valid UTF-8 of at most MaxRunes,
// without control or format characters, line breaks, a URL scheme or a dotted
// host name, and cleaning it again changes nothing.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"王小明", "Ana\u202Egnp.exe", "https://a.b/c", "a.b.c", "x\n\ty", "A\u200Db", strings.Repeat("é", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := Clean(in)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > MaxRunes {
			t.Fatalf("Clean(%q) = %q: invalid or too long", in, got)
		}
		rs := []rune(got)
		for i, r := range rs {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || (unicode.IsSpace(r) && r != ' ') {
				t.Fatalf("Clean(%q) = %q keeps %U", in, got, r)
			}
			if i > 0 && i+1 < len(rs) && isDot(r) && isWordRune(rs[i-1]) && isWordRune(rs[i+1]) {
				t.Fatalf("Clean(%q) = %q keeps a dotted name", in, got)
			}
		}
		if strings.Contains(got, "://") {
			t.Fatalf("Clean(%q) = %q keeps a scheme", in, got)
		}
		if again := Clean(got); again != got && !strings.HasSuffix(got, "…") {
			t.Fatalf("Clean is not idempotent: %q then %q", got, again)
		}
	})
}
