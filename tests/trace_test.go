package tests

// `zpoline trace` and `zpoline stat` (cmd/zpoline/trace.go, the recorder
// hooks/trace/src/zp_trace.c, the ring internal/tracering): decoded lines, pids of every
// process of a tree, -o, -e trace=, -c, --json, -s, -T, exit statuses and the error cases.
//
//	go test ./tests -run TestTrace

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// needTrace returns the zpoline command after checking the recorder was built.
func needTrace(t *testing.T) string {
	t.Helper()
	a, bin := needCLI(t)
	requireFiles(t, filepath.Join(a.build, "libzpoline_trace.so"))
	requirePage0(t)
	return bin
}

// traceRun runs `zpoline ARGS` and fails on a hang or a start failure.
func traceRun(t *testing.T, bin string, args ...string) *runResult {
	t.Helper()
	r := cli(t, bin, nil, args...)
	if r.startErr != nil || r.timedOut {
		t.Fatalf("zpoline %s\n%s", strings.Join(args, " "), r)
	}
	return r
}

func TestTraceDecodedLines(t *testing.T) {
	bin := needTrace(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "data.txt")
	if err := os.WriteFile(file, []byte("zpoline-trace-test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := traceRun(t, bin, "trace", "--", "/bin/cat", file, "/nonexistent/zp")
	if !r.exited || r.code != 1 {
		t.Fatalf("cat of a missing file must exit 1 through zpoline trace\n%s", r)
	}
	if string(r.stdout) != "zpoline-trace-test\n" {
		t.Errorf("the program's stdout changed\n%s", r)
	}
	pid := `\[pid \d+\] `
	for _, want := range []string{
		pid + `openat\(AT_FDCWD, "` + regexp.QuoteMeta(file) + `", O_RDONLY\) = 3$`,
		pid + `read\(3, "zpoline-trace-test\\n", \d+\) = 19$`,
		pid + `write\(1, "zpoline-trace-test\\n", 19\) = 19$`,
		pid + `openat\(AT_FDCWD, "/nonexistent/zp", O_RDONLY\) = -1 ENOENT \(No such file or directory\)$`,
		pid + `exit_group\(1\) = \?$`,
	} {
		if !regexp.MustCompile(`(?m)` + want).Match(r.stderr) {
			t.Errorf("no line matches %s\n%s", want, r)
		}
	}
	// The loader's own calls (it reads /proc/self/maps and writes code through
	// /proc/self/mem) never appear.
	if strings.Contains(string(r.stderr), "/proc/self/m") {
		t.Errorf("the loader's own system calls appear in the trace\n%s", r)
	}
}

// Every process of a tree: fork children (the pipe's sides), exec'd programs, threads.
func TestTraceFollowsTree(t *testing.T) {
	bin := needTrace(t)
	r := traceRun(t, bin, "trace", "--", "/bin/bash", "-c",
		`echo one | /bin/cat; (/bin/echo two); /usr/bin/python3 -c 'import threading,os; t=threading.Thread(target=lambda: os.getppid()); t.start(); t.join()'`)
	if !r.ok() || string(r.stdout) != "one\ntwo\n" {
		t.Fatalf("want status 0 and stdout one, two\n%s", r)
	}
	lines := outputLines(r.stderr)
	pids := map[string]bool{}
	re := regexp.MustCompile(`^\[pid (\d+)( tid (\d+))?\] `)
	threadGetppid := false
	for _, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line without a pid prefix: %q\n%s", l, r)
		}
		pids[m[1]] = true
		if m[3] != "" && strings.Contains(l, "getppid() = ") {
			threadGetppid = true
		}
	}
	if len(pids) < 4 {
		t.Errorf("want the calls of at least 4 processes (bash, its pipe's two sides, the subshell, python), got %d\n%s", len(pids), r)
	}
	for _, want := range []string{`execve("/bin/cat", ["/bin/cat"], `, `execve("/bin/echo", ["/bin/echo", "two"], `,
		`write(1, "one\n", 4) = 4`, `write(1, "two\n", 4) = 4`, `pipe2(`, `wait4(`} {
		if !strings.Contains(string(r.stderr), want) {
			t.Errorf("the trace lacks %q\n%s", want, r)
		}
	}
	if !threadGetppid {
		t.Errorf("no getppid line with a tid (python's thread)\n%s", r)
	}
}

func TestTraceExitStatus(t *testing.T) {
	bin := needTrace(t)
	for _, script := range []string{"exit 0", "exit 7", "exit 255", "kill -TERM $$", "kill -USR1 $$"} {
		t.Run(script, func(t *testing.T) {
			argv := []string{"/bin/sh", "-c", script}
			native := run(t, runSpec{args: argv, env: baseEnv()})
			for _, sub := range []string{"trace", "stat"} {
				traced := traceRun(t, bin, append([]string{sub, "-o", "/dev/null", "--"}, argv...)...)
				if native.status() != traced.status() {
					t.Errorf("native: %s, under zpoline %s: %s\n%s", native.status(), sub, traced.status(), traced)
				}
			}
		})
	}
}

func TestTraceOutputFile(t *testing.T) {
	bin := needTrace(t)
	out := filepath.Join(t.TempDir(), "trace.txt")
	r := traceRun(t, bin, "trace", "-o", out, "--", "/bin/echo", "hi")
	if !r.ok() || string(r.stdout) != "hi\n" || len(r.stderr) != 0 {
		t.Fatalf("want status 0, hi on stdout, nothing on stderr\n%s", r)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `write(1, "hi\n", 3) = 3`) {
		t.Errorf("-o file lacks the write:\n%s", b)
	}
}

func TestTraceFilter(t *testing.T) {
	bin := needTrace(t)
	r := traceRun(t, bin, "trace", "-e", "trace=file,write", "--", "/bin/cat", "/etc/hostname")
	if !r.ok() {
		t.Fatalf("\n%s", r)
	}
	lines := outputLines(r.stderr)
	if len(lines) == 0 {
		t.Fatalf("no lines\n%s", r)
	}
	sawOpen, sawWrite := false, false
	for _, l := range lines {
		name := regexp.MustCompile(`^\[pid \d+\] (\w+)\(`).FindStringSubmatch(l)
		if name == nil {
			t.Fatalf("unexpected line %q", l)
		}
		switch name[1] {
		case "openat", "newfstatat", "stat", "access", "readlink", "statfs":
			sawOpen = sawOpen || name[1] == "openat"
		case "write":
			sawWrite = true
		default:
			t.Errorf("-e trace=file,write shows %s: %q", name[1], l)
		}
	}
	if !sawOpen || !sawWrite {
		t.Errorf("want openat and write lines\n%s", r)
	}
	none := traceRun(t, bin, "trace", "-e", "trace=none", "--", "/bin/true")
	if !none.ok() || len(none.stderr) != 0 {
		t.Errorf("-e trace=none must print nothing\n%s", none)
	}
}

func TestTraceJSON(t *testing.T) {
	bin := needTrace(t)
	out := filepath.Join(t.TempDir(), "trace.json")
	r := traceRun(t, bin, "trace", "--json", "-o", out, "--", "/bin/sh", "-c", "/bin/echo hi; cat /nonexistent/x; exit 0")
	if !r.ok() {
		t.Fatalf("\n%s", r)
	}
	text, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	type call struct {
		Pid, Tid   int
		Nr         int64
		Name       string
		Args       []uint64
		Call       string
		Finished   bool
		Ret        *int64
		Errno      string
		Result     string
		Start      string
		DurationNs int64 `json:"duration_ns"`
	}
	var calls []call
	for _, l := range outputLines(text) {
		var c call
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("invalid JSON line %q: %v", l, err)
		}
		if c.Pid <= 0 || c.Tid <= 0 || c.Name == "" || len(c.Args) != 6 || !strings.HasPrefix(c.Call, c.Name+"(") || c.Start == "" {
			t.Errorf("incomplete object %q", l)
		}
		calls = append(calls, c)
	}
	var sawErr, sawExec, sawExit bool
	for _, c := range calls {
		switch {
		case c.Name == "openat" && c.Errno == "ENOENT" && c.Ret != nil && *c.Ret == -2 && strings.Contains(c.Call, `"/nonexistent/x"`):
			sawErr = true
		case c.Name == "execve" && c.Finished && c.Ret != nil && *c.Ret == 0 && strings.Contains(c.Call, `"/bin/echo"`):
			sawExec = true
		case c.Name == "exit_group" && !c.Finished && c.Ret == nil && c.Result == "= ?":
			sawExit = true
		}
	}
	if !sawErr || !sawExec || !sawExit {
		t.Errorf("want a failed openat with errno ENOENT (%v), a finished execve (%v), an unfinished exit_group (%v)\n%s",
			sawErr, sawExec, sawExit, text)
	}
}

func TestTraceStrsizeAndTiming(t *testing.T) {
	bin := needTrace(t)
	r := traceRun(t, bin, "trace", "-s", "4", "-T", "--", "/bin/echo", "abcdefgh")
	if !r.ok() {
		t.Fatalf("\n%s", r)
	}
	if !regexp.MustCompile(`(?m)^\[pid \d+\] write\(1, "abcd"\.\.\., 9\) = 9 <\d+\.\d{6}>$`).Match(r.stderr) {
		t.Errorf("want write(1, \"abcd\"..., 9) = 9 <seconds>\n%s", r)
	}
	if !regexp.MustCompile(`(?m)^\[pid \d+\] exit_group\(0\) = \?$`).Match(r.stderr) {
		t.Errorf("exit_group has no duration\n%s", r)
	}
}

// parseSummary parses the strace -c table into calls and errors by name.
func parseSummary(t *testing.T, text string) (calls, errs map[string]int) {
	t.Helper()
	calls, errs = map[string]int{}, map[string]int{}
	lines := outputLines([]byte(text))
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "% time") {
			start = i
		}
	}
	if start < 0 || start+1 >= len(lines) || !strings.HasPrefix(lines[start+1], "------") {
		t.Fatalf("no summary table in:\n%s", text)
	}
	for _, l := range lines[start+2:] {
		if strings.HasPrefix(l, "------") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 5 {
			t.Fatalf("bad summary line %q", l)
		}
		name := f[len(f)-1]
		n, err := strconv.Atoi(f[3])
		if err != nil {
			t.Fatalf("bad calls column in %q", l)
		}
		e := 0
		if len(f) == 6 {
			if e, err = strconv.Atoi(f[4]); err != nil {
				t.Fatalf("bad errors column in %q", l)
			}
		}
		calls[name], errs[name] = n, e
	}
	return calls, errs
}

func TestTraceSummary(t *testing.T) {
	bin := needTrace(t)
	script := "for i in 1 2 3; do /bin/true; done; cat /nonexistent/a /nonexistent/b; exit 0"
	for _, args := range [][]string{{"stat"}, {"trace", "-c"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := traceRun(t, bin, append(args, "--", "/bin/bash", "-c", script)...)
			if !r.ok() {
				t.Fatalf("\n%s", r)
			}
			if strings.Contains(string(r.stderr), "[pid ") {
				t.Errorf("-c prints only the table\n%s", r)
			}
			calls, errs := parseSummary(t, string(r.stderr))
			// bash forks 4 children (3 true, 1 cat) and each execs; the first exec
			// (bash itself) happens before the loader runs.
			if calls["execve"] != 4 || calls["wait4"] < 4 || errs["openat"] < 2 {
				t.Errorf("want 4 execve, >= 4 wait4, >= 2 failed openat; got %d, %d, %d\n%s",
					calls["execve"], calls["wait4"], errs["openat"], r)
			}
			if _, ok := calls["exit_group"]; ok {
				t.Errorf("exit_group is not counted (as strace -c)\n%s", r)
			}
			total := 0
			for name, n := range calls {
				if name != "total" {
					total += n
				}
			}
			if calls["total"] != total {
				t.Errorf("total %d, sum of rows %d\n%s", calls["total"], total, r)
			}
		})
	}
}

func TestTraceErrors(t *testing.T) {
	bin := needTrace(t)
	dir := t.TempDir()
	for _, c := range []struct {
		args  []string
		code  int
		wants []string
	}{
		{[]string{"trace", "--bogus", "--", "true"}, 2, []string{"unknown flag --bogus", "zpoline trace"}},
		{[]string{"stat", "--json", "--", "true"}, 2, []string{"unknown flag --json"}},
		{[]string{"trace"}, 2, []string{"no program given"}},
		{[]string{"stat", "--"}, 2, []string{"no program given"}},
		{[]string{"trace", "-e", "trace=nosuchcall", "--", "true"}, 2, []string{"bad -e trace=nosuchcall", "nosuchcall"}},
		{[]string{"trace", "-e", "signal=all", "--", "true"}, 2, []string{"only trace=SET"}},
		{[]string{"trace", "-c", "--json", "--", "true"}, 2, []string{"cannot be combined"}},
		{[]string{"trace", "-s", "0", "--", "true"}, 2, []string{"-s 0"}},
		{[]string{"trace", "--buffer-size", "1000", "--", "true"}, 2, []string{"power of two"}},
		{[]string{"trace", "-o", filepath.Join(dir, "no/such/dir/x"), "--", "true"}, 2, []string{"cannot write the -o file", "does not exist"}},
		{[]string{"trace", "--", "zp-no-such-program"}, 127, []string{"zp-no-such-program"}},
		{[]string{"stat", "--", filepath.Join(dir, "missing")}, 127, []string{"no such file"}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			errorLine(t, traceRun(t, bin, c.args...), c.code, c.wants...)
		})
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		errorLine(t, traceRun(t, bin, "trace", "-o", filepath.Join(ro, "x"), "--", "true"), 2, "-o")
	}
}

// A signal that kills the program kills zpoline with it: the shell sees the same status.
func TestTraceSignalStatus(t *testing.T) {
	bin := needTrace(t)
	r := traceRun(t, bin, "trace", "-o", "/dev/null", "--", "/bin/sh", "-c", "kill -SEGV $$")
	if r.exited || r.signal != syscall.SIGSEGV {
		t.Errorf("want death by SIGSEGV\n%s", r)
	}
}

// Calls made before the loader's constructor runs, in every program image: the dynamic
// loader mapping the libraries (and the loader's own start-up, which is never traced).
// `zpoline trace` cannot see them; strace does. Each may be missing up to
// preCtorPerExec times per execve.
var preCtorCalls = map[string]bool{
	"execve": true, "brk": true, "mmap": true, "access": true, "openat": true, "newfstatat": true,
	"close": true, "read": true, "pread64": true, "mprotect": true, "munmap": true, "arch_prctl": true,
	"set_tid_address": true, "set_robust_list": true, "rseq": true, "prlimit64": true, "getrandom": true,
}

const preCtorPerExec = 25

// Calls whose number varies from run to run, or under strace, with the tolerated
// difference (strace count minus zpoline count, inclusive bounds).
var tolerance = map[string][2]int{
	"futex":        {-1 << 20, 1 << 20}, // lock contention, slower under strace
	"rt_sigreturn": {0, 1 << 20},        // never shown to a hook (the loader runs it directly)
	"wait4":        {-2, 2},             // WNOHANG polling races with children
	"read":         {-4, 1 << 20},       // pipe reads split differently (and ld.so's reads)
	// The loader's Go runtime has handlers for SIGBUS, SIGFPE, SIGSEGV and SIGURG, so a
	// child that resets every non-default handler (python's subprocess) makes more calls.
	"rt_sigaction":   {-8, 8},
	"rt_sigprocmask": {-2, 2},
}

// TestTraceCompleteness compares `zpoline stat` with `strace -f -c` of the same program run
// natively: the same names, equal counts for the listed deterministic calls, the stated
// tolerance for the others, and nothing but pre-constructor calls missing.
func TestTraceCompleteness(t *testing.T) {
	bin := needTrace(t)
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (.ci/run installs it)")
	}
	dir := t.TempDir()
	bashScript := filepath.Join(dir, "tree.sh")
	pyScript := filepath.Join(dir, "tree.py")
	if err := os.WriteFile(bashScript, []byte(`echo hello | /bin/cat > /dev/null
( /bin/echo sub > /dev/null; exit 0 )
x=$(/bin/echo cmd)
exit 0
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pyScript, []byte(`import threading, subprocess
def work():
    with open("/etc/hostname") as f: f.read()
ts = [threading.Thread(target=work) for _ in range(3)]
for t in ts: t.start()
for t in ts: t.join()
subprocess.run(["/bin/echo", "child"], stdout=subprocess.DEVNULL, check=True)
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		argv  []string
		exact []string // deterministic calls: equal counts
	}{
		{"bash", []string{"/bin/bash", bashScript},
			[]string{"clone", "pipe2", "dup2", "fcntl", "getpid", "getppid", "lseek", "write", "uname", "sysinfo"}},
		{"python3", []string{"/usr/bin/python3", pyScript},
			[]string{"clone3", "vfork", "pipe2", "dup2", "close_range", "getdents64", "lseek", "write", "epoll_create1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			stOut := filepath.Join(dir, c.name+".strace")
			zpOut := filepath.Join(dir, c.name+".zpoline")
			st := run(t, runSpec{args: append([]string{strace, "-f", "-c", "-o", stOut}, c.argv...), env: baseEnv()})
			if !st.ok() {
				t.Fatalf("strace\n%s", st)
			}
			zp := traceRun(t, bin, append([]string{"stat", "-o", zpOut, "--"}, c.argv...)...)
			if !zp.ok() {
				t.Fatalf("zpoline stat\n%s", zp)
			}
			stText, _ := os.ReadFile(stOut)
			zpText, _ := os.ReadFile(zpOut)
			want, _ := parseSummary(t, string(stText))
			got, _ := parseSummary(t, string(zpText))
			report := "--- strace -f -c ---\n" + string(stText) + "--- zpoline stat ---\n" + string(zpText)
			execs := want["execve"]
			if got["execve"] != execs-1 {
				t.Errorf("execve: strace %d, zpoline %d; want one less (the first exec runs before the loader)\n%s",
					execs, got["execve"], report)
			}
			for _, name := range c.exact {
				if want[name] == 0 || got[name] != want[name] {
					t.Errorf("%s: strace %d, zpoline %d; want equal, nonzero counts", name, want[name], got[name])
				}
			}
			for name, n := range got {
				if name != "total" && want[name] == 0 {
					t.Errorf("zpoline reports %s (%d) which strace never saw", name, n)
				}
			}
			for name, n := range want {
				d := n - got[name]
				switch tol, ok := tolerance[name]; {
				case name == "total" || name == "execve":
				case ok:
					if d < tol[0] || d > tol[1] {
						t.Errorf("%s: strace %d, zpoline %d; tolerated difference %d..%d", name, n, got[name], tol[0], tol[1])
					}
				case preCtorCalls[name]:
					if d < 0 || d > preCtorPerExec*execs {
						t.Errorf("%s: strace %d, zpoline %d; want at most %d fewer (calls before the loader's constructor)",
							name, n, got[name], preCtorPerExec*execs)
					}
				case d != 0:
					t.Errorf("%s: strace %d, zpoline %d; want equal counts", name, n, got[name])
				}
			}
			if t.Failed() {
				t.Log(report)
			}
		})
	}
}

// The loader's own Go runtime threads call libc (malloc's arena set-up, gettid); the
// loader marks those calls (ZPOLINE_REGS_RUNTIME) and the recorder leaves them out. bash
// and true are single-threaded: a line with a tid would be a runtime thread's.
func TestTraceNoLoaderThreads(t *testing.T) {
	bin := needTrace(t)
	for i := 0; i < 3; i++ {
		r := traceRun(t, bin, "trace", "--", "/bin/bash", "-c", "/bin/true; /bin/true; (exit 0)")
		if !r.ok() {
			t.Fatalf("\n%s", r)
		}
		for _, l := range outputLines(r.stderr) {
			if strings.Contains(l, " tid ") {
				t.Fatalf("a call of a thread that the program never created: %q\n%s", l, r)
			}
		}
	}
}

// The recorder reads pages it proved readable with plain loads (zp_trace.c, "direct
// reads"): the bytes are current, and a page unmapped, made PROT_NONE or mapped over
// gives EFAULT lines (the pointer printed), never a fault, also while another thread
// unmaps and maps the page again in a loop. tests/probes/tracemem.c.
func TestTraceDirectReads(t *testing.T) {
	bin := needTrace(t)
	a := findArtifacts(t)
	probe := a.probe("tracemem")
	requireFiles(t, probe)
	out := filepath.Join(t.TempDir(), "trace.txt")
	for round := 0; round < 3; round++ {
		r := traceRun(t, bin, "trace", "-o", out, "--", probe)
		if !r.ok() || !strings.Contains(string(r.stdout), "tracemem: ok") {
			t.Fatalf("round %d: the probe must exit 0 under zpoline trace\n%s", round, r)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	ptr := `0x[0-9a-f]+`
	var seq []string
	re := regexp.MustCompile(`(?m)^\[pid \d+\] write\(\d+, ("[A-D]{4}\\n"|` + ptr + `), 5\) = (5|-1 EFAULT \(Bad address\))$`)
	for _, m := range re.FindAllSubmatch(b, -1) {
		arg := string(m[1])
		if strings.HasPrefix(arg, "0x") {
			arg = "PTR"
		}
		seq = append(seq, arg+" "+string(m[2]))
	}
	want := []string{`"AAAA\n" 5`, `"BBBB\n" 5`, `PTR -1 EFAULT (Bad address)`, `"CCCC\n" 5`,
		`PTR -1 EFAULT (Bad address)`, `"DDDD\n" 5`, `PTR -1 EFAULT (Bad address)`}
	if strings.Join(seq, "|") != strings.Join(want, "|") {
		t.Errorf("the probe's pipe writes are traced as\n%s\nwant\n%s", strings.Join(seq, "\n"), strings.Join(want, "\n"))
	}
	races := regexp.MustCompile(`(?m)^\[pid \d+ tid \d+\] write\(\d+, ("RRRRRRRR"|`+ptr+`), 8\) = (8|-1 EFAULT)`).FindAll(b, -1)
	if len(races) < 100 {
		t.Errorf("want the racing thread's writes in the trace, found %d", len(races))
	}
}
