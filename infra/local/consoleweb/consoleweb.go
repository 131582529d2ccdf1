// Package consoleweb serves the built console (console/dist) at /console/ next to
// the local API gateway, and builds it with npm (npm ci against the committed
// lockfile, then vite) when it is missing. On AWS the stack hosts the same files.
package consoleweb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/tribehq/tribe/infra/local/localproc"
)

// Prefix is where the console is served.
const Prefix = "/console/"

// InstallHint is what to do when the console cannot be built.
const InstallHint = "building the console needs Node.js and npm (apt-get install -y nodejs npm); it runs npm ci && npm run build in console/"

// Dir is the console's folder under the repository root.
func Dir(root string) string { return filepath.Join(root, "console") }

// Ensure returns console/dist, building it when index.html is missing or older
// than any of the console's sources (a checkout that changed the console since the
// last build). Builds of several test processes at once are serialised by a lock
// file.
func Ensure(ctx context.Context, root string) (string, error) {
	src := Dir(root)
	dist := filepath.Join(src, "dist")
	if fresh(src, dist) {
		return dist, nil
	}
	if _, err := os.Stat(filepath.Join(src, "package-lock.json")); err != nil {
		return "", fmt.Errorf("consoleweb: no console/package-lock.json: %w", err)
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", errors.New("consoleweb: npm not found: " + InstallHint)
	}
	unlock, err := localproc.Lock(filepath.Join(os.TempDir(), "tribe-console-build.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if fresh(src, dist) {
		return dist, nil
	}
	for _, args := range [][]string{{"ci", "--no-audit", "--no-fund"}, {"run", "build"}} {
		cmd := exec.CommandContext(ctx, "npm", args...)
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("consoleweb: npm %s: %w: %s (%s)", strings.Join(args, " "), err, out, InstallHint)
		}
	}
	return dist, nil
}

// Handler serves dist at /console/ (any path that is not a file gets index.html:
// the console routes by hash, but a reload of /console must work) and hands
// everything else to api.
func Handler(dist string, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/console" || r.URL.Path == "/" && r.Method == http.MethodGet {
			http.Redirect(w, r, Prefix, http.StatusFound)
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			api.ServeHTTP(w, r)
			return
		}
		clean := path.Clean("/" + rest)
		if st, err := os.Stat(filepath.Join(dist, filepath.FromSlash(clean))); err != nil || st.IsDir() {
			clean = "/index.html"
		}
		if strings.HasPrefix(clean, "/assets/") {
			// Hashed file names: cache for good.
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		// ServeContent, not FileServer: that redirects /index.html to ./
		f, err := os.Open(filepath.Join(dist, filepath.FromSlash(clean)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, st.Name(), st.ModTime(), f)
	})
}

// fresh reports whether dist/index.html exists and is at least as new as every
// source of the build: the files under src/ and public/, index.html, the package
// files and the Vite config.
func fresh(src, dist string) bool {
	built, err := os.Stat(filepath.Join(dist, "index.html"))
	if err != nil {
		return false
	}
	newer := false
	check := func(path string, d fs.DirEntry, err error) error {
		if err != nil || newer {
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil && info.ModTime().After(built.ModTime()) {
			newer = true
		}
		return nil
	}
	for _, dir := range []string{"src", "public"} {
		_ = filepath.WalkDir(filepath.Join(src, dir), check)
	}
	for _, f := range []string{"index.html", "package.json", "package-lock.json", "vite.config.js", "vite.config.mjs", "vite.config.ts"} {
		if info, err := os.Stat(filepath.Join(src, f)); err == nil && info.ModTime().After(built.ModTime()) {
			newer = true
		}
	}
	return !newer
}
