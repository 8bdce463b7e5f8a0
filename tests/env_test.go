package tests

// The environment the loader starts in (DESIGN.md §3 "environment"): PR_SET_MDWE, page 0
// already taken, an address-space limit. Each either works or fails with one line that
// names the cause.
//
//	go test ./tests -run TestEnv
//
// The preload helpers (tests/preload) must initialise BEFORE the loader. glibc runs the
// constructors of LD_PRELOAD objects in reverse list order (the last one listed first), so
// they are listed AFTER the loader: LD_PRELOAD=build/libzpoline.so:build/tests/preload/x.so.
// Each helper checks page 0 and says when the loader's constructor ran first.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// preloadAfterLoader is an LD_PRELOAD whose helper's constructor runs before the loader's.
func preloadAfterLoader(h *hlArtifacts, helper string) string {
	return "LD_PRELOAD=" + h.loader + ":" + h.preloadLib(helper)
}

// envWith is baseEnv plus extra (no LD_PRELOAD unless extra has one).
func envWith(extra ...string) []string { return append(baseEnv(), extra...) }

// TestEnvMDWE: a process that already refuses writable-and-executable memory
// (PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN) is still hooked: the loader writes code through
// /proc/self/mem and never needs W+X or an mprotect that adds PROT_EXEC.
func TestEnvMDWE(t *testing.T) {
	h := needHookArtifacts(t)
	// PR_GET_MDWE = 66; prints 1 (PR_MDWE_REFUSE_EXEC_GAIN) when the process has MDWE.
	py := "import os,ctypes\nprint(os.getppid())\nprint(ctypes.CDLL(None).prctl(66, 0, 0, 0, 0))"
	cases := []struct {
		name string
		argv []string
		want string
	}{
		{"python", []string{h.python, "-c", py}, "4242\n1\n"},
		// sh is hooked under MDWE and forks python, which starts the loader again; MDWE is
		// inherited across fork and execve.
		{"sh-forks-python", []string{"/bin/sh", "-c", `"$ZPT_PYTHON" -c "$ZPT_SCRIPT" && echo sh-done`}, "4242\n1\nsh-done\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := envWith(preloadAfterLoader(h, "mdwe"), "ZPOLINE_HOOK="+h.hookRS,
				"MDWE_PRELOAD_VERBOSE=1", "ZPT_PYTHON="+h.python, "ZPT_SCRIPT="+py)
			r := run(t, runSpec{args: c.argv, env: env})
			if l := linesContaining(r.stderr, "PR_SET_MDWE failed"); len(l) > 0 {
				if strings.Contains(l[0], "Invalid argument") {
					t.Skipf("this kernel does not support PR_SET_MDWE (Linux 6.3+): %s", l[0])
				}
				t.Fatalf("the mdwe preload helper could not set MDWE\n%s", r)
			}
			set := linesContaining(r.stderr, "mdwe-preload: set")
			if len(set) == 0 {
				t.Fatalf("the mdwe preload helper did not run\n%s", r)
			}
			for _, l := range set {
				if !strings.HasSuffix(l, "page 0 free") {
					t.Fatalf("the mdwe helper ran after the loader had mapped page 0 (%q): the test's "+
						"LD_PRELOAD order is wrong for this glibc\n%s", l, r)
				}
			}
			if !r.ok() {
				t.Fatalf("program failed under MDWE\n%s", r)
			}
			wantStdout(t, r, c.want, "hooked getppid (4242) and PR_GET_MDWE (1)")
			if zl := zpolineLines(r.stderr); len(zl) > 0 {
				t.Errorf("unexpected loader messages under MDWE: %q\n%s", zl, r)
			}
		})
	}
}

// TestEnvPageZeroTaken: when something already occupies page 0 the loader refuses to run
// the program (exit 127) with one line naming the cause, or, with ZPOLINE_ALLOW_UNHOOKED=1,
// runs it unhooked after one line saying so.
func TestEnvPageZeroTaken(t *testing.T) {
	h := needHookArtifacts(t)
	argv := []string{h.python, "-c", pyGetppid(1)}
	native := run(t, runSpec{args: argv, env: nativeEnv()})
	if !native.ok() || string(native.stdout) != strconv.Itoa(os.Getpid())+"\n" {
		t.Fatalf("native run must print the test's pid\n%s", native)
	}
	cases := []struct {
		name      string
		extra     []string
		code      int
		stdout    string
		lineWants []string
	}{
		{"refuses", nil, 127, "",
			[]string{"cannot map the trampoline at address 0", "already mapped", "ZPOLINE_ALLOW_UNHOOKED=1"}},
		{"allow-unhooked", []string{"ZPOLINE_ALLOW_UNHOOKED=1"}, 0, string(native.stdout),
			[]string{"cannot map the trampoline at address 0", "already mapped", "unhooked"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := envWith(append([]string{preloadAfterLoader(h, "page0"), "ZPOLINE_HOOK=" + h.hookRS}, c.extra...)...)
			r := run(t, runSpec{args: argv, env: env})
			if l := linesContaining(r.stderr, "page0-preload:"); len(l) > 0 {
				t.Fatalf("the page0 preload helper did not map page 0 before the loader: %q\n%s", l, r)
			}
			if r.startErr != nil || r.timedOut || !r.exited || r.code != c.code {
				t.Fatalf("want exit status %d\n%s", c.code, r)
			}
			wantStdout(t, r, c.stdout, "the program must not run (127), or run unhooked")
			zl := zpolineLines(r.stderr)
			if len(zl) != 1 {
				t.Fatalf("want exactly one zpoline: line on stderr, got %d: %q\n%s", len(zl), zl, r)
			}
			for _, w := range c.lineWants {
				if !strings.Contains(zl[0], w) {
					t.Errorf("the line %q does not say %q", zl[0], w)
				}
			}
		})
	}
}

// TestEnvAddressSpaceLimit: under `ulimit -v` big enough for the Go runtime the program is
// hooked; under one too small the loader stops with one line that names the limit, instead
// of the Go runtime's abort.
func TestEnvAddressSpaceLimit(t *testing.T) {
	h := needHookArtifacts(t)
	// bash itself runs unhooked: only the exec'd program gets the loader, under the limit.
	script := `ulimit -v "$1" || exit 99; shift; exec env LD_PRELOAD="$ZPT_LOADER" "$@"`
	cases := []struct {
		name  string
		limit string // KiB
		ok    bool
	}{
		{"8000000", "8000000", true},
		{"600000", "600000", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := envWith("ZPT_LOADER="+h.loader, "ZPOLINE_HOOK="+h.hookRS)
			argv := []string{"/bin/bash", "-c", script, "bash", c.limit, h.python, "-c", pyGetppid(1)}
			r := run(t, runSpec{args: argv, env: env})
			if r.exited && r.code == 99 {
				t.Fatalf("ulimit -v %s failed in bash\n%s", c.limit, r)
			}
			if c.ok {
				if !r.ok() {
					t.Fatalf("program failed under ulimit -v %s\n%s", c.limit, r)
				}
				wantStdout(t, r, "4242\n", "hooked getppid")
				if zl := zpolineLines(r.stderr); len(zl) > 0 {
					t.Errorf("unexpected loader messages: %q\n%s", zl, r)
				}
				return
			}
			if r.startErr != nil || r.timedOut || (r.exited && r.code == 0) {
				t.Fatalf("want a non-zero exit under ulimit -v %s\n%s", c.limit, r)
			}
			if !r.exited {
				t.Errorf("want a clean exit with a message, not death by a signal\n%s", r)
			}
			if len(r.stdout) != 0 {
				t.Errorf("the program must not run\n%s", r)
			}
			lines := outputLines(r.stderr)
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "zpoline:") || !strings.Contains(lines[0], "ulimit -v") {
				t.Fatalf("want exactly one stderr line starting with \"zpoline:\" that mentions \"ulimit -v\", "+
					"got %d lines\n%s", len(lines), r)
			}
		})
	}
}

// TestEnvOpenFileLimit: the program keeps the soft limit on open files it inherited.
// The Go runtime raises it to one below the hard limit when it starts (for itself); the
// loader's runtime and a Go hook library's own runtime must not change the program's
// (a program using select() must stay below FD_SETSIZE, and its children inherit it).
// The limits are set by the shell, then the hooked bash reports them.
func TestEnvOpenFileLimit(t *testing.T) {
	a := needLoader(t)
	const want = "512\n4096\n"
	script := `ulimit -Sn 512 && ulimit -Hn 4096 && exec bash -c 'ulimit -Sn; ulimit -Hn'`
	if r := run(t, runSpec{args: []string{"bash", "-c", script}, env: nativeEnv()}); !r.ok() ||
		string(r.stdout) != want {
		t.Fatalf("native run: want %q\n%s", want, r)
	}
	cases := []struct {
		name string
		env  []string
	}{
		{"builtin-warm", []string{"LD_PRELOAD=" + a.loader, "ZPOLINE_HOOK=builtin:pass"}},
		{"builtin-go-start", []string{"LD_PRELOAD=" + a.loader, "ZPOLINE_HOOK=builtin:pass", "ZPOLINE_WARM=0"}},
		{"go-hook-library", []string{"LD_PRELOAD=" + a.loader,
			"ZPOLINE_HOOK=" + filepath.Join(a.build, "examples", "libzpoline_go_hooklib.so")}},
		{"go-loader", []string{"LD_PRELOAD=" + filepath.Join(a.build, "libzpoline_go_getppid.so"),
			"ZPOLINE_HOOK=" + a.hookRS}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, runSpec{args: []string{"bash", "-c", script}, env: envWith(c.env...)})
			if !r.ok() {
				t.Fatalf("hooked run failed\n%s", r)
			}
			wantStdout(t, r, want, "the soft and hard RLIMIT_NOFILE the shell set")
		})
	}
}
