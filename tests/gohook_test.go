package tests

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
// is served without it (ZPOLINE_HOOK_RUNTIME), and vector state survives.
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

// hookThreadData is the "hook thread data" line of a ZPOLINE_STATS report (zp_keys.c):
// keys made, values destroyed at thread exit, values dropped.
var hookThreadData = regexp.MustCompile(`(?m)^hook thread data \(keys, destroyed at thread exit, dropped\): (\d+) (\d+) (\d+)$`)

// A Go hook library serves every thread of a threaded program: program threads enter its
// runtime through the namespace's own libc, whose pthread keys would share their slots in
// the program thread's descriptor with the program libc's keys (the loader's runtime's
// among them). The library keeps cgo's per-thread M in the loader's thread data instead
// (api->key_create, --wrap in examples/go-hooklib), and each ending thread gives its M
// back through the destructor, on its hook stack. Before that, the second thread to end
// hung the program.
func TestGoHookLibraryThreads(t *testing.T) {
	a := needProbes(t)
	lib := filepath.Join(a.build, "examples", "libzpoline_go_hooklib.so")
	requireFiles(t, lib)
	env := append(baseEnv(), "LD_PRELOAD="+a.loader, "ZPOLINE_HOOK="+lib)

	t.Run("probe", func(t *testing.T) {
		// 1 + 64 threads, every call of every one answered by the hook (4 shapes of call),
		// and every one of them gave its M back when it ended.
		r := run(t, runSpec{args: []string{a.probe("threads")},
			env: append(env, "PROBE_HOOKED=1", "PROBE_PPID=515151", "ZPOLINE_STATS=-")})
		if !r.ok() {
			t.Fatalf("threads probe under the Go hook library: %s\n%s", r.status(), r)
		}
		if !strings.Contains(string(r.stdout), "threads: 64 threads x 20000 getppid ok") {
			t.Fatalf("the probe did not report its threads\n%s", r)
		}
		m := hookThreadData.FindSubmatch(r.stderr)
		if m == nil {
			t.Fatalf("no hook thread data line in the statistics\n%s", r)
		}
		if keys, destroyed, dropped := atoi(t, m[1]), atoi(t, m[2]), atoi(t, m[3]); keys != 1 || destroyed != 65 || dropped != 0 {
			t.Errorf("hook thread data: %d keys, %d destroyed, %d dropped; want 1 key (cgo's), "+
				"65 destroyed (one per program thread that ended), 0 dropped\n%s", keys, destroyed, dropped, r)
		}
	})

	t.Run("python", func(t *testing.T) {
		r := run(t, runSpec{args: []string{"/usr/bin/python3", testdata(t, "gohooklib_threads.py")},
			env: append(env, "ZPOLINE_STATS=-")})
		if !r.ok() {
			t.Fatalf("threaded python under the Go hook library: %s\n%s", r.status(), r)
		}
		want := "main 515151\n" +
			"concurrent threads 16 all hooked True\n" +
			"short-lived threads 200 all hooked True\n" +
			"spawning threads [515151] children ['515151']\n" +
			"fork child exit 0 forking thread 515151\n" +
			"main after 515151\n"
		if got := string(r.stdout); got != want {
			t.Fatalf("stdout:\n%s\nwant:\n%s\n%s", got, want, r)
		}
		// The python process's own report is the one whose pid line has no "(fork
		// child)" and that made 223 threads: 16 + 200 + 6 + 1.
		found := false
		for _, m := range hookThreadData.FindAllSubmatch(r.stderr, -1) {
			if atoi(t, m[2]) == 223 && atoi(t, m[3]) == 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("no report with 223 thread data values destroyed (one per python thread) and none dropped\n%s", r)
		}
	})
}

func atoi(t *testing.T, b []byte) int {
	t.Helper()
	n, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatalf("not a number: %q", b)
	}
	return n
}
