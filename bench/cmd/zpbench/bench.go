package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// config is one way of running a program: natively, under the loader with some hook, or
// under strace.
type config struct {
	name     string   // row label
	preload  bool     // run under LD_PRELOAD=libzpoline.so
	env      []string // extra environment (ZPOLINE_HOOK=..., ZPOLINE_LOG=...)
	strace   bool     // run under strace -f -o /dev/null
	wantHook string   // substring the loader's "hook:" statistics line must contain
	loader   string   // the loader to preload, when not build/libzpoline.so (Go hook variants)
	ppid     int      // what getppid must return in `sysloop check` (0: the real parent)
}

// bench holds the paths and settings shared by every section.
type bench struct {
	o        options
	root     string // repository root
	build    string // build directory (absolute)
	out      string // build/bench: workloads and bench hook libraries
	loader   string // build/libzpoline.so
	impl     string // build/libzpoline_hook_impl.so
	testRS   string // build/tests/testhook_rs.so
	passVF   string // build/bench/hooks/passvf.so
	pass     string // build/bench/hooks/pass.so
	passSSE  string // build/bench/hooks/passsse.so
	sysloop  string // build/bench/sysloop
	strace   string // path of strace, "" when not installed
	tmp      string // private temporary directory (caches, statistics files)
	cacheN   int    // counter for fresh cache directories
	baseEnv  []string
	warmEnv  string // XDG_CACHE_HOME shared by the warm runs of sections 1, 2 and 5
	cfgs     map[string]config
	pinNote  string
	userNote string
}

// The configurations, by name. native and the hooked ones are shared by several sections.
const (
	cfgNative  = "native"
	cfgBuiltin = "builtin:pass"
	cfgPassVF  = "passvf.so (C, vector-free)"
	cfgPass    = "pass.so (C, unmodified)"
	cfgPassSSE = "passsse.so (C, SSE: vector save)"
	cfgImpl    = "default lib -> /dev/null"
	cfgTestRS  = "testhook_rs.so (emulates)"
	cfgGoPass  = "Go hook, passes through"
	cfgGoEmu   = "Go hook, emulates getppid"
	cfgStrace  = "strace -f"
	// The SUD safety net (ZPOLINE_SUD) with the built-in hook; sysloop maps no writable and
	// executable memory, so "auto" never arms.
	cfgSUDOff    = "builtin:pass, ZPOLINE_SUD=off"
	cfgSUDAuto   = "builtin:pass, ZPOLINE_SUD=auto"
	cfgSUDAlways = "builtin:pass, ZPOLINE_SUD=always"
)

// newBench finds the repository and the build, builds the bench programs and prepares a
// private temporary directory.
func newBench(o options) (*bench, error) {
	b := &bench{o: o}
	var err error
	if b.root, err = findRoot(o.root); err != nil {
		return nil, err
	}
	b.build = o.build
	if b.build == "" {
		b.build = filepath.Join(b.root, "build")
	}
	if b.build, err = filepath.Abs(b.build); err != nil {
		return nil, err
	}
	b.out = filepath.Join(b.build, "bench")
	b.loader = filepath.Join(b.build, "libzpoline.so")
	b.impl = filepath.Join(b.build, "libzpoline_hook_impl.so")
	b.testRS = filepath.Join(b.build, "tests", "testhook_rs.so")
	for _, p := range []string{b.loader, b.impl, b.testRS} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%s is missing: run `make all` first (%v)", p, err)
		}
	}
	if b.strace, err = exec.LookPath("strace"); err != nil {
		b.strace = ""
	}
	if err := b.buildPrograms(); err != nil {
		return nil, err
	}
	if b.tmp, err = os.MkdirTemp("", "zpbench-"); err != nil {
		return nil, err
	}
	tmpDir = b.tmp
	b.warmEnv = b.freshCache()

	// The child environment: ours, without anything that would change what the loader
	// does (a hook, a preload, statistics, debugging) unless a configuration sets it.
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ZPOLINE_") || k == "LD_PRELOAD" || k == "LIBZPHOOK" || k == "XDG_CACHE_HOME" {
			continue
		}
		b.baseEnv = append(b.baseEnv, kv)
	}

	b.cfgs = map[string]config{
		cfgNative:  {name: cfgNative},
		cfgBuiltin: {name: cfgBuiltin, preload: true, env: []string{"ZPOLINE_HOOK=builtin:pass"}, wantHook: "builtin"},
		cfgPassVF:  {name: cfgPassVF, preload: true, env: []string{"ZPOLINE_HOOK=" + b.passVF}, wantHook: b.passVF},
		cfgPass:    {name: cfgPass, preload: true, env: []string{"ZPOLINE_HOOK=" + b.pass}, wantHook: b.pass},
		cfgPassSSE: {name: cfgPassSSE, preload: true, env: []string{"ZPOLINE_HOOK=" + b.passSSE}, wantHook: b.passSSE},
		// No ZPOLINE_HOOK: the loader finds libzpoline_hook_impl.so next to itself.
		cfgImpl:   {name: cfgImpl, preload: true, env: []string{"ZPOLINE_LOG=/dev/null"}, wantHook: b.impl},
		cfgTestRS: {name: cfgTestRS, preload: true, env: []string{"ZPOLINE_HOOK=" + b.testRS}, wantHook: b.testRS, ppid: 4242},
		cfgStrace: {name: cfgStrace, strace: true},
		cfgSUDOff: {name: cfgSUDOff, preload: true, env: []string{"ZPOLINE_HOOK=builtin:pass", "ZPOLINE_SUD=off"},
			wantHook: "builtin"},
		cfgSUDAuto: {name: cfgSUDAuto, preload: true, env: []string{"ZPOLINE_HOOK=builtin:pass", "ZPOLINE_SUD=auto"},
			wantHook: "builtin"},
		cfgSUDAlways: {name: cfgSUDAlways, preload: true,
			env: []string{"ZPOLINE_HOOK=builtin:pass", "ZPOLINE_SUD=always"}, wantHook: "builtin"},
		// Loader variants with a Go hook (examples/go-pass, examples/go-getppid), the
		// built-in C hook behind them.
		cfgGoPass: {name: cfgGoPass, preload: true, env: []string{"ZPOLINE_HOOK=builtin:pass"}, wantHook: "builtin",
			loader: filepath.Join(b.build, "libzpoline_go_pass.so")},
		cfgGoEmu: {name: cfgGoEmu, preload: true, env: []string{"ZPOLINE_HOOK=builtin:pass"}, wantHook: "builtin",
			loader: filepath.Join(b.build, "libzpoline_go_getppid.so"), ppid: 424242},
	}
	return b, nil
}

// cleanup removes the temporary directory.
func (b *bench) cleanup() { os.RemoveAll(b.tmp) }

// findRoot returns dir, or the nearest directory at or above the current one with a
// go.mod declaring zpoline-go's module.
func findRoot(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if m, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			bytes.Contains(m, []byte("module github.com/zpoline-go/zpoline")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("cannot find the repository root (a go.mod of github.com/zpoline-go/zpoline); use -root")
		}
		d = parent
	}
}

// freshCache returns XDG_CACHE_HOME=<a new empty directory>: a loader run with it finds
// no cached site list (a cold run as far as the loader is concerned).
func (b *bench) freshCache() string {
	b.cacheN++
	d := filepath.Join(b.tmp, fmt.Sprintf("cache%d", b.cacheN))
	if err := os.MkdirAll(d, 0o700); err != nil {
		fatalf("create %s: %v", d, err)
	}
	return "XDG_CACHE_HOME=" + d
}

// tmpFile returns the path of a new, not yet existing file in the temporary directory.
func (b *bench) tmpFile(prefix string) string {
	b.cacheN++
	return filepath.Join(b.tmp, fmt.Sprintf("%s%d", prefix, b.cacheN))
}

// command returns the command running argv in configuration c; cache is the
// XDG_CACHE_HOME=... entry to use and extra is added to the environment last.
func (b *bench) command(ctx context.Context, c config, cache string, extra []string, argv ...string) *exec.Cmd {
	if c.strace {
		argv = append([]string{b.strace, "-f", "-o", "/dev/null"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	env := append(append([]string(nil), b.baseEnv...), cache)
	if c.preload {
		loader := b.loader
		if c.loader != "" {
			loader = c.loader
		}
		env = append(env, "LD_PRELOAD="+loader)
		env = append(env, c.env...)
	}
	cmd.Env = append(env, extra...)
	return cmd
}

// runResult is what one finished process produced.
type runResult struct {
	stdout string
	stderr string
	wall   time.Duration // fork+exec+wait as seen from here
}

// run runs argv in configuration c, pinned to the bench CPU when pin is set, and returns
// its output and wall time. A non-zero exit, a signal or a timeout is an error that
// carries the process's stderr (where the loader explains a failure).
func (b *bench) run(c config, cache string, extra []string, pin bool, argv ...string) (runResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.o.timeout)
	defer cancel()
	cmd := b.command(ctx, c, cache, extra, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := b.start(cmd, pin)
	if err == nil {
		err = cmd.Wait()
	}
	wall := time.Since(t0)
	if err != nil {
		return runResult{}, fmt.Errorf("%s: `%s` failed: %v\n--- its stderr ---\n%s------------------",
			c.name, strings.Join(cmd.Args, " "), err, tail(stderr.String(), 2000))
	}
	return runResult{stdout: stdout.String(), stderr: stderr.String(), wall: wall}, nil
}

// mustRun is run that treats a failure as fatal.
func (b *bench) mustRun(c config, cache string, extra []string, pin bool, argv ...string) runResult {
	r, err := b.run(c, cache, extra, pin, argv...)
	if err != nil {
		fatalf("%v", err)
	}
	return r
}

// start starts cmd, pinned to b.o.cpu when pin is set and pinning is enabled: the
// calling thread's affinity is set for the fork and restored afterwards (the child
// inherits it, as under `taskset -c CPU`).
func (b *bench) start(cmd *exec.Cmd, pin bool) error {
	if !pin || b.o.cpu < 0 {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return fmt.Errorf("sched_getaffinity: %w", err)
	}
	set.Set(b.o.cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pin to CPU %d: %w", b.o.cpu, err)
	}
	err := cmd.Start()
	if e := unix.SchedSetaffinity(0, &old); e != nil && err == nil {
		err = fmt.Errorf("restore affinity: %w", e)
	}
	return err
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}
