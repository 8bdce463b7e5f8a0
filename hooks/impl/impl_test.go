package impl

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zpoline-go/zpoline/internal/systab"
)

// artifacts are built once per test binary into a temporary directory.
type artifacts struct {
	dir    string // temporary directory
	root   string // module root
	cc     string // C compiler from `go env CC`
	gen    string // directory holding zp_systab.h
	lib    string // libzpoline_hook_impl.so built with LibFlags
	driver string // test/driver.c
}

var (
	buildOnce sync.Once
	built     *artifacts
	buildErr  error
	tmpRoot   string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tmpRoot != "" {
		os.RemoveAll(tmpRoot)
	}
	os.Exit(code)
}

// build returns the artifacts, building them on first use. A missing C compiler skips
// the test (every cgo package of the module needs one too); a build failure fails it.
func build(t *testing.T) *artifacts {
	t.Helper()
	buildOnce.Do(func() { built, buildErr = doBuild() })
	if buildErr != nil {
		if strings.Contains(buildErr.Error(), "no C compiler") {
			t.Skip(buildErr)
		}
		t.Fatal(buildErr)
	}
	return built
}

func doBuild() (*artifacts, error) {
	a := &artifacts{}
	out, err := exec.Command("go", "env", "CC", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	f := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(f) != 2 || f[1] == "" || f[1] == os.DevNull {
		return nil, fmt.Errorf("go env CC GOMOD: unexpected output %q", out)
	}
	a.cc, a.root = f[0], filepath.Dir(f[1])
	if a.cc == "" {
		a.cc = "gcc"
	}
	if _, err := exec.LookPath(a.cc); err != nil {
		return nil, fmt.Errorf("no C compiler (%s): %w", a.cc, err)
	}
	if tmpRoot, err = os.MkdirTemp("", "zp-hook-impl-test-"); err != nil {
		return nil, err
	}
	a.dir = tmpRoot
	a.gen = filepath.Join(a.dir, "gen")
	if err := os.Mkdir(a.gen, 0o755); err != nil {
		return nil, err
	}
	var hdr bytes.Buffer
	if err := systab.WriteCHeader(&hdr); err != nil {
		return nil, fmt.Errorf("generate zp_systab.h: %w", err)
	}
	if err := os.WriteFile(filepath.Join(a.gen, "zp_systab.h"), hdr.Bytes(), 0o644); err != nil {
		return nil, err
	}
	a.lib = filepath.Join(a.dir, "libzpoline_hook_impl.so")
	a.driver = filepath.Join(a.dir, "driver")
	if err := a.compile(append(append([]string{}, LibFlags...), a.incl()...), "-o", a.lib, a.src()); err != nil {
		return nil, err
	}
	if err := a.compile("-O2", "-Wall", "-Wextra", "-Werror", "-I"+filepath.Join(a.root, "include"),
		"-o", a.driver, filepath.Join(a.root, "hooks/impl/test/driver.c"), "-ldl", "-lpthread"); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *artifacts) src() string { return filepath.Join(a.root, "hooks/impl/src/zp_hook_impl.c") }

func (a *artifacts) incl() []string {
	return []string{"-I" + filepath.Join(a.root, "include"), "-I" + a.gen}
}

// compile runs the C compiler; arguments may be strings or []string.
func (a *artifacts) compile(args ...any) error {
	var argv []string
	for _, x := range args {
		switch v := x.(type) {
		case string:
			argv = append(argv, v)
		case []string:
			argv = append(argv, v...)
		}
	}
	cmd := exec.Command(a.cc, argv...)
	cmd.Dir = a.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", a.cc, strings.Join(argv, " "), err, out)
	}
	return nil
}

// tool runs a binutils program and returns its standard output.
func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not installed (package binutils): %v", name, err)
	}
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

// TestBriefFlagsCompile: the library also builds with the minimal flag set (libc linked,
// symbols visible), and even then it calls nothing outside itself.
func TestBriefFlagsCompile(t *testing.T) {
	a := build(t)
	so := filepath.Join(t.TempDir(), "plain.so")
	if err := a.compile("-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror", "-mgeneral-regs-only",
		a.incl(), "-o", so, a.src()); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(tool(t, "nm", "-D", "--undefined-only", so)), "\n") {
		// crtbeginS.o's weak references are all a normal link adds.
		if f := strings.Fields(line); len(f) == 2 && f[0] == "w" {
			continue
		} else if line != "" {
			t.Errorf("undefined symbol in the library: %q", line)
		}
	}
}

// TestLibraryIsFreestanding: no libc dependency, no undefined symbol, exactly the ABI's
// exports.
func TestLibraryIsFreestanding(t *testing.T) {
	a := build(t)
	if dyn := tool(t, "readelf", "-d", a.lib); strings.Contains(dyn, "(NEEDED)") {
		t.Errorf("library has dependencies:\n%s", dyn)
	}
	if u := strings.TrimSpace(tool(t, "nm", "-D", "--undefined-only", a.lib)); u != "" {
		t.Errorf("undefined symbols:\n%s", u)
	}
	var exports []string
	for _, line := range strings.Split(strings.TrimSpace(tool(t, "nm", "-D", "--defined-only", a.lib)), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			exports = append(exports, f[1]+" "+f[2])
		}
	}
	want := []string{"T zpoline_hook_attach", "T zpoline_hook_function", "T zpoline_hook_init"}
	if strings.Join(exports, ",") != strings.Join(want, ",") {
		t.Errorf("exports = %v, want %v", exports, want)
	}
}

// vectorRE matches an SSE/AVX/AVX-512/MMX/x87 register or an instruction that saves or
// loads vector state in objdump's AT&T output.
var vectorRE = regexp.MustCompile(`%(?:[xyz]mm[0-9]+|mm[0-7]|st(?:\([0-7]\))?|k[0-7])\b|\b(?:fxsave|fxrstor|xsave\w*|xrstor\w*|ldmxcsr|stmxcsr|vzeroupper|emms)\b`)

// TestLibraryIsVectorFree backs the ZPOLINE_HOOK_VECTOR_FREE declaration: the loader
// skips saving vector state around this hook, so none of its code may touch it.
func TestLibraryIsVectorFree(t *testing.T) {
	a := build(t)
	dis := tool(t, "objdump", "-d", "--no-show-raw-insn", a.lib)
	if !strings.Contains(dis, "<zpoline_hook_function>:") || !strings.Contains(dis, "syscall") {
		t.Fatalf("objdump output lacks the hook; the check would be vacuous:\n%.2000s", dis)
	}
	for _, line := range strings.Split(dis, "\n") {
		if vectorRE.MatchString(line) {
			t.Errorf("vector state touched: %s", line)
		}
	}
	// The detector itself: a function using doubles must trip it.
	dir := t.TempDir()
	c := filepath.Join(dir, "v.c")
	if err := os.WriteFile(c, []byte("double twice(double x) { return x * 2; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := a.compile("-O2", "-c", "-o", filepath.Join(dir, "v.o"), c); err != nil {
		t.Fatal(err)
	}
	if !vectorRE.MatchString(tool(t, "objdump", "-d", filepath.Join(dir, "v.o"))) {
		t.Error("vectorRE does not detect SSE code")
	}
}

// run runs the driver with the given environment additions; it fails the test on a
// non-zero exit, a FAIL line or a hang, with the output attached.
func (a *artifacts) run(t *testing.T, env []string, args ...string) (stdout, stderr string, kv map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.driver, append([]string{a.lib}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(filteredEnv(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	stdout, stderr = o.String(), e.String()
	if ctx.Err() != nil || err != nil || strings.Contains(stdout, "FAIL") {
		t.Fatalf("driver %v: %v (timeout: %v)\nstdout:\n%s\nstderr:\n%.4000s", args, err, ctx.Err(), stdout, stderr)
	}
	kv = map[string]string{}
	for _, line := range strings.Split(stdout, "\n") {
		for _, f := range strings.Fields(line) {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
	}
	return stdout, stderr, kv
}

func filteredEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "ZPOLINE_") && !strings.HasPrefix(e, "LD_PRELOAD=") {
			env = append(env, e)
		}
	}
	return env
}

// byPid splits hook lines by the pid in their "[pid N] " prefix, keeping order.
func byPid(t *testing.T, text string) map[string][]string {
	t.Helper()
	re := regexp.MustCompile(`^\[pid ([0-9]+)\] `)
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		p := re.FindStringSubmatch(line)
		if p == nil {
			t.Errorf("line without pid prefix: %q", line)
			continue
		}
		m[p[1]] = append(m[p[1]], line)
	}
	return m
}

// expectBasic builds the exact lines the basic mode must produce, per pid, from the
// values the driver reported.
func expectBasic(t *testing.T, kv map[string]string) map[string][]string {
	t.Helper()
	for _, k := range []string{"pid", "path", "x32", "mmap", "argv", "envp", "child1", "child2", "true"} {
		if kv[k] == "" {
			t.Fatalf("driver did not report %s", k)
		}
	}
	p, c1, c2 := kv["pid"], kv["child1"], kv["child2"]
	x32 := "-1 ENOSYS"
	if kv["x32"] != "-38" {
		x32 = kv["x32"] // x32 enabled: the kernel ran getpid
	}
	l := func(pid, s string) string { return "[pid " + pid + "] " + s }
	return map[string][]string{
		p: {
			l(p, "getpid() = "+p),
			l(p, "openat(0xffffffffffffff9c, "+kv["path"]+", 0x80000, 0x0) = -1 ENOENT"),
			l(p, "close(0xffffffffffffffff) = -1 EBADF"),
			l(p, "syscall_600(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS"),
			l(p, "syscall_1073741863(0x0, 0x0, 0x0, 0x0, 0x0, 0x0) = "+x32),
			l(p, "mmap(0x0, 0x1000, 0x1, 0x22, 0xffffffffffffffff, 0x0) = "+kv["mmap"]),
			l(p, "munmap("+kv["mmap"]+", 0x1000) = 0"),
			l(p, "execve("+kv["path"]+", "+kv["argv"]+", "+kv["envp"]+") <unfinished ...>"),
			l(p, "<... execve resumed> = -1 ENOENT"),
			l(p, "fork() = "+c1),
			l(p, "fork() = "+c2),
		},
		c1: {
			l(c1, "fork() = 0"),
			l(c1, "getpid() = "+c1),
			l(c1, "exit_group(0x7) = ?"),
		},
		c2: {
			l(c2, "fork() = 0"),
			l(c2, "execve("+kv["true"]+", "+kv["argv"]+", "+kv["envp"]+") <unfinished ...>"),
		},
	}
}

func compareLines(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for pid, w := range want {
		if g := got[pid]; strings.Join(g, "\n") != strings.Join(w, "\n") {
			t.Errorf("pid %s lines:\n got:\n%s\nwant:\n%s", pid, strings.Join(g, "\n"), strings.Join(w, "\n"))
		}
	}
	for pid, g := range got {
		if want[pid] == nil {
			t.Errorf("lines from unexpected pid %s:\n%s", pid, strings.Join(g, "\n"))
		}
	}
}

func trueProgram(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	if p, err = filepath.Abs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLinesToLogFile(t *testing.T) {
	a := build(t)
	log := filepath.Join(t.TempDir(), "trace.log")
	// The file is appended to, never truncated.
	if err := os.WriteFile(log, []byte("earlier line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, kv := a.run(t, []string{"ZPOLINE_LOG=" + log}, "basic", trueProgram(t))
	if stderr != "" {
		t.Errorf("stderr not empty with ZPOLINE_LOG set:\n%s", stderr)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	text, ok := strings.CutPrefix(string(data), "earlier line\n")
	if !ok {
		t.Fatalf("earlier content of the log lost:\n%s", data)
	}
	compareLines(t, byPid(t, text), expectBasic(t, kv))
	// The descriptor: append mode, close-on-exec, moved away from the low numbers.
	if kv["cloexec"] != "1" || kv["append"] != "1" {
		t.Errorf("log descriptor flags: cloexec=%s append=%s, want 1 and 1", kv["cloexec"], kv["append"])
	}
	if fd, err := strconv.Atoi(kv["logfd"]); err != nil || fd < 10 {
		t.Errorf("log descriptor %q, want a high number", kv["logfd"])
	}
}

func TestLinesToStderr(t *testing.T) {
	a := build(t)
	_, stderr, kv := a.run(t, nil, "basic", trueProgram(t))
	compareLines(t, byPid(t, stderr), expectBasic(t, kv))
}

// TestFallbackWithoutAttach: under a loader that never calls zpoline_hook_attach the hook
// performs calls inline, and refuses the calls that would make a child share its memory.
// A log file that cannot be opened is reported once; lines go to stderr.
func TestFallbackWithoutAttach(t *testing.T) {
	a := build(t)
	_, stderr, kv := a.run(t, []string{"ZPOLINE_LOG=/nonexistent-dir/trace.log"}, "noattach")
	warn, rest, _ := strings.Cut(stderr, "\n")
	if want := "libzpoline_hook_impl: cannot open ZPOLINE_LOG /nonexistent-dir/trace.log: ENOENT; logging to stderr"; warn != want {
		t.Errorf("first stderr line = %q, want %q", warn, want)
	}
	p := kv["pid"]
	compareLines(t, byPid(t, rest), map[string][]string{p: {
		"[pid " + p + "] getpid() = " + p,
		"[pid " + p + "] vfork() = -1 ENOSYS",
		"[pid " + p + "] clone(0x4111, 0x0, 0x0, 0x0, 0x0) = -1 ENOSYS",
		// clone3's first argument is a stack address; only its shape is fixed.
		regexpLine(t, rest, `clone3\(0x[0-9a-f]+, 0x40\) = -1 ENOSYS`),
	}})
}

func regexpLine(t *testing.T, text, re string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\[pid [0-9]+\] ` + re + `$`).FindString(text)
	if m == "" {
		t.Errorf("no line matching %q", re)
	}
	return m
}

// TestConcurrentLinesStayWhole: four threads, a forked process and a signal handler that
// interrupts hook calls all write to one log; every line must arrive whole, exactly once.
func TestConcurrentLinesStayWhole(t *testing.T) {
	a := build(t)
	log := filepath.Join(t.TempDir(), "trace.log")
	_, _, kv := a.run(t, []string{"ZPOLINE_LOG=" + log}, "stress")
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lseekRE := regexp.MustCompile(`^\[pid ([0-9]+)\] lseek\(0xffffffffffffffff, 0x([0-9a-f]+), 0x([0-9a-f]+)\) = -1 EBADF$`)
	ppidRE := regexp.MustCompile(`^\[pid ([0-9]+)\] getppid\(\) = [0-9]+$`)
	seen := map[[2]uint64]bool{}
	signals, lines := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines++
		line := sc.Text()
		if m := lseekRE.FindStringSubmatch(line); m != nil {
			id, _ := strconv.ParseUint(m[2], 16, 64)
			i, _ := strconv.ParseUint(m[3], 16, 64)
			wantPid := kv["pid"]
			if id == 100 {
				wantPid = kv["child"]
			}
			if m[1] != wantPid || seen[[2]uint64{id, i}] {
				t.Fatalf("line %d: wrong pid or repeated: %q", lines, line)
			}
			seen[[2]uint64{id, i}] = true
			continue
		}
		if m := ppidRE.FindStringSubmatch(line); m != nil && m[1] == kv["pid"] {
			signals++
			continue
		}
		t.Fatalf("line %d is not a whole line: %q", lines, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if calls, _ := strconv.Atoi(kv["calls"]); len(seen) != calls || calls == 0 {
		t.Errorf("%d distinct lseek lines, want %s", len(seen), kv["calls"])
	}
	if strconv.Itoa(signals) != kv["signal_calls"] {
		t.Errorf("%d signal-handler lines, driver counted %s", signals, kv["signal_calls"])
	}
	t.Logf("%d lines, %d from the signal handler", lines, signals)
}
