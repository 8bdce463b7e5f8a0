package tests

// Choosing and loading the hook library, end to end (DESIGN.md §3 "hook library"): real
// programs under LD_PRELOAD=build/libzpoline.so with the variables of README.md's
// "Choosing the hook" table.
//
//	go test ./tests -run TestHook
//
// Programs: /usr/bin/python3 (getppid on demand; the test hooks answer 4242), coreutils,
// sh. The default hook library's trace lines look like `[pid N] name(args) = ret`.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// hlArtifacts are the artifacts these tests use beyond needLoader's.
type hlArtifacts struct {
	*artifacts
	impl      string // build/libzpoline_hook_impl.so (the default hook library)
	hookStdio string // build/tests/testhook_stdio.so
	hookNosym string // build/tests/testhook_nosym.so
	preload   string // build/tests/preload
	python    string // python3 (prefers /usr/bin/python3 over a pyenv shim)
}

func needHookArtifacts(t *testing.T) *hlArtifacts {
	t.Helper()
	a := needLoader(t)
	h := &hlArtifacts{
		artifacts: a,
		impl:      filepath.Join(a.build, "libzpoline_hook_impl.so"),
		hookStdio: filepath.Join(a.build, "tests", "testhook_stdio.so"),
		hookNosym: filepath.Join(a.build, "tests", "testhook_nosym.so"),
		preload:   filepath.Join(a.build, "tests", "preload"),
		python:    findPython(t),
	}
	requireFiles(t, h.impl, h.hookStdio, h.hookNosym, h.preloadLib("mdwe"), h.preloadLib("page0"))
	return h
}

func (h *hlArtifacts) preloadLib(name string) string {
	return filepath.Join(h.preload, name+".so")
}

// findPython returns a python3 binary. /usr/bin/python3 comes first: a pyenv shim in PATH
// is a bash script that runs more programs (all of them hooked) before python starts.
func findPython(t *testing.T) string {
	t.Helper()
	if st, err := os.Stat("/usr/bin/python3"); err == nil && !st.IsDir() {
		return "/usr/bin/python3"
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is not installed: install it (CI's .ci/run installs every tool these tests use): %v", err)
	}
	return p
}

// loaderEnv is baseEnv with the loader preloaded and extra variables.
func loaderEnv(a *artifacts, extra ...string) []string {
	env := append(baseEnv(), "LD_PRELOAD="+a.loader)
	return append(env, extra...)
}

// outputLines splits output into non-empty lines.
func outputLines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// zpolineLines returns the lines that start with "zpoline:".
func zpolineLines(b []byte) []string {
	var out []string
	for _, l := range outputLines(b) {
		if strings.HasPrefix(l, "zpoline:") {
			out = append(out, l)
		}
	}
	return out
}

// linesContaining returns the lines that contain sub.
func linesContaining(b []byte, sub string) []string {
	var out []string
	for _, l := range outputLines(b) {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

// traceRE is one line of the default hook library:
// `[pid N] name(args) = ret`, `... = ?`, `... <unfinished ...>`, `[pid N] <... name resumed> = ret`.
var traceRE = regexp.MustCompile(`^\[pid (\d+)\] (?:([a-z_0-9]+)\(([^()]*)\) (?:= .+|<unfinished \.\.\.>)|<\.\.\. ([a-z_0-9]+) resumed> = .+)$`)

// traceLine is one parsed trace line.
type traceLine struct {
	pid  int
	name string
	text string
}

// traceLines returns the trace lines of b (lines that are not trace lines are ignored).
func traceLines(b []byte) []traceLine {
	var out []traceLine
	for _, l := range outputLines(b) {
		m := traceRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		name := m[2]
		if name == "" {
			name = m[4]
		}
		out = append(out, traceLine{pid: pid, name: name, text: l})
	}
	return out
}

// pyGetppid prints os.getppid() n times, one per line.
func pyGetppid(n int) string {
	return fmt.Sprintf("import os\nfor _ in range(%d): print(os.getppid())", n)
}

// wantStdout checks that stdout is exactly want.
func wantStdout(t *testing.T, r *runResult, want string, why string) {
	t.Helper()
	if got := string(r.stdout); got != want {
		t.Errorf("stdout = %q, want %q (%s)\n%s", got, want, why, r)
	}
}

// TestHookFallbackFromZpolineHook: a ZPOLINE_HOOK that cannot be used costs one line on
// stderr and the loader falls back to the default library next to itself.
func TestHookFallbackFromZpolineHook(t *testing.T) {
	h := needHookArtifacts(t)
	argv := []string{"/bin/ls", "-la", "/usr"}
	native := run(t, runSpec{args: argv, env: nativeEnv()})
	if !native.ok() {
		t.Fatalf("native run failed\n%s", native)
	}
	cases := []struct {
		name string
		hook string
		why  []string // the one line names the library and these
	}{
		{"nonexistent", "/nonexistent.so", []string{"dlmopen failed", "cannot open shared object file"}},
		{"no-hook-symbols", h.hookNosym, []string{"symbol not found"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, runSpec{args: argv, env: loaderEnv(h.artifacts, "ZPOLINE_HOOK="+c.hook)})
			if !r.ok() {
				t.Fatalf("the program must run with the fallback hook\n%s", r)
			}
			if !bytes.Equal(r.stdout, native.stdout) {
				t.Errorf("stdout differs from the native run: %s\n%s", lineDiff(native.stdout, r.stdout), r)
			}
			named := linesContaining(r.stderr, c.hook)
			if len(named) != 1 {
				t.Fatalf("want exactly one stderr line naming %s, got %d: %q\n%s", c.hook, len(named), named, r)
			}
			if !strings.HasPrefix(named[0], "zpoline:") {
				t.Errorf("the line %q does not start with \"zpoline:\"", named[0])
			}
			for _, w := range c.why {
				if !strings.Contains(named[0], w) {
					t.Errorf("the line %q does not say %q", named[0], w)
				}
			}
			if zl := zpolineLines(r.stderr); len(zl) != 1 {
				t.Errorf("want one zpoline: line, got %d: %q\n%s", len(zl), zl, r)
			}
			// The default library (libzpoline_hook_impl.so next to the loader) traces.
			tl := traceLines(r.stderr)
			if len(tl) == 0 {
				t.Fatalf("no trace lines of the default hook library on stderr: the fallback did not "+
					"load %s\n%s", h.impl, r)
			}
			// ls writes its listing with write(1, ...); (it closes stderr before exit_group,
			// so the exit_group line itself cannot appear).
			sawWrite := false
			for _, l := range tl {
				sawWrite = sawWrite || l.name == "write" && strings.Contains(l.text, "write(0x1, ")
			}
			if !sawWrite {
				t.Errorf("the trace has no write(0x1, ...) line for the program's output\n%s", r)
			}
		})
	}
}

// TestHookSelectionVariables: LIBZPHOOK alone selects a library; ZPOLINE_HOOK wins when both
// are set. The hook in use is seen through getppid (the test hooks answer 4242) and the
// "hook:" line of the statistics.
func TestHookSelectionVariables(t *testing.T) {
	h := needHookArtifacts(t)
	realPPID := strconv.Itoa(os.Getpid()) // run() starts the program directly
	cases := []struct {
		name     string
		env      []string
		ppid     string
		hookLine string // the statistics' "hook:" line
	}{
		{"libzphook-alone", []string{"LIBZPHOOK=" + h.hookOrig},
			"4242", "hook: zpoline-original " + h.hookOrig},
		{"zpoline-hook-wins-over-libzphook", []string{"LIBZPHOOK=" + h.hookOrig, "ZPOLINE_HOOK=" + h.hookRS},
			"4242", "hook: zpoline-rs " + h.hookRS},
		{"zpoline-hook-builtin-wins-over-libzphook", []string{"LIBZPHOOK=" + h.hookOrig, "ZPOLINE_HOOK=builtin:pass"},
			realPPID, "hook: builtin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := loaderEnv(h.artifacts, append(c.env, "ZPOLINE_STATS=-")...)
			r := run(t, runSpec{args: []string{h.python, "-c", pyGetppid(1)}, env: env})
			if !r.ok() {
				t.Fatalf("program failed\n%s", r)
			}
			wantStdout(t, r, c.ppid+"\n", "getppid through the chosen hook")
			var hookLines []string
			for _, l := range outputLines(r.stderr) {
				if strings.HasPrefix(l, "hook: ") {
					hookLines = append(hookLines, l)
				}
			}
			if len(hookLines) != 1 || hookLines[0] != c.hookLine {
				t.Errorf("statistics' hook line = %q, want %q\n%s", hookLines, c.hookLine, r)
			}
			if fb := linesContaining(r.stderr, "falling back"); len(fb) > 0 {
				t.Errorf("unexpected fallback: %q\n%s", fb, r)
			}
		})
	}
}

// TestHookRelativePathInChildren: a relative library path is resolved once, at start-up, so
// a child that runs in another directory still loads the same library.
func TestHookRelativePathInChildren(t *testing.T) {
	h := needHookArtifacts(t)
	root := filepath.Dir(h.build) // the repository root when the build is ./build
	rel := func(p string) string {
		r, err := filepath.Rel(root, p)
		if err != nil || filepath.IsAbs(r) {
			t.Fatalf("cannot make %s relative to %s: %v", p, root, err)
		}
		return r
	}
	// sh changes directory, then forks python, which starts the loader again in /tmp; a
	// trailing command keeps sh from exec'ing python directly.
	script := `cd /tmp && "$ZPT_PYTHON" -c 'import os;print(os.getppid())' && pwd`
	cases := []struct {
		name string
		env  string
	}{
		{"zpoline-hook-rs", "ZPOLINE_HOOK=" + rel(h.hookRS)},
		{"libzphook-orig", "LIBZPHOOK=" + rel(h.hookOrig)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := loaderEnv(h.artifacts, c.env, "ZPT_PYTHON="+h.python)
			r := run(t, runSpec{args: []string{"/bin/sh", "-c", script}, env: env, dir: root})
			if !r.ok() {
				t.Fatalf("program failed\n%s", r)
			}
			wantStdout(t, r, "4242\n/tmp\n", "the child in /tmp must load the same hook library")
			if zl := zpolineLines(r.stderr); len(zl) > 0 {
				t.Errorf("unexpected loader messages (a failed load in the child?): %q\n%s", zl, r)
			}
		})
	}
}

// TestHookBuiltinPass: ZPOLINE_HOOK=builtin:pass traces nothing and changes nothing.
func TestHookBuiltinPass(t *testing.T) {
	h := needHookArtifacts(t)
	cases := []struct {
		name string
		argv []string
	}{
		{"ls", []string{"/bin/ls", "-la", "/usr"}},
		{"bash-pipeline", []string{"/bin/bash", "-c", "seq 1 2000 | sort -r | head -5 | tr 1 x; (echo sub; exit 3); echo $?"}},
		{"python", []string{h.python, "-c", "import os,sys;print(sys.version_info[0]);print(len(os.listdir('/usr')))"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			native := run(t, runSpec{args: c.argv, env: nativeEnv()})
			if !native.ok() {
				t.Fatalf("native run failed\n%s", native)
			}
			r := run(t, runSpec{args: c.argv, env: loaderEnv(h.artifacts, "ZPOLINE_HOOK=builtin:pass")})
			if !r.ok() {
				t.Fatalf("hooked run failed\n%s", r)
			}
			if !bytes.Equal(r.stdout, native.stdout) {
				t.Errorf("stdout differs from the native run: %s\n%s", lineDiff(native.stdout, r.stdout), r)
			}
			if !bytes.Equal(r.stderr, native.stderr) {
				t.Errorf("stderr differs from the native run (trace or loader lines?): native %q\n%s",
					native.stderr, r)
			}
		})
	}
}

// TestHookExcludeStatsDebug: ZPOLINE_EXCLUDE leaves an object unrewritten and the statistics
// say so; ZPOLINE_DEBUG=1 prints the sites rewritten.
func TestHookExcludeStatsDebug(t *testing.T) {
	h := needHookArtifacts(t)
	realPPID := strconv.Itoa(os.Getpid())
	siteRE := regexp.MustCompile(`^zpoline: site (\S+): `)
	siteObjects := func(stderr []byte) map[string]int {
		m := map[string]int{}
		for _, l := range outputLines(stderr) {
			if s := siteRE.FindStringSubmatch(l); s != nil {
				m[filepath.Base(s[1])]++
			}
		}
		return m
	}
	excludedRE := func(obj string) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^mapping \S+ \S*/` + regexp.QuoteMeta(obj) + `: skipped: excluded by ZPOLINE_EXCLUDE$`)
	}
	rewrittenRE := func(obj string) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^mapping \S+ \S*/` + regexp.QuoteMeta(obj) + `: [1-9]\d* sites`)
	}
	cases := []struct {
		name  string
		env   []string
		ppid  string // libc's getppid goes through libc's own syscall instruction
		check func(t *testing.T, r *runResult)
	}{
		{
			name: "exclude-libc-stats", env: []string{"ZPOLINE_EXCLUDE=libc.so.6", "ZPOLINE_STATS=-"},
			ppid: realPPID, // libc is not rewritten: its getppid never reaches the hook
			check: func(t *testing.T, r *runResult) {
				if !excludedRE("libc.so.6").Match(r.stderr) {
					t.Errorf("statistics do not say libc.so.6 was \"excluded by ZPOLINE_EXCLUDE\"\n%s", r)
				}
			},
		},
		{
			name: "exclude-ld-so-stats", env: []string{"ZPOLINE_EXCLUDE=ld-linux-x86-64.so.2", "ZPOLINE_STATS=-"},
			ppid: "4242",
			check: func(t *testing.T, r *runResult) {
				if !excludedRE("ld-linux-x86-64.so.2").Match(r.stderr) {
					t.Errorf("statistics do not say ld-linux-x86-64.so.2 was \"excluded by ZPOLINE_EXCLUDE\"\n%s", r)
				}
				if !rewrittenRE("libc.so.6").Match(r.stderr) {
					t.Errorf("statistics do not show libc.so.6 rewritten\n%s", r)
				}
			},
		},
		{
			name: "debug", env: []string{"ZPOLINE_DEBUG=1"}, ppid: "4242",
			check: func(t *testing.T, r *runResult) {
				if n := siteObjects(r.stderr)["libc.so.6"]; n < 100 {
					t.Errorf("ZPOLINE_DEBUG=1 printed %d `zpoline: site .../libc.so.6: ...` lines, want hundreds\n%s", n, r)
				}
			},
		},
		{
			name: "debug-exclude-libc", env: []string{"ZPOLINE_DEBUG=1", "ZPOLINE_EXCLUDE=libc.so.6"}, ppid: realPPID,
			check: func(t *testing.T, r *runResult) {
				objs := siteObjects(r.stderr)
				if objs["libc.so.6"] != 0 {
					t.Errorf("%d site lines for the excluded libc.so.6\n%s", objs["libc.so.6"], r)
				}
				if objs["ld-linux-x86-64.so.2"] == 0 {
					t.Errorf("no site lines for ld-linux-x86-64.so.2 (not excluded)\n%s", r)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := loaderEnv(h.artifacts, append(c.env, "ZPOLINE_HOOK="+h.hookRS)...)
			r := run(t, runSpec{args: []string{h.python, "-c", pyGetppid(1)}, env: env})
			if !r.ok() {
				t.Fatalf("program failed\n%s", r)
			}
			wantStdout(t, r, c.ppid+"\n", "getppid")
			c.check(t, r)
		})
	}
}

// TestHookFlushAtExit: a hook library that printf()s into its own namespace's stdout (fully
// buffered: stdout is a pipe) loses nothing, because the loader calls that namespace's
// fflush(NULL) at exit_group.
func TestHookFlushAtExit(t *testing.T) {
	h := needHookArtifacts(t)
	const line = "stdio-hook saw getppid"
	cases := []struct {
		name   string
		script string
		code   int
	}{
		{"normal-exit", "import os\nfor _ in range(3): os.getppid()\nprint('done')", 0},
		{"exit-status-3", "import os,sys\nfor _ in range(3): os.getppid()\nprint('done')\nsys.exit(3)", 3},
		{"os-_exit", "import os,sys\nfor _ in range(3): os.getppid()\nprint('done')\nsys.stdout.flush()\nos._exit(0)", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := loaderEnv(h.artifacts, "ZPOLINE_HOOK="+h.hookStdio)
			r := run(t, runSpec{args: []string{h.python, "-c", c.script}, env: env})
			if r.startErr != nil || r.timedOut || !r.exited || r.code != c.code {
				t.Fatalf("want exit status %d\n%s", c.code, r)
			}
			if n := len(linesContaining(r.stdout, line)); n != 3 {
				t.Errorf("stdout has %d %q lines, want 3: the hook namespace's stdio was not flushed "+
					"at exit\n%s", n, line, r)
			}
			if len(linesContaining(r.stdout, "done")) != 1 {
				t.Errorf("the program's own output is missing\n%s", r)
			}
			if zl := zpolineLines(r.stderr); len(zl) > 0 {
				t.Errorf("unexpected loader messages: %q\n%s", zl, r)
			}
		})
	}
}

// TestHookLogFile: with ZPOLINE_LOG the default library writes to the file, not stderr, in
// the process, in a fork child and in an exec'd child.
func TestHookLogFile(t *testing.T) {
	h := needHookArtifacts(t)
	logPath := filepath.Join(t.TempDir(), "trace.log")
	script := `import os
a = os.fork()
if a == 0:
    os.getppid()
    os._exit(0)
os.waitpid(a, 0)
b = os.fork()
if b == 0:
    os.execv("/bin/echo", ["/bin/echo", "exec-child"])
os.waitpid(b, 0)
print(os.getpid(), a, b, flush=True)
`
	r := run(t, runSpec{args: []string{h.python, "-c", script}, env: loaderEnv(h.artifacts, "ZPOLINE_LOG="+logPath)})
	if !r.ok() {
		t.Fatalf("program failed\n%s", r)
	}
	lines := outputLines(r.stdout)
	if len(lines) != 2 || lines[0] != "exec-child" {
		t.Fatalf("want \"exec-child\" then the pids on stdout\n%s", r)
	}
	var parent, forked, execd int
	if _, err := fmt.Sscan(lines[1], &parent, &forked, &execd); err != nil {
		t.Fatalf("parse pids %q: %v\n%s", lines[1], err, r)
	}
	if tl := traceLines(r.stderr); len(tl) > 0 {
		t.Errorf("%d trace lines went to stderr with ZPOLINE_LOG set, first %q\n%s", len(tl), tl[0].text, r)
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("ZPOLINE_LOG file: %v\n%s", err, r)
	}
	report := fmt.Sprintf("%s--- %s ---\n%s", r, logPath, clip(log))
	all := outputLines(log)
	tl := traceLines(log)
	if len(tl) != len(all) {
		for _, l := range all {
			if !traceRE.MatchString(l) {
				t.Errorf("log line %q is not a trace line `[pid N] name(args) = ret`", l)
				break
			}
		}
	}
	byPid := map[int][]traceLine{}
	for _, l := range tl {
		byPid[l.pid] = append(byPid[l.pid], l)
	}
	has := func(pid int, name string) bool {
		for _, l := range byPid[pid] {
			if l.name == name {
				return true
			}
		}
		return false
	}
	if !has(parent, "exit_group") || !has(parent, "wait4") {
		t.Errorf("the parent's (pid %d) calls are missing from the log\n%s", parent, report)
	}
	if !has(forked, "getppid") || !has(forked, "exit_group") {
		t.Errorf("the fork child's (pid %d) getppid and exit_group are missing from the log\n%s", forked, report)
	}
	// The exec'd child: its execve line, then lines of the new image (echo's write).
	seenExec, writeAfter := false, false
	for _, l := range byPid[execd] {
		switch {
		case l.name == "execve" && strings.HasSuffix(l.text, "<unfinished ...>"):
			seenExec = true
		case seenExec && l.name == "write" && strings.HasPrefix(strings.SplitN(l.text, "(", 2)[1], "0x1,"):
			writeAfter = true
		}
	}
	if !seenExec || !writeAfter {
		t.Errorf("the exec'd child (pid %d): execve line seen %v, its write(1, ...) after exec seen %v\n%s",
			execd, seenExec, writeAfter, report)
	}
	if parent == forked || forked == execd || parent == execd {
		t.Errorf("pids not distinct: %d %d %d", parent, forked, execd)
	}
}

// A hook library that declares nothing but whose code touches no vector register is
// proven vector-free by decoding (internal/vectorfree), and the loader skips the vector
// save around it; the test hook that clobbers every vector register is not. The vector
// probe shows the program's registers intact under both, on the Go start-up and on the
// warm start (where the loader's Go init makes the proof).
func TestHookVectorFreeProven(t *testing.T) {
	a := needProbes(t)
	plain := filepath.Join(a.build, "tests", "testhook_plain.so")
	requireFiles(t, plain, a.probe("vector"))
	cache := "XDG_CACHE_HOME=" + t.TempDir()
	for _, c := range []struct {
		hook   string
		proven bool
	}{{plain, true}, {a.hookRS, false}} {
		t.Run(filepath.Base(c.hook), func(t *testing.T) {
			r := run(t, runSpec{args: []string{"/bin/true"},
				env: loaderEnv(a, "ZPOLINE_HOOK="+c.hook, "ZPOLINE_STATS=-", cache)})
			if !r.ok() {
				t.Fatalf("/bin/true\n%s", r)
			}
			if got := strings.Contains(string(r.stderr), "(vector-free: proven by decoding)"); got != c.proven {
				t.Fatalf("proven vector-free: %v, want %v\n%s", got, c.proven, r)
			}
			for _, warm := range []string{"ZPOLINE_WARM=0", "ZPOLINE_WARM=1"} {
				env := loaderEnv(a, "ZPOLINE_HOOK="+c.hook, "PROBE_HOOKED=1", "PROBE_PPID=4242", warm, cache)
				for i := 0; i < 2; i++ { // the second ZPOLINE_WARM=1 run starts warm
					if r := run(t, runSpec{args: []string{a.probe("vector")}, env: env}); !r.ok() {
						t.Fatalf("vector probe (%s, run %d)\n%s", warm, i+1, r)
					}
				}
			}
		})
	}
}
