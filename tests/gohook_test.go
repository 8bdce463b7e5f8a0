package tests

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// A Go hook that panics: one report naming the system call and the panic, then SIGABRT.
func TestGoHookPanicAborts(t *testing.T) {
	needLoader(t)
	lib := filepath.Join(t.TempDir(), "libgopanic.so")
	build := exec.Command("go", "build", "-buildmode=c-shared", "-o", lib, "./testdata/gopanic")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the panicking hook: %v\n%s", err, out)
	}
	r := run(t, runSpec{
		args: []string{"/usr/bin/python3", "-c", "import os; print('before', flush=True); os.getppid(); print('survived')"},
		env:  append(baseEnv(), "LD_PRELOAD="+lib, "ZPOLINE_HOOK=builtin:pass"),
	})
	if r.exited || r.timedOut || r.signal != syscall.SIGABRT {
		t.Fatalf("want death by SIGABRT, got %s\n%s", r.status(), r)
	}
	if strings.Contains(string(r.stdout), "survived") || !strings.Contains(string(r.stdout), "before") {
		t.Fatalf("the program must stop at the panicking call\n%s", r)
	}
	for _, want := range []string{"zpoline: Go hook panicked in getppid(", "boom from the test hook"} {
		if !strings.Contains(string(r.stderr), want) {
			t.Errorf("stderr lacks %q\n%s", want, r)
		}
	}
}

// A Go hook built as a hook library of its own (examples/go-hooklib), loaded by the stock
// loader through ZPOLINE_HOOK with its own Go runtime: it answers getppid, a fork child
// is served without it (ZPOLINE_HOOK_RUNTIME), and vector state survives. (Program
// threads calling into a second Go runtime through another libc's pthread data do not
// work yet: build your own loader, examples/go-getppid, for threaded programs.)
func TestGoHookLibrary(t *testing.T) {
	a := needProbes(t)
	lib := filepath.Join(a.build, "examples", "libzpoline_go_hooklib.so")
	requireFiles(t, lib)
	env := append(baseEnv(), "LD_PRELOAD="+a.loader, "ZPOLINE_HOOK="+lib)
	r := run(t, runSpec{
		args: []string{"/usr/bin/python3", "-c", "import os\nprint(os.getppid(), flush=True)\npid = os.fork()\n" +
			"if pid == 0:\n    print('child', os.getppid() == os.getppid() and os.getppid() != 515151, flush=True)\n    os._exit(0)\n" +
			"os.waitpid(pid, 0)"},
		env: append(env, "ZPOLINE_STATS=-"),
	})
	if !r.ok() {
		t.Fatalf("python under the Go hook library: %s\n%s", r.status(), r)
	}
	if got := string(r.stdout); got != "515151\nchild True\n" {
		t.Fatalf("stdout %q, want the emulated getppid in the parent and the real one in the fork child\n%s", got, r)
	}
	if !strings.Contains(string(r.stderr), "(fork child)") ||
		!regexp.MustCompile(`bypass go \(fork child[^)]*\): [1-9]`).Match(r.stderr) {
		t.Errorf("the fork child's calls were not counted as bypasses\n%s", r)
	}
	for _, probe := range []string{"vector"} {
		r := run(t, runSpec{args: []string{a.probe(probe)}, env: append(env, "PROBE_HOOKED=1", "PROBE_PPID=515151")})
		if !r.ok() {
			t.Errorf("probe %s under the Go hook library: %s\n%s", probe, r.status(), r)
		}
	}
}
