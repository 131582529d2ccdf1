package browsertest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestBrowserRendersAPageAndSeesItsErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>t</title><h1 id="h">你好</h1><script>console.error("boom")</script>`))
	}))
	defer srv.Close()
	b := New(t)
	b.Do(t, 30*time.Second, chromedp.Navigate(srv.URL))
	text := Get(t, b, 30*time.Second, chromedp.Text(chromedp.CSS("#h")))
	if text != "你好" {
		t.Fatalf("heading = %q", text)
	}
	path := b.Screenshot(t, t.TempDir(), "page")
	if st, err := os.Stat(path); err != nil || st.Size() < 100 {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	var errs []string
	for len(errs) == 0 && time.Now().Before(deadline) {
		errs = append(errs, b.Errors()...)
		time.Sleep(50 * time.Millisecond)
	}
	if len(errs) == 0 {
		t.Fatal("the page's console.error was not seen")
	}
}
