package tests

// The zpoline command (cmd/zpoline), as built by `make` into build/zpoline next to the
// loader: `run` (environment, exit status, the checks and their one-line errors), `doctor`
// (text and JSON), help and usage errors.
//
//	go test ./tests -run TestCLI

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// needCLI returns the artifacts and the path of build/zpoline.
func needCLI(t *testing.T) (*artifacts, string) {
	t.Helper()
	a := findArtifacts(t)
	cli := filepath.Join(a.build, "zpoline")
	requireFiles(t, cli, a.loader, filepath.Join(a.build, "libzpoline_hook_impl.so"))
	return a, cli
}

// cli runs the command with baseEnv plus extra.
func cli(t *testing.T, bin string, extra []string, args ...string) *runResult {
	t.Helper()
	return run(t, runSpec{args: append([]string{bin}, args...), env: append(baseEnv(), extra...)})
}

// errorLine checks that r failed with status code and exactly one stderr line, starting
// with "zpoline: " and containing each of wants, and nothing on stdout.
func errorLine(t *testing.T, r *runResult, code int, wants ...string) {
	t.Helper()
	if r.startErr != nil || r.timedOut || !r.exited || r.code != code {
		t.Errorf("want exit status %d\n%s", code, r)
		return
	}
	lines := outputLines(r.stderr)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "zpoline: ") {
		t.Errorf("want exactly one stderr line starting with \"zpoline: \", got %d\n%s", len(lines), r)
		return
	}
	for _, w := range wants {
		if !strings.Contains(lines[0], w) {
			t.Errorf("the line %q does not say %q", lines[0], w)
		}
	}
	if len(r.stdout) != 0 {
		t.Errorf("nothing may go to stdout\n%s", r)
	}
}

func TestCLIRunEcho(t *testing.T) {
	_, bin := needCLI(t)
	requirePage0(t)
	r := cli(t, bin, nil, "run", "--hook", "builtin:pass", "--", "/bin/echo", "hi")
	if !r.ok() || string(r.stdout) != "hi\n" || len(r.stderr) != 0 {
		t.Fatalf("want \"hi\" on stdout, nothing on stderr, status 0\n%s", r)
	}
	// Without "--", and with a name looked up in PATH.
	r = cli(t, bin, nil, "run", "--hook=builtin:pass", "echo", "-n", "two")
	if !r.ok() || string(r.stdout) != "two" {
		t.Fatalf("want \"two\" on stdout\n%s", r)
	}
}

// The hook named by --hook is the one that runs (the test hook answers getppid with 4242),
// and a relative --hook reaches children that run elsewhere as an absolute path.
func TestCLIRunHookIsLoaded(t *testing.T) {
	a, bin := needCLI(t)
	requirePage0(t)
	requireFiles(t, a.hookRS)
	rel, err := filepath.Rel(a.build, a.hookRS)
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, runSpec{
		args: []string{bin, "run", "--hook", rel, "--", "/bin/sh", "-c", `echo "$PPID"; cd /; echo "$ZPOLINE_HOOK"; /bin/sh -c 'echo "$PPID"'`},
		env:  baseEnv(), dir: a.build,
	})
	want := "4242\n" + a.hookRS + "\n4242\n"
	if !r.ok() || string(r.stdout) != want {
		t.Fatalf("want stdout %q (the hook's getppid, the absolute hook path)\n%s", want, r)
	}
}

// The variables run sets: absolute paths, lists joined, LD_PRELOAD keeps what was there
// (the loader last, once), and the stats file receives the report.
func TestCLIRunEnvironment(t *testing.T) {
	a, bin := needCLI(t)
	requirePage0(t)
	libc := ""
	for _, p := range []string{"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6"} {
		if _, err := os.Stat(p); err == nil {
			libc = p
			break
		}
	}
	if libc == "" {
		t.Fatal("no libc.so.6 found to preload (looked in the Debian and Fedora places)")
	}
	dir := t.TempDir()
	script := `printf '%s\n' "$LD_PRELOAD" "$ZPOLINE_HOOK" "$ZPOLINE_EXCLUDE" "$ZPOLINE_LOG" "$ZPOLINE_STATS" "${ZPOLINE_DEBUG-unset}" "$ZPOLINE_KEEP"`
	r := run(t, runSpec{
		args: []string{bin, "run", "--hook", "builtin:pass", "--exclude", "libfoo.so,libbar.so", "--exclude", "/x/y.so",
			"--log", "trace.log", "--stats", "stats.txt", "--", "/bin/sh", "-c", script},
		env: append(baseEnv(), "LD_PRELOAD="+libc+" "+a.loader, "ZPOLINE_KEEP=inherited", "ZPOLINE_HOOK=overridden"),
		dir: dir,
	})
	want := strings.Join([]string{libc + ":" + a.loader, "builtin:pass", "libfoo.so:libbar.so:/x/y.so",
		filepath.Join(dir, "trace.log"), filepath.Join(dir, "stats.txt"), "unset", "inherited"}, "\n") + "\n"
	if !r.ok() || string(r.stdout) != want {
		t.Fatalf("environment of the program:\n%s\nwant stdout:\n%s", r, want)
	}
	stats, err := os.ReadFile(filepath.Join(dir, "stats.txt"))
	if err != nil || !strings.Contains(string(stats), "hook: builtin") || !strings.Contains(string(stats), "loader: "+a.loader) {
		t.Errorf("--stats file: %v\n%s", err, stats)
	}

	// --debug and --stats -: the loader's own lines on stderr.
	r = cli(t, bin, nil, "run", "--hook", "builtin:pass", "--debug", "--stats", "-", "--", "/bin/true")
	if !r.ok() || !hasLineContaining(r.stderr, "zpoline: site ") || !hasLineContaining(r.stderr, "calls hooked:") {
		t.Errorf("--debug --stats - : want site lines and a report on stderr\n%s", r)
	}
}

// run execs: the program keeps the pid zpoline was started with.
func TestCLIRunKeepsPid(t *testing.T) {
	_, bin := needCLI(t)
	requirePage0(t)
	cmd := exec.Command(bin, "run", "--hook", "builtin:pass", "--", "/bin/sh", "-c", `echo $$`)
	cmd.Env = baseEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != strconv.Itoa(cmd.Process.Pid) {
		t.Errorf("the program's pid is %s, zpoline's was %d", got, cmd.Process.Pid)
	}
}

// The exit status, or the terminating signal, is the program's, as when it runs natively.
func TestCLIExitStatus(t *testing.T) {
	_, bin := needCLI(t)
	requirePage0(t)
	for _, script := range []string{"exit 0", "exit 7", "exit 255", "kill -TERM $$", "kill -KILL $$", "kill -USR1 $$", "kill -ABRT $$"} {
		t.Run(script, func(t *testing.T) {
			argv := []string{"/bin/sh", "-c", script}
			native := run(t, runSpec{args: argv, env: baseEnv()})
			hooked := cli(t, bin, nil, append([]string{"run", "--hook", "builtin:pass", "--"}, argv...)...)
			if native.status() != hooked.status() || hooked.startErr != nil || hooked.timedOut {
				t.Errorf("native: %s, under zpoline run: %s\n%s", native.status(), hooked.status(), hooked)
			}
			if len(hooked.stderr) != 0 {
				t.Errorf("unexpected stderr\n%s", hooked)
			}
		})
	}
}

func TestCLIUsageErrors(t *testing.T) {
	_, bin := needCLI(t)
	for _, c := range []struct {
		args  []string
		wants []string
	}{
		{nil, []string{"no subcommand", "run", "doctor", "see 'zpoline --help'"}},
		{[]string{"strace", "--", "true"}, []string{`unknown subcommand "strace"`, "run, trace, stat, doctor", "see 'zpoline --help'"}},
		{[]string{"stats"}, []string{`unknown subcommand "stats"`, "see 'zpoline --help'"}},
		{[]string{"help", "strace"}, []string{`unknown subcommand "strace"`}},
		{[]string{"--bogus", "run"}, []string{"unknown flag --bogus", "see 'zpoline --help'"}},
		{[]string{"run", "--bogus", "--", "true"}, []string{"unknown flag --bogus", "zpoline run", "--hook", "see 'zpoline run --help'"}},
		{[]string{"run", "-x", "true"}, []string{"unknown flag -x"}},
		{[]string{"doctor", "--bogus"}, []string{"unknown flag --bogus", "see 'zpoline doctor --help'"}},
		{[]string{"doctor", "extra"}, []string{"doctor takes no arguments"}},
		{[]string{"run", "--hook"}, []string{"flag --hook", "needs a value"}},
		{[]string{"run", "--debug=maybe", "--", "true"}, []string{"debug", "maybe"}},
		{[]string{"run"}, []string{"no program given"}},
		{[]string{"run", "--hook", "builtin:pass", "--"}, []string{"no program given"}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			errorLine(t, cli(t, bin, nil, c.args...), 2, c.wants...)
		})
	}
}

// Each problem `run` finds before exec is one line naming it; the status is 2, or 127/126
// for a program that is not found or not executable.
func TestCLIRunErrors(t *testing.T) {
	a, bin := needCLI(t)
	requirePage0(t) // otherwise every run also reports page 0
	dir := t.TempDir()
	text := filepath.Join(dir, "text.so")
	noexec := filepath.Join(dir, "noexec")
	for _, f := range []string{text, noexec} {
		if err := os.WriteFile(f, []byte("#!/bin/sh\necho hi\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	impl := filepath.Join(a.build, "libzpoline_hook_impl.so")
	for _, c := range []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"missing hook", []string{"--hook", "/nonexistent.so"}, 2, []string{"/nonexistent.so", "does not exist", "--hook"}},
		{"hook not ELF", []string{"--hook", text}, 2, []string{text, "not an ELF file"}},
		{"hook a directory", []string{"--hook", dir}, 2, []string{dir, "is a directory"}},
		{"unknown builtin", []string{"--hook", "builtin:nope"}, 2, []string{"builtin:nope", "builtin:pass"}},
		{"missing loader", []string{"--loader", "/nonexistent/libzpoline.so"}, 2, []string{"/nonexistent/libzpoline.so", "--loader", "does not exist"}},
		{"loader not ELF", []string{"--loader", text}, 2, []string{text, "not an ELF file"}},
		{"loader is a program", []string{"--loader", bin}, 2, []string{bin, "not a shared object"}},
		{"loader is the hook library", []string{"--loader", impl}, 2, []string{impl, "not a zpoline loader", "zpolineStart"}},
		{"log directory missing", []string{"--log", filepath.Join(dir, "no", "x.log")}, 2, []string{filepath.Join(dir, "no", "x.log"), "does not exist"}},
		{"log is a directory", []string{"--log", dir}, 2, []string{dir, "is a directory"}},
		{"stats directory missing", []string{"--stats", filepath.Join(dir, "no", "s.txt")}, 2, []string{"--stats", filepath.Join(dir, "no", "s.txt")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append(append([]string{"run"}, c.args...), "--", "/bin/echo", "must not run")
			errorLine(t, cli(t, bin, nil, args...), c.code, c.wants...)
		})
	}

	// Two problems: two lines, still status 2, the program not run.
	r := cli(t, bin, nil, "run", "--hook", "/nonexistent.so", "--log", filepath.Join(dir, "no", "x.log"), "--", "/bin/echo", "must not run")
	if lines := outputLines(r.stderr); !r.exited || r.code != 2 || len(lines) != 2 || len(r.stdout) != 0 {
		t.Errorf("want two lines and status 2\n%s", r)
	}

	for _, c := range []struct {
		name  string
		prog  string
		code  int
		wants []string
	}{
		{"not in PATH", "no-such-program-zpoline-test", 127, []string{"no-such-program-zpoline-test", "not found"}},
		{"no such path", "/nonexistent/prog", 127, []string{"/nonexistent/prog"}},
		{"not executable", noexec, 126, []string{noexec, "permission denied"}},
		// The command itself is a static Go program: LD_PRELOAD cannot reach it.
		{"static program", bin, 2, []string{bin, "statically linked", "ZPOLINE_ALLOW_UNHOOKED=1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			errorLine(t, cli(t, bin, nil, "run", "--", c.prog, "--help"), c.code, c.wants...)
		})
	}
	// ZPOLINE_ALLOW_UNHOOKED=1 runs a static program after one line saying so.
	r = cli(t, bin, []string{"ZPOLINE_ALLOW_UNHOOKED=1"}, "run", "--", bin, "--version")
	if !r.ok() || !strings.HasPrefix(string(r.stdout), "zpoline ") || len(outputLines(r.stderr)) != 1 ||
		!hasLineContaining(r.stderr, "runs unhooked") {
		t.Errorf("ZPOLINE_ALLOW_UNHOOKED=1: want the static program to run after one line\n%s", r)
	}
}

// --log into a directory the user cannot write: one line, status 2. As root, the command
// runs as nobody, for whom a 0555 directory is not writable.
func TestCLIRunLogUnwritable(t *testing.T) {
	a, bin := needCLI(t)
	top, err := os.MkdirTemp("", "zpoline-cli-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(top)
	ro := filepath.Join(top, "ro")
	copied := filepath.Join(top, "zpoline") // build/ may not be reachable for nobody
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(bin, copied, 0o755); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{top: 0o755, ro: 0o555} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	defer os.Chmod(ro, 0o755)
	log := filepath.Join(ro, "trace.log")
	cmd := exec.Command(copied, "run", "--loader", a.loader, "--log", log, "--", "/bin/echo", "must not run")
	cmd.Env = baseEnv()
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	// As nobody, other checks (page 0 when root relied on CAP_SYS_RAWIO) may add lines.
	lines := outputLines([]byte(stderr.String()))
	found := false
	for _, l := range lines {
		if !strings.HasPrefix(l, "zpoline: ") {
			t.Errorf("stderr line without \"zpoline: \": %q", l)
		}
		found = found || strings.Contains(l, log) && strings.Contains(l, "permission denied")
	}
	if code != 2 || !found || stdout.Len() != 0 {
		t.Errorf("want status 2 and a line naming %s (permission denied), got %d\nstdout: %s\nstderr:\n%s", log, code, stdout.String(), stderr.String())
	}
	if _, err := os.Stat(log); err == nil {
		t.Errorf("%s was created", log)
	}
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// The loader is found next to the (real) zpoline executable, in ../lib from it (the
// `make install` layout), or through ZPOLINE_LOADER; otherwise one line says where it looked.
func TestCLILoaderSearch(t *testing.T) {
	a, bin := needCLI(t)
	requirePage0(t)
	top := t.TempDir()
	mk := func(p string) string {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// PREFIX/bin/zpoline with PREFIX/lib/libzpoline.so (a symlink: the loader looks for its
	// default hook next to the real file).
	prefixBin := mk(filepath.Join(top, "prefix", "bin", "zpoline"))
	if err := copyFile(bin, prefixBin, 0o755); err != nil {
		t.Fatal(err)
	}
	prefixLoader := mk(filepath.Join(top, "prefix", "lib", "libzpoline.so"))
	if err := os.Symlink(a.loader, prefixLoader); err != nil {
		t.Fatal(err)
	}
	// A symlink to build/zpoline: the search starts from the real file.
	link := mk(filepath.Join(top, "link", "zpoline"))
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	// zpoline alone: nothing next to it.
	alone := mk(filepath.Join(top, "alone", "bin", "zpoline"))
	if err := copyFile(bin, alone, 0o755); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, bin string
		env       []string
		loader    string
	}{
		{"next to zpoline", bin, nil, a.loader},
		{"PREFIX/lib", prefixBin, nil, prefixLoader},
		{"through a symlink to zpoline", link, nil, a.loader},
		{"ZPOLINE_LOADER", alone, []string{"ZPOLINE_LOADER=" + a.loader}, a.loader},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := cli(t, c.bin, c.env, "run", "--hook", "builtin:pass", "--", "/bin/sh", "-c", `echo "$LD_PRELOAD"`)
			if !r.ok() || string(r.stdout) != c.loader+"\n" {
				t.Errorf("want LD_PRELOAD=%s\n%s", c.loader, r)
			}
			checks := doctorJSON(t, cli(t, c.bin, c.env, "doctor", "--json"))
			if l := checks["loader"]; l.Status != "ok" || !strings.HasPrefix(l.Detail, c.loader+" ") {
				t.Errorf("doctor's loader check: %+v, want %s", l, c.loader)
			}
			if d := checks["default hook library"]; d.Status != "ok" || d.Detail != filepath.Join(a.build, "libzpoline_hook_impl.so") {
				t.Errorf("doctor's default hook check: %+v", d)
			}
		})
	}
	r := cli(t, alone, nil, "run", "--", "/bin/true")
	errorLine(t, r, 2, "cannot find the loader", filepath.Join(top, "alone", "bin", "libzpoline.so"),
		filepath.Join(top, "alone", "lib", "libzpoline.so"), "--loader", "ZPOLINE_LOADER")
}

type doctorCheck struct {
	Check, Status, Detail, Fix string
}

// doctorJSON parses `doctor --json` strictly: an array of objects with exactly the four keys.
func doctorJSON(t *testing.T, r *runResult) map[string]doctorCheck {
	t.Helper()
	var raw []map[string]any
	if err := json.Unmarshal(r.stdout, &raw); err != nil {
		t.Fatalf("doctor --json is not a JSON array: %v\n%s", err, r)
	}
	checks := map[string]doctorCheck{}
	for _, o := range raw {
		if len(o) != 4 {
			t.Errorf("want the keys check, status, detail, fix: %v", o)
		}
		var c doctorCheck
		for k, dst := range map[string]*string{"check": &c.Check, "status": &c.Status, "detail": &c.Detail, "fix": &c.Fix} {
			s, ok := o[k].(string)
			if !ok {
				t.Errorf("%q is missing or not a string in %v", k, o)
			}
			*dst = s
		}
		switch {
		case c.Status != "ok" && c.Status != "warn" && c.Status != "fail":
			t.Errorf("status %q is not ok, warn or fail: %v", c.Status, o)
		case c.Status == "fail" && c.Fix == "":
			t.Errorf("a failed check without a fix: %v", o)
		case c.Detail == "":
			t.Errorf("a check without detail: %v", o)
		}
		if _, dup := checks[c.Check]; dup {
			t.Errorf("check %q twice", c.Check)
		}
		checks[c.Check] = c
	}
	return checks
}

func TestCLIDoctor(t *testing.T) {
	_, bin := needCLI(t)
	requirePage0(t)
	r := cli(t, bin, nil, "doctor")
	if !r.ok() {
		t.Fatalf("doctor must pass on a machine that runs the tests\n%s", r)
	}
	lines := outputLines(r.stdout)
	if len(lines) < 10 || !strings.Contains(string(r.stdout), "mmap_min_addr") {
		t.Fatalf("want a line per check, one about mmap_min_addr\n%s", r)
	}
	var names []string
	for _, l := range lines[:len(lines)-1] {
		f := strings.Fields(l)
		if len(f) < 2 || (f[0] != "ok" && f[0] != "warn" && f[0] != "FAIL") {
			t.Errorf("line does not start with ok, warn or FAIL: %q", l)
		}
		names = append(names, l)
	}
	if last := lines[len(lines)-1]; last != "zpoline: no check failed" {
		t.Errorf("last line %q", last)
	}

	jr := cli(t, bin, nil, "doctor", "--json")
	if !jr.ok() {
		t.Fatalf("doctor --json\n%s", jr)
	}
	checks := doctorJSON(t, jr)
	if len(checks) != len(names) {
		t.Errorf("%d checks in JSON, %d lines in text", len(checks), len(names))
	}
	for _, want := range []string{"vm.mmap_min_addr", "CAP_SYS_RAWIO", "SELinux", "page 0", "PR_SET_MDWE", "kernel",
		"syscall user dispatch", "CPU features", "glibc", "loader", "default hook library", "address-space limit"} {
		c, ok := checks[want]
		if !ok {
			t.Errorf("no %q check in\n%s", want, jr.stdout)
		} else if c.Status == "fail" {
			t.Errorf("check %q failed: %+v", want, c)
		}
	}
	if c := checks["page 0"]; c.Status != "ok" {
		t.Errorf("page 0 is mappable here (requirePage0), doctor says %+v", c)
	}
}

// A failed check: status 1, a FAIL line with the fix, "fail" in JSON.
func TestCLIDoctorFailures(t *testing.T) {
	_, bin := needCLI(t)
	r := cli(t, bin, nil, "doctor", "--loader", "/nonexistent/libzpoline.so")
	if !r.exited || r.code != 1 || !hasLineContaining(r.stdout, "FAIL  loader") || !hasLineContaining(r.stdout, "fix: ") {
		t.Errorf("want status 1 and a FAIL line for the loader\n%s", r)
	}
	checks := doctorJSON(t, cli(t, bin, nil, "doctor", "--json", "--loader", "/nonexistent/libzpoline.so"))
	if c := checks["loader"]; c.Status != "fail" || !strings.Contains(c.Detail, "/nonexistent/libzpoline.so") {
		t.Errorf("loader check: %+v", c)
	}

	// Under an address-space limit below 2 GiB (and big enough for the Go command itself),
	// doctor fails the check and run refuses with the loader's own wording.
	const limit = "1500000"
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"doctor"}, 1, "FAIL  address-space limit"},
		{[]string{"run", "--hook", "builtin:pass", "--", "/bin/true"}, 2, "zpoline: the address-space limit (ulimit -v " + limit + ") is below the 2 GiB"},
	} {
		argv := append([]string{"/bin/bash", "-c", `ulimit -v "$1" || exit 99; shift; exec "$@"`, "bash", limit, bin}, c.args...)
		r := run(t, runSpec{args: argv, env: baseEnv()})
		out := append(append([]byte{}, r.stdout...), r.stderr...)
		if !r.exited || r.code != c.code || !hasLineContaining(out, c.want) {
			t.Errorf("under ulimit -v %s: want status %d and a line with %q\n%s", limit, c.code, c.want, r)
		}
	}
}

// --help works for the command and every subcommand it lists, and prints to stdout.
func TestCLIHelp(t *testing.T) {
	_, bin := needCLI(t)
	top := cli(t, bin, nil, "--help")
	if !top.ok() || !strings.HasPrefix(string(top.stdout), "Usage: zpoline ") || len(top.stderr) != 0 {
		t.Fatalf("zpoline --help\n%s", top)
	}
	var subs []string
	inList := false
	for _, l := range outputLines(top.stdout) {
		switch {
		case l == "Subcommands:":
			inList = true
		case inList && strings.HasPrefix(l, "  "):
			subs = append(subs, strings.Fields(l)[0])
		default:
			inList = false
		}
	}
	for _, want := range []string{"run", "trace", "stat", "doctor", "help"} {
		if !strings.Contains(" "+strings.Join(subs, " ")+" ", " "+want+" ") {
			t.Errorf("zpoline --help does not list %s: %q", want, subs)
		}
	}
	cases := []struct {
		args   []string
		prefix string
	}{
		{[]string{"-h"}, "Usage: zpoline "},
		{[]string{"help"}, "Usage: zpoline "},
		{[]string{"--version"}, "zpoline "},
		{[]string{"run", "--hook", "builtin:pass", "--help"}, "Usage: zpoline run "},
	}
	for _, s := range subs {
		for _, args := range [][]string{{s, "--help"}, {s, "-h"}, {"help", s}} {
			cases = append(cases, struct {
				args   []string
				prefix string
			}{args, "Usage: zpoline " + s + " "})
		}
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := cli(t, bin, nil, c.args...)
			if !r.ok() || !strings.HasPrefix(string(r.stdout), c.prefix) || len(r.stderr) != 0 {
				t.Errorf("want status 0 and stdout starting with %q, nothing on stderr\n%s", c.prefix, r)
			}
		})
	}
}
