// Package browsertest starts Debian's Chromium, headless, for tests that look at a
// page as a person would (the console, landing pages), driven through chromedp.
//
// A missing browser fails the test with the command that installs it; it never
// skips, so a CI machine without Chromium cannot pass quietly.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// InstallHint is what a machine without Chromium needs.
const InstallHint = "apt-get update && apt-get install -y chromium"

// Path finds the Chromium binary: $CHROMIUM, then the Debian package's names.
func Path() (string, bool) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, true
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// Browser is one headless Chromium with the console messages and page errors it
// saw.
type Browser struct {
	Ctx    context.Context
	errors chan string
}

// New starts Chromium for the test and stops it when the test ends. The flags keep
// it off the network this machine does not have (background services, component
// updates) and let it run as root in a container.
func New(t testing.TB) *Browser {
	t.Helper()
	path, ok := Path()
	if !ok {
		t.Fatalf("browsertest: Chromium is not installed; install it with: %s", InstallHint)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	b := &Browser{Ctx: ctx, errors: make(chan string, 256)}
	// Start the browser now so a broken install fails here, with the hint; the
	// console subscription needs the target this creates. The first run must use
	// the browser's own context: cancelling the context of the first run closes
	// the browser, so the start is bounded by a timer instead.
	timer := time.AfterFunc(60*time.Second, cancelCtx)
	err := chromedp.Do(ctx)
	timer.Stop()
	if err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("browsertest: Chromium at %s did not start: %v (reinstall with: %s)", path, err, InstallHint)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				b.record(m.String())
			}
		}
	}()
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	return b
}
func (b *Browser) record(msg string) {
	select {
	case b.errors <- msg:
	default:
	}
}

// Errors returns the console errors and uncaught exceptions seen so far.
func (b *Browser) Errors() []string {
	var out []string
	for {
		select {
		case m := <-b.errors:
			out = append(out, m)
		default:
			return out
		}
	}
}

// Do runs actions in order with a timeout and fails the test on an error.
func (b *Browser) Do(t testing.TB, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// Get runs one action that returns a value, with a timeout, and fails the test on
// an error.
func Get[T any](t testing.TB, b *Browser, timeout time.Duration, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

// Screenshot saves a full-page PNG to dir/name.png (dir is created) and returns
// its path. Tests save under testdata/screenshots or $TRIBE_SCREENSHOTS.
func (b *Browser) Screenshot(t testing.TB, dir, name string) string {
	t.Helper()
	png := Get(t, b, 30*time.Second, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ScreenshotDir is where tests save screenshots: $TRIBE_SCREENSHOTS, or a folder
// under the system temp dir named for the suite.
func ScreenshotDir(suite string) string {
	if d := os.Getenv("TRIBE_SCREENSHOTS"); d != "" {
		return filepath.Join(d, suite)
	}
	return filepath.Join(os.TempDir(), "tribe-screenshots", suite)
}
