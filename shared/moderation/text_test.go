package moderation

import (
	"testing"
	"unicode"
)

// TestFastPaths checks the shortcuts in fold, wordRune and hashedRune against
// the unicode package over the ranges they cover.
func TestFastPaths(t *testing.T) {
	t.Parallel()
	for r := rune(0x3040); r <= 0x9FFF; r++ {
		if got := fold(r); got != unicode.ToLower(r) {
			t.Fatalf("fold(%U) = %U, want %U", r, got, unicode.ToLower(r))
		}
	}
	for r := rune(0x4E00); r <= 0x9FFF; r++ {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
			t.Fatalf("%U is in the ideograph fast path but not a letter", r)
		}
	}
}
