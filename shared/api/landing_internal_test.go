package api

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPageLang(t *testing.T) {
	for header, want := range map[string]string{
		"":                               "zh",
		"en":                             "en",
		"en-US,en;q=0.9":                 "en",
		"zh-CN,zh;q=0.9,en;q=0.8":        "zh",
		"en-GB;q=0.5, zh-TW;q=0.4":       "en",
		"fr-FR,fr;q=0.9,en;q=0.8":        "en",
		"fr-FR,de;q=0.9":                 "zh",
		"en;q=0, zh;q=0.1":               "zh",
		"ZH-hans, EN;q=0.99":             "zh",
		"en;q=bogus,zh;q=0.5":            "en",
		strings.Repeat("x-y;q=0.1,", 50): "zh",
	} {
		r := httptest.NewRequest("GET", "/l/x", nil)
		r.Header.Set("Accept-Language", header)
		if got := pageLang(r); got != want {
			t.Errorf("%q: %s, want %s", header, got, want)
		}
	}
}
