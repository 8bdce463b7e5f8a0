package tests

// Children that will not be hooked are named once, with the reason, and the loader puts
// its variables back into an execve environment that dropped them unless
// ZPOLINE_KEEP_ENV=0 (internal/core/zp_exec.c).
//
//	go test ./tests -run TestExec

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// unhookedLines returns the loader's "will not be hooked" lines of out.
func unhookedLines(out []byte) []string {
	var ls []string
	for _, l := range outputLines(out) {
		if strings.HasPrefix(l, "zpoline: ") && strings.Contains(l, " will not be hooked: ") {
			ls = append(ls, l)
		}
	}
	return ls
}

// An empty environment (env -i) still gets the loader and the recorder's ring: the shell
// it runs is hooked and traced, and the execve line shows the variables put back.
func TestExecEmptyEnvironmentTraced(t *testing.T) {
	bin := needTrace(t)
	r := traceRun(t, bin, "trace", "-e", "trace=execve,write", "--", "/usr/bin/env", "-i", "/bin/sh", "-c", "echo hi-from-sh")
	if !r.ok() || string(r.stdout) != "hi-from-sh\n" {
		t.Fatalf("want status 0 and the shell's line\n%s", r)
	}
	for _, want := range []string{
		`(?m)^\[pid \d+\] execve\("/bin/sh", \["/bin/sh", "-c", "echo hi-from-sh"\], 0x[0-9a-f]+ /\* [1-9]\d* vars \*/\) = 0$`,
		`(?m)^\[pid \d+\] write\(1, "hi-from-sh\\n", 11\) = 11$`,
	} {
		if !regexp.MustCompile(want).Match(r.stderr) {
			t.Errorf("no line matches %s\n%s", want, r)
		}
	}
	if ls := unhookedLines(r.stderr); len(ls) != 0 {
		t.Errorf("nothing is unhooked here, but: %q", ls)
	}
}

// Started with a relative LD_PRELOAD, a child exec'd with an empty environment in another
// directory gets the loader by its absolute path: the test hook answers its getppid.
func TestExecEmptyEnvironmentHooked(t *testing.T) {
	a := needLoader(t)
	// The shell with the empty environment runs its child from another directory, where
	// the relative ./libzpoline.so does not exist.
	script := `exec /usr/bin/env -i /bin/sh -c 'cd / && exec /bin/sh -c "echo ppid=\$PPID"'`
	r := run(t, runSpec{args: []string{"/bin/sh", "-c", script}, dir: a.build,
		env: append(baseEnv(), "LD_PRELOAD=./libzpoline.so", "ZPOLINE_HOOK="+a.hookRS)})
	if !r.ok() || string(r.stdout) != "ppid=4242\n" {
		t.Errorf("want ppid=4242 (the test hook's getppid in the child with an empty environment)\n%s", r)
	}
	// Opted out: the child runs unhooked, and is named.
	r = run(t, runSpec{args: []string{"/bin/sh", "-c", script}, dir: a.build,
		env: append(baseEnv(), "LD_PRELOAD=./libzpoline.so", "ZPOLINE_HOOK="+a.hookRS, "ZPOLINE_KEEP_ENV=0")})
	if !r.ok() || string(r.stdout) == "ppid=4242\n" || !strings.HasPrefix(string(r.stdout), "ppid=") {
		t.Errorf("with ZPOLINE_KEEP_ENV=0 the child must run unhooked (its real parent pid)\n%s", r)
	}
	ls := unhookedLines(r.stderr)
	if len(ls) != 1 || ls[0] != "zpoline: /bin/sh will not be hooked: its environment has no LD_PRELOAD (ZPOLINE_KEEP_ENV=0: the loader does not put it back)" {
		t.Errorf("want one line naming /bin/sh and its environment, got %q\n%s", ls, r)
	}
}

// A variable the program changed is kept as it is; a dropped one comes back.
func TestExecKeepsProgramsVariables(t *testing.T) {
	bin := needTrace(t)
	r := traceRun(t, bin, "trace", "-o", "/dev/null", "--", "/usr/bin/env", "-u", "ZPOLINE_HOOK", "ZPOLINE_DEBUG=0", "/usr/bin/env")
	if !r.ok() {
		t.Fatalf("want status 0\n%s", r)
	}
	env := map[string]string{}
	for _, l := range outputLines(r.stdout) {
		k, v, _ := strings.Cut(l, "=")
		env[k] = v
	}
	if env["ZPOLINE_DEBUG"] != "0" {
		t.Errorf("the program's own ZPOLINE_DEBUG=0 was changed: %q\n%s", env["ZPOLINE_DEBUG"], r)
	}
	if !strings.HasSuffix(env["ZPOLINE_HOOK"], "/libzpoline_trace.so") || !filepath.IsAbs(env["ZPOLINE_HOOK"]) {
		t.Errorf("the dropped ZPOLINE_HOOK did not come back: %q\n%s", env["ZPOLINE_HOOK"], r)
	}
	if !strings.HasSuffix(env["LD_PRELOAD"], "/libzpoline.so") || env["ZPOLINE_TRACE_RING"] == "" {
		t.Errorf("want LD_PRELOAD and ZPOLINE_TRACE_RING in the child\n%s", r)
	}
}

// A static program is named once, even when run twice from two fork children of a shell.
func TestExecStaticChildNamed(t *testing.T) {
	bin := needTrace(t)
	a := findArtifacts(t)
	static := filepath.Join(a.build, "tests", "static_hello")
	requireFiles(t, static)
	r := traceRun(t, bin, "trace", "-o", "/dev/null", "--", "/bin/sh", "-c", static+"; "+static+"; echo done")
	if !r.ok() || strings.Count(string(r.stdout), "hello from gcc-built code") != 2 {
		t.Fatalf("want status 0 and the static program's output twice\n%s", r)
	}
	ls := unhookedLines(r.stderr)
	want := "zpoline: " + static + " will not be hooked: it is statically linked, and LD_PRELOAD only reaches dynamically linked programs"
	if len(ls) != 1 || ls[0] != want {
		t.Errorf("want exactly the line %q, got %q\n%s", want, ls, r)
	}
	// A dynamically linked program is not named.
	r = traceRun(t, bin, "trace", "-o", "/dev/null", "--", "/bin/sh", "-c", "/bin/true")
	if ls := unhookedLines(r.stderr); !r.ok() || len(ls) != 0 {
		t.Errorf("a dynamic child must not be named: %q\n%s", ls, r)
	}
}

// A set-user-ID program of another user puts ld.so in secure mode: named with its owner.
func TestExecSetuidChildNamed(t *testing.T) {
	bin := needTrace(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a copy of /bin/true to another user (CI runs as root)")
	}
	dir := t.TempDir()
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil {
		t.Fatal(err)
	}
	if sfs.Flags&unix.ST_NOSUID != 0 {
		t.Skipf("%s is on a nosuid mount: set-user-ID bits are ignored there", dir)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "suid_true")
	if out, err := exec.Command("cp", "/bin/true", prog).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if err := os.Chown(prog, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(prog, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	r := traceRun(t, bin, "trace", "-o", "/dev/null", "--", "/bin/sh", "-c", prog+" && "+prog)
	if !r.ok() {
		t.Fatalf("want status 0\n%s", r)
	}
	ls := unhookedLines(r.stderr)
	want := "zpoline: " + prog + " will not be hooked: it is set-user-ID (owner uid 65534), so ld.so runs in secure mode and ignores LD_PRELOAD"
	if len(ls) != 1 || ls[0] != want {
		t.Errorf("want exactly the line %q, got %q\n%s", want, ls, r)
	}
}
