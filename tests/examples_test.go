package tests

// Tests of the examples (examples/): the loader variants with Go hooks (go-deny-unlink
// through the typed interface, go-getppid), and the C and Rust hook libraries built on the
// C ABI. Each runs real programs under the loader; a missing artifact, a crash or a hang
// is a failure, never a skip (CI builds all of them, the Rust one with rustc).

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// exampleArtifacts are the absolute paths of the examples `make` builds.
type exampleArtifacts struct {
	*artifacts
	denyUnlink string // build/libzpoline_go_deny_unlink.so
	goGetppid  string // build/libzpoline_go_getppid.so
	cHook      string // build/examples/libzpoline_c_hook.so
	rustHook   string // build/examples/libzpoline_rust_hook.so
}

func needExamples(t *testing.T) *exampleArtifacts {
	t.Helper()
	a := needProbes(t)
	e := &exampleArtifacts{
		artifacts:  a,
		denyUnlink: filepath.Join(a.build, "libzpoline_go_deny_unlink.so"),
		goGetppid:  filepath.Join(a.build, "libzpoline_go_getppid.so"),
		cHook:      filepath.Join(a.build, "examples", "libzpoline_c_hook.so"),
		rustHook:   filepath.Join(a.build, "examples", "libzpoline_rust_hook.so"),
	}
	requireFiles(t, a.loader, e.denyUnlink, e.goGetppid, e.cHook, e.rustHook)
	requirePage0(t)
	return e
}

var pythonOnce struct {
	sync.Once
	path string
	err  string
}

// python returns the real python3 interpreter (sys.executable), not a wrapper such as a
// pyenv shim script, so that a run is one hooked process.
func python(t *testing.T) string {
	t.Helper()
	pythonOnce.Do(func() {
		p, err := exec.LookPath("python3")
		if err != nil {
			pythonOnce.err = "python3 not found in PATH: " + err.Error()
			return
		}
		cmd := exec.Command(p, "-c", "import sys; print(sys.executable)")
		cmd.Env = nativeEnv()
		out, err := cmd.Output()
		if err != nil {
			pythonOnce.err = "python3 -c 'import sys; print(sys.executable)': " + err.Error()
			return
		}
		pythonOnce.path = strings.TrimSpace(string(out))
	})
	if pythonOnce.err != "" {
		t.Fatal(pythonOnce.err)
	}
	return pythonOnce.path
}

// touch creates the files and directories (names ending in "/") under dir.
func touch(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(dir, n)
		var err error
		if strings.HasSuffix(n, "/") {
			err = os.MkdirAll(p, 0o755)
		} else {
			err = os.WriteFile(p, []byte(n), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// realTempDir is t.TempDir with symbolic links resolved (getcwd reports resolved paths).
func realTempDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestGoDenyUnlink(t *testing.T) {
	e := needExamples(t)
	py := python(t)
	deny := realTempDir(t)  // ZPOLINE_DENY_DIR
	other := realTempDir(t) // a directory the hook leaves alone
	link := filepath.Join(other, "link-to-deny")
	if err := os.Symlink(deny, link); err != nil {
		t.Fatal(err)
	}
	env := hookedEnv(e.artifacts, hookVariant{"deny", func(*artifacts) []string {
		return []string{"LD_PRELOAD=" + e.denyUnlink, "ZPOLINE_HOOK=builtin:pass", "ZPOLINE_DENY_DIR=" + deny}
	}})
	const pyUnlink = "import os, sys; os.unlink(sys.argv[1])"
	const pyUnlinkDirfd = "import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.unlink(sys.argv[2], dir_fd=fd)"
	cases := []struct {
		name   string
		create []string                  // files and directories/ made in the directory
		argv   func(dir string) []string // the command, given the directory
		inDir  bool                      // run with the directory as working directory
		gone   []string                  // what the command removes when allowed
	}{
		{"rm", []string{"a"}, func(d string) []string { return []string{"rm", d + "/a"} }, false, []string{"a"}},
		{"python os.unlink", []string{"b"}, func(d string) []string { return []string{py, "-c", pyUnlink, d + "/b"} }, false, []string{"b"}},
		{"rmdir", []string{"sub/"}, func(d string) []string { return []string{"rmdir", d + "/sub"} }, false, []string{"sub"}},
		{"unlink", []string{"c"}, func(d string) []string { return []string{"unlink", d + "/c"} }, false, []string{"c"}},
		{"relative rm", []string{"r"}, func(string) []string { return []string{"rm", "r"} }, true, []string{"r"}},
		{"relative ../", []string{"p"}, func(d string) []string { return []string{"rm", "../" + filepath.Base(d) + "/p"} }, true, []string{"p"}},
		{"unlinkat with a dirfd", []string{"dfd/", "dfd/x"}, func(d string) []string {
			return []string{py, "-c", pyUnlinkDirfd, d + "/dfd", "x"}
		}, false, []string{"dfd/x"}},
		{"rm -r", []string{"tree/", "tree/x", "tree/y/", "tree/y/z"}, func(d string) []string {
			return []string{"rm", "-r", d + "/tree"}
		}, false, []string{"tree/y/z", "tree/x", "tree"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			touch(t, deny, tc.create...)
			touch(t, other, tc.create...)

			spec := runSpec{args: tc.argv(deny), env: env}
			if tc.inDir {
				spec.dir = deny
			}
			r := run(t, spec)
			if r.ok() || !strings.Contains(string(r.stderr), "Operation not permitted") {
				t.Errorf("under ZPOLINE_DENY_DIR: want a failure with \"Operation not permitted\"\n%s", r)
			}
			for _, g := range tc.gone {
				if !exists(filepath.Join(deny, g)) {
					t.Errorf("%s was removed from the denied directory\n%s", g, r)
				}
			}

			spec = runSpec{args: tc.argv(other), env: env}
			if tc.inDir {
				spec.dir = other
			}
			r = run(t, spec)
			if !r.ok() {
				t.Errorf("outside ZPOLINE_DENY_DIR: want success\n%s", r)
			}
			for _, g := range tc.gone {
				if exists(filepath.Join(other, g)) {
					t.Errorf("%s outside the denied directory was not removed\n%s", g, r)
				}
			}
		})
	}

	t.Run("through a symbolic link", func(t *testing.T) {
		touch(t, deny, "s")
		r := run(t, runSpec{args: []string{"rm", link + "/s"}, env: env})
		if r.ok() || !exists(filepath.Join(deny, "s")) {
			t.Errorf("removing %s/s (a link to the denied directory) was allowed\n%s", link, r)
		}
		// The link itself is outside: removing it removes no file of the directory.
		r = run(t, runSpec{args: []string{"rm", link}, env: env})
		if !r.ok() || exists(link) {
			t.Errorf("removing the link itself failed\n%s", r)
		}
	})

	t.Run("other calls pass through", func(t *testing.T) {
		r := run(t, runSpec{args: []string{"sh", "-c", `touch n && mv n m && cat m && ls`}, env: env, dir: deny})
		if !r.ok() || !exists(filepath.Join(deny, "m")) {
			t.Errorf("creating and renaming in the denied directory failed\n%s", r)
		}
	})

	t.Run("without ZPOLINE_DENY_DIR", func(t *testing.T) {
		touch(t, deny, "free")
		env := hookedEnv(e.artifacts, hookVariant{"deny", func(*artifacts) []string {
			return []string{"LD_PRELOAD=" + e.denyUnlink, "ZPOLINE_HOOK=builtin:pass"}
		}})
		r := run(t, runSpec{args: []string{"rm", deny + "/free"}, env: env})
		if !r.ok() || exists(filepath.Join(deny, "free")) {
			t.Errorf("without ZPOLINE_DENY_DIR nothing is denied\n%s", r)
		}
	})
}

// bypassGo is the "bypass go (...)" line of a ZPOLINE_STATS report.
var bypassGo = regexp.MustCompile(`(?m)^bypass go \(fork child[^)]*\): (\d+)`)

func TestGoGetppidExample(t *testing.T) {
	e := needExamples(t)
	py := python(t)
	env := hookedEnv(e.artifacts, hookVariant{"go", func(*artifacts) []string {
		return []string{"LD_PRELOAD=" + e.goGetppid, "ZPOLINE_HOOK=builtin:pass", "ZPOLINE_STATS=-"}
	}})

	r := run(t, runSpec{args: []string{py, "-c", "import os; print(os.getppid())"}, env: env})
	if !r.ok() || strings.TrimSpace(string(r.stdout)) != "424242" {
		t.Fatalf("getppid under the Go hook: want 424242\n%s", r)
	}

	// A fork child before exec: the Go runtime's threads are gone there, so the Go hook is
	// bypassed and builtin:pass performs the real getppid.
	const fork = `import os
pid = os.fork()
if pid == 0:
    print("child", os.getppid(), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print("parent", os.getpid(), os.getppid(), flush=True)
`
	r = run(t, runSpec{args: []string{py, "-c", fork}, env: env})
	if !r.ok() {
		t.Fatalf("fork under the Go hook failed\n%s", r)
	}
	var child, parent []string
	for _, l := range strings.Split(string(r.stdout), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 2 && f[0] == "child":
			child = f
		case len(f) == 3 && f[0] == "parent":
			parent = f
		}
	}
	if child == nil || parent == nil {
		t.Fatalf("missing output lines\n%s", r)
	}
	if parent[2] != "424242" {
		t.Errorf("parent's getppid = %s, want 424242 from the Go hook\n%s", parent[2], r)
	}
	if child[1] != parent[1] {
		t.Errorf("fork child's getppid = %s, want the real parent %s (Go hooks do not run in "+
			"fork children)\n%s", child[1], parent[1], r)
	}

	// The child's statistics count the calls the Go hook did not see.
	var childReport string
	for _, rep := range strings.Split(string(r.stderr), "zpoline: pid ") {
		if strings.Contains(rep, "(fork child)") {
			childReport = rep
		}
	}
	m := bypassGo.FindStringSubmatch(childReport)
	if m == nil {
		t.Fatalf("no fork-child report with a \"bypass go\" line\n%s", r)
	}
	if n, _ := strconv.Atoi(m[1]); n == 0 {
		t.Errorf("fork child: bypass go (fork child) is 0, want the getppid it made\n%s", r)
	}
}

// cABIHooks are the example hook libraries on the C ABI.
var cABIHooks = []struct {
	name   string // the summary line's prefix
	marker string // what getppid returns
	path   func(*exampleArtifacts) string
}{
	{"c-hook", "31337", func(e *exampleArtifacts) string { return e.cHook }},
	{"rust-hook", "27182", func(e *exampleArtifacts) string { return e.rustHook }},
}

func TestCABIHookExamples(t *testing.T) {
	e := needExamples(t)
	py := python(t)
	for _, h := range cABIHooks {
		t.Run(h.name, func(t *testing.T) {
			lib := h.path(e)
			summary := regexp.MustCompile(`(?m)^` + h.name + `: (\d+) calls; most frequent: nr \d+ x\d+`)
			env := hookedEnv(e.artifacts, hookVariant{h.name, func(*artifacts) []string {
				return []string{"LD_PRELOAD=" + e.loader, "ZPOLINE_HOOK=" + lib,
					"PROBE_HOOKED=1", "PROBE_PPID=" + h.marker}
			}})
			calls := func(r *runResult) int {
				m := summary.FindAllStringSubmatch(string(r.stderr), -1)
				if len(m) == 0 {
					t.Errorf("no %q summary line on stderr\n%s", h.name+": N calls", r)
					return 0
				}
				n, _ := strconv.Atoi(m[len(m)-1][1])
				return n
			}

			r := run(t, runSpec{args: []string{py, "-c", "import os; print(os.getppid())"}, env: env})
			if !r.ok() || strings.TrimSpace(string(r.stdout)) != h.marker {
				t.Errorf("getppid: want %s\n%s", h.marker, r)
			}
			if n := calls(r); n < 100 {
				t.Errorf("python counted %d calls, want hundreds", n)
			}

			// The probes: threads (64 threads x 20,000 getppid), the clone family (the hook
			// is CLONE_SAFE and sees fork, vfork, clone3), signals (nested calls) and vector
			// state (the hook is VECTOR_FREE: no save, registers must survive anyway).
			for _, p := range []string{"threads", "clone", "signals", "vector"} {
				r := run(t, runSpec{args: []string{e.probe(p)}, env: env})
				if !r.ok() {
					t.Errorf("probe %s under %s\n%s", p, h.name, r)
					continue
				}
				if n := calls(r); p == "threads" && n < 64*20000 {
					t.Errorf("threads probe: %d calls counted, want at least %d", n, 64*20000)
				}
			}
		})
	}
}

// vectorInsn matches disassembly that uses x87, MMX, SSE, AVX or AVX-512 state.
var vectorInsn = regexp.MustCompile(`%[xyz]mm\d|%st\b|%st\(|%mm\d|%k[0-7]\b`)

// TestCABIHooksAreVectorFree checks the claim behind ZPOLINE_HOOK_VECTOR_FREE on the
// binaries: no instruction touches vector or x87 state, and nothing from another library
// (a libc memcpy could) is called.
func TestCABIHooksAreVectorFree(t *testing.T) {
	e := needExamples(t)
	for _, h := range cABIHooks {
		t.Run(h.name, func(t *testing.T) {
			lib := h.path(e)
			out, err := exec.Command("objdump", "-d", "--no-show-raw-insn", lib).Output()
			if err != nil {
				t.Fatalf("objdump -d %s: %v", lib, err)
			}
			n := 0
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				l := sc.Text()
				_, insn, ok := strings.Cut(l, ":\t")
				if !ok {
					continue
				}
				n++
				mn, _, _ := strings.Cut(strings.TrimSpace(insn), " ")
				switch {
				case vectorInsn.MatchString(insn),
					strings.HasPrefix(mn, "f"), // x87 (and fxsave/fxrstor)
					strings.HasPrefix(mn, "v") && mn != "verr" && mn != "verw",
					strings.HasPrefix(mn, "xsave"), strings.HasPrefix(mn, "xrstor"),
					mn == "emms", mn == "ldmxcsr", mn == "stmxcsr":
					t.Errorf("%s declares VECTOR_FREE but has %q", lib, strings.TrimSpace(l))
				}
			}
			if n < 20 {
				t.Fatalf("objdump -d %s printed only %d instructions", lib, n)
			}
			dyn, err := exec.Command("nm", "-D", "--undefined-only", lib).Output()
			if err != nil {
				t.Fatalf("nm -D %s: %v", lib, err)
			}
			for _, l := range strings.Split(strings.TrimSpace(string(dyn)), "\n") {
				if f := strings.Fields(l); len(f) == 2 && f[0] == "U" {
					t.Errorf("%s calls into another library: %s", lib, l)
				}
			}
		})
	}
}
