package tests

// Helpers shared by matrix_test.go and programs_test.go: where the artifacts are, the
// environments of native and hooked runs, and running a program with a timeout, its
// output captured and attached to any failure.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// artifacts are the absolute paths of everything `make test-artifacts` and the loader's
// build produce.
type artifacts struct {
	build    string // the build directory
	loader   string // build/libzpoline.so
	hookRS   string // build/tests/testhook_rs.so
	hookOrig string // build/tests/testhook_orig.so
	probes   string // build/tests/probes
}

// probeNames lists every probe binary; keep in sync with ZPT_PROBES in tests/Makefile.inc.
var probeNames = []string{
	"threads", "clone", "exec", "signals", "sigstate", "vector", "redzone", "nullcall", "badnr",
	"warmstart",
}

func findArtifacts(t *testing.T) *artifacts {
	t.Helper()
	dir := os.Getenv("ZPOLINE_BUILD")
	if dir == "" {
		dir = filepath.Join("..", "build")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("resolve build directory %q: %v", dir, err)
	}
	return &artifacts{
		build:    abs,
		loader:   filepath.Join(abs, "libzpoline.so"),
		hookRS:   filepath.Join(abs, "tests", "testhook_rs.so"),
		hookOrig: filepath.Join(abs, "tests", "testhook_orig.so"),
		probes:   filepath.Join(abs, "tests", "probes"),
	}
}

func (a *artifacts) probe(name string) string { return filepath.Join(a.probes, name) }

// requireFiles fails (never skips) the test when a build artifact is missing.
func requireFiles(t *testing.T, paths ...string) {
	t.Helper()
	var missing []string
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("build artifacts missing: %s\nrun make first (make test-artifacts builds the "+
			"probes and test hooks; the loader comes from the main build), or set "+
			"ZPOLINE_BUILD to the build directory", strings.Join(missing, ", "))
	}
}

// needProbes returns the artifacts after checking that every probe was built.
func needProbes(t *testing.T) *artifacts {
	t.Helper()
	a := findArtifacts(t)
	paths := make([]string, 0, len(probeNames))
	for _, p := range probeNames {
		paths = append(paths, a.probe(p))
	}
	requireFiles(t, paths...)
	return a
}

// needLoader additionally checks the loader, both test hooks, and that page 0 can be mapped.
func needLoader(t *testing.T) *artifacts {
	t.Helper()
	a := needProbes(t)
	requireFiles(t, a.loader, a.hookRS, a.hookOrig)
	requirePage0(t)
	return a
}

// requirePage0 fails with an explanation when the loader cannot map its trampoline at 0.
func requirePage0(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/vm/mmap_min_addr")
	if err != nil {
		t.Fatalf("read vm.mmap_min_addr: %v", err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("parse /proc/sys/vm/mmap_min_addr %q: %v", b, err)
	}
	if v == 0 {
		return
	}
	if os.Geteuid() != 0 {
		t.Fatalf("vm.mmap_min_addr is %d: the loader maps its trampoline at virtual address 0, "+
			"which needs vm.mmap_min_addr=0 or CAP_SYS_RAWIO. Run `sudo sysctl -w "+
			"vm.mmap_min_addr=0` (CI's .ci/run does) or run the tests as root", v)
	}
	t.Logf("vm.mmap_min_addr is %d; running as root, relying on CAP_SYS_RAWIO to map page 0", v)
}

// runTimeout is the bound of every program run; a hang is a failure with its output.
func runTimeout() time.Duration {
	if s := os.Getenv("ZPOLINE_TEST_TIMEOUT"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			return d
		}
	}
	return 60 * time.Second
}

// baseEnv is the test process's environment without anything that would preload or
// configure the loader, plus a fixed locale and time zone so outputs are comparable.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "LD_PRELOAD", k == "LIBZPHOOK", k == "PROBE_HOOKED", k == "LC_ALL", k == "TZ",
			k == "LANG", strings.HasPrefix(k, "ZPOLINE_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "TZ=UTC")
}

// A hookVariant is one way of running under the loader.
type hookVariant struct {
	name string
	env  func(a *artifacts) []string
}

// ppid is what getppid returns under the variant's hooks (PROBE_PPID, else 4242).
func (v hookVariant) ppid() string {
	for _, e := range v.env(&artifacts{}) {
		if p, ok := strings.CutPrefix(e, "PROBE_PPID="); ok {
			return p
		}
	}
	return "4242"
}

// hookVariants: the zpoline-rs ABI hook through ZPOLINE_HOOK, and the original ABI hook
// through LIBZPHOOK (without ZPOLINE_HOOK), both by absolute path.
var hookVariants = []hookVariant{
	{"rs", func(a *artifacts) []string {
		return []string{"LD_PRELOAD=" + a.loader, "ZPOLINE_HOOK=" + a.hookRS}
	}},
	{"orig", func(a *artifacts) []string {
		return []string{"LD_PRELOAD=" + a.loader, "LIBZPHOOK=" + a.hookOrig}
	}},
	// The Go hook of examples/go-getppid (getppid = 424242) in front of a C hook that
	// answers the same for the calls Go cannot see.
	{"go", func(a *artifacts) []string {
		return []string{"LD_PRELOAD=" + filepath.Join(a.build, "libzpoline_go_getppid.so"),
			"ZPOLINE_HOOK=" + filepath.Join(a.build, "tests", "testhook_rs_go.so"), "PROBE_PPID=424242"}
	}},
}

// runSpec describes one program run.
type runSpec struct {
	args []string // args[0] is the program (a path, or a name looked up in PATH)
	env  []string // complete environment
	dir  string   // working directory; "" = the package directory
}

// runResult is what a run produced.
type runResult struct {
	spec     runSpec
	stdout   []byte
	stderr   []byte
	exited   bool           // exited normally
	code     int            // exit code if exited
	signal   syscall.Signal // terminating signal if not exited
	timedOut bool
	startErr error
	elapsed  time.Duration
}

func (r *runResult) ok() bool { return r.startErr == nil && !r.timedOut && r.exited && r.code == 0 }

func (r *runResult) status() string {
	switch {
	case r.startErr != nil:
		return "did not start: " + r.startErr.Error()
	case r.timedOut:
		return fmt.Sprintf("HUNG: killed after the %v timeout", runTimeout())
	case r.exited:
		return fmt.Sprintf("exit status %d", r.code)
	default:
		return fmt.Sprintf("killed by signal %d (%v)", int(r.signal), r.signal)
	}
}

// String describes the run with its command, status, environment additions and output, for
// attaching to failures.
func (r *runResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "command: %s\n", shellQuote(r.spec.args))
	if r.spec.dir != "" {
		fmt.Fprintf(&b, "dir: %s\n", r.spec.dir)
	}
	var extra []string
	for _, kv := range r.spec.env {
		k, _, _ := strings.Cut(kv, "=")
		if k == "LD_PRELOAD" || k == "LIBZPHOOK" || k == "PROBE_HOOKED" || strings.HasPrefix(k, "ZPOLINE_") {
			extra = append(extra, kv)
		}
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, "env: %s\n", strings.Join(extra, " "))
	}
	fmt.Fprintf(&b, "status: %s (after %v)\n", r.status(), r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "--- stdout ---\n%s", clip(r.stdout))
	fmt.Fprintf(&b, "--- stderr ---\n%s", clip(r.stderr))
	return b.String()
}

// clip keeps the head and the tail of long output.
func clip(b []byte) string {
	const keep = 8 << 10
	s := string(b)
	if len(s) > 2*keep {
		s = s[:keep] + fmt.Sprintf("\n[... %d bytes cut ...]\n", len(s)-2*keep) + s[len(s)-keep:]
	}
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '=' || r == ':' ||
				r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) < 0 {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

// cappedBuffer keeps at most max bytes (a tracing hook can write a lot to stderr).
type cappedBuffer struct {
	buf     bytes.Buffer
	max     int
	dropped int64
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	room := c.max - c.buf.Len()
	if room >= len(p) {
		c.buf.Write(p)
	} else {
		if room > 0 {
			c.buf.Write(p[:room])
		}
		c.dropped += int64(len(p) - max(room, 0))
	}
	return len(p), nil
}

func (c *cappedBuffer) Bytes() []byte {
	if c.dropped == 0 {
		return c.buf.Bytes()
	}
	return append(c.buf.Bytes(), fmt.Sprintf("\n[... %d more bytes dropped ...]\n", c.dropped)...)
}

// run starts spec in its own process group, waits at most runTimeout(), and kills the whole
// group afterwards so no stray child outlives the test. It never fails the test itself.
func run(t *testing.T, spec runSpec) *runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout())
	defer cancel()

	cmd := exec.CommandContext(ctx, spec.args[0], spec.args[1:]...)
	cmd.Env = spec.env
	cmd.Dir = spec.dir
	stdout := &cappedBuffer{max: 16 << 20}
	stderr := &cappedBuffer{max: 16 << 20}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second

	res := &runResult{spec: spec}
	start := time.Now()
	err := cmd.Start()
	if err != nil {
		res.startErr = err
		return res
	}
	err = cmd.Wait()
	res.elapsed = time.Since(start)
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftovers of the group, if any
	res.stdout, res.stderr = stdout.Bytes(), stderr.Bytes()
	res.timedOut = ctx.Err() == context.DeadlineExceeded
	if ws, isWS := cmd.ProcessState.Sys().(syscall.WaitStatus); isWS {
		switch {
		case ws.Exited():
			res.exited, res.code = true, ws.ExitStatus()
		case ws.Signaled():
			res.signal = ws.Signal()
		}
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) && !res.timedOut && !errors.Is(err, exec.ErrWaitDelay) {
		res.startErr = err
	}
	return res
}

// nativeEnv and hookedEnv build complete environments.
func nativeEnv(extra ...string) []string { return append(baseEnv(), extra...) }

func hookedEnv(a *artifacts, v hookVariant, extra ...string) []string {
	env := append(baseEnv(), v.env(a)...)
	return append(env, extra...)
}

// lineDiff describes the first differing line of two outputs.
func lineDiff(want, got []byte) string {
	wl := strings.Split(string(want), "\n")
	gl := strings.Split(string(got), "\n")
	line := func(l []string, i int) string {
		if i < len(l) {
			return strconv.Quote(l[i])
		}
		return "<no such line>"
	}
	for i := 0; i < max(len(wl), len(gl)); i++ {
		if w, g := line(wl, i), line(gl, i); w != g {
			return fmt.Sprintf("first difference at line %d:\n  native: %s\n  hooked: %s", i+1, w, g)
		}
	}
	return "outputs are identical"
}
