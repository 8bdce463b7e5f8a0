package tests

// Real programs (DESIGN.md §5): each runs natively and under the loader and the outputs
// must be identical.
//
//	go test ./tests -run NativePrograms   every program natively, twice, in fresh
//	                                      directories: both runs must succeed and agree
//	                                      (proves the programs are deterministic)
//	go test ./tests -run HookedPrograms   every program under build/libzpoline.so with each
//	                                      test hook; stdout and exit code must equal the
//	                                      native run's (stderr may carry loader messages)
//
// The hooked runs select a test hook (ZPOLINE_HOOK / LIBZPHOOK) rather than the default
// hook library, which traces every call to stderr. The test hooks emulate getppid (4242),
// which none of these programs prints — except the "loader-active" case, which checks
// exactly that to prove the loader and the hook are in place.

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// A programCase is one real program.
type programCase struct {
	name   string
	hazard string
	needs  []string // executables that must be installed (CI's .ci/run installs them)
	// setup prepares dir (a fresh directory per run) and returns the command line and any
	// extra environment.
	setup func(t *testing.T, a *artifacts, dir string) (args []string, env []string)
	// hookedStdout, when set, is what the hooked run must print instead of the native output;
	// "4242" in it stands for the hook variant's getppid answer.
	hookedStdout string
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func bash(script string) func(*testing.T, *artifacts, string) ([]string, []string) {
	return func(*testing.T, *artifacts, string) ([]string, []string) {
		return []string{"bash", "-c", script}, nil
	}
}

var programCases = []programCase{
	{
		name:   "loader-active",
		hazard: "the loader and the selected hook are in place (bash's $PPID comes from getppid)",
		needs:  []string{"bash"},
		setup:  bash(`echo $PPID`), hookedStdout: "4242\n",
	},
	{
		name: "ls", hazard: "page straddle; coverage of a plain dynamic program",
		needs: []string{"ls"},
		setup: func(*testing.T, *artifacts, string) ([]string, []string) {
			return []string{"ls", "-la", "/usr"}, nil
		},
	},
	{
		name: "taskset", hazard: "page straddle (sched_setaffinity through a straddling site)",
		needs: []string{"taskset", "true"},
		setup: func(*testing.T, *artifacts, string) ([]string, []string) {
			return []string{"taskset", "-c", "0", "true"}, nil
		},
	},
	{
		name: "bash-pipeline", hazard: "fork/exec/pipes across a pipeline",
		needs: []string{"bash", "seq", "sort", "head", "tr"},
		setup: bash(`seq 1 2000 | sort -r | head -5 | tr 1 x`),
	},
	{
		name: "bash-sigpipe", hazard: "inherited signal state: `yes` must inherit SIG_IGN for SIGPIPE (exit 1, not 141)",
		needs: []string{"bash", "yes", "head"},
		setup: bash(`trap '' PIPE; yes | head -1; echo ${PIPESTATUS[0]}`),
	},
	{
		name: "python3", hazard: "threads; vfork (subprocess); fork",
		needs: []string{"/usr/bin/python3", "seq", "wc", "sh"},
		setup: func(t *testing.T, _ *artifacts, _ string) ([]string, []string) {
			return []string{"/usr/bin/python3", testdata(t, "threads_subprocess.py")}, nil
		},
	},
	{
		name: "gcc", hazard: "vfork/posix_spawn chains (driver, cc1, as, collect2, ld)",
		needs: []string{"bash", "gcc"},
		setup: func(t *testing.T, _ *artifacts, dir string) ([]string, []string) {
			src, err := os.ReadFile(testdata(t, "hello.c"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "hello.c"), src, 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{"bash", "-c", "gcc -O2 -o hello hello.c && ./hello"}, nil
		},
	},
	{
		name: "git", hazard: "many short exec'd processes, fork, mmap'd files",
		needs: []string{"bash", "git"},
		setup: func(_ *testing.T, _ *artifacts, dir string) ([]string, []string) {
			env := []string{
				"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
				"GIT_AUTHOR_NAME=zpoline", "GIT_AUTHOR_EMAIL=zpoline@example.invalid",
				"GIT_COMMITTER_NAME=zpoline", "GIT_COMMITTER_EMAIL=zpoline@example.invalid",
				"GIT_AUTHOR_DATE=2024-01-01T00:00:00+0000",
				"GIT_COMMITTER_DATE=2024-01-01T00:00:00+0000", "GIT_TERMINAL_PROMPT=0",
			}
			script := `set -e
git -c init.defaultBranch=main init -q repo
cd repo
printf 'one\n' > a.txt
git add a.txt
git commit -q -m first
printf 'two\n' >> a.txt
mkdir sub
printf 'x\n' > sub/b.txt
git add -A
git commit -q -m second
git log --format=%s
git log --format='%H %T'
git gc -q
git count-objects -v | grep -E '^(count|in-pack|packs):'
git status --porcelain`
			return []string{"bash", "-c", script}, env
		},
	},
	{
		name: "sqlite3", hazard: "file I/O, fcntl locks, mmap'd WAL index",
		needs: []string{"sqlite3"},
		setup: func(t *testing.T, _ *artifacts, _ string) ([]string, []string) {
			return []string{"sqlite3", "-batch", "test.db", ".read " + testdata(t, "sqlite.sql")}, nil
		},
	},
	{
		name: "go-cgo", hazard: "a second Go runtime in the process; goroutines; os/exec (CLONE_VM|CLONE_VFORK)",
		setup: func(t *testing.T, _ *artifacts, _ string) ([]string, []string) {
			return []string{buildGoCgo(t)}, nil
		},
	},
}

// requireTools fails (never skips) when a program the case runs is not installed.
func requireTools(t *testing.T, tools []string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: install it (CI's .ci/run installs every tool these "+
				"tests use): %v", tool, err)
		}
	}
}

// runProgram runs c once in a fresh directory with the given base environment.
func runProgram(t *testing.T, a *artifacts, c programCase, env []string) *runResult {
	t.Helper()
	dir := t.TempDir()
	args, extra := c.setup(t, a, dir)
	return run(t, runSpec{args: args, env: append(env, extra...), dir: dir})
}

func TestNativePrograms(t *testing.T) {
	a := findArtifacts(t)
	for _, c := range programCases {
		t.Run(c.name, func(t *testing.T) {
			requireTools(t, c.needs)
			first := runProgram(t, a, c, nativeEnv())
			if !first.ok() {
				t.Fatalf("native %s failed\n%s", c.name, first)
			}
			second := runProgram(t, a, c, nativeEnv())
			if !second.ok() || string(first.stdout) != string(second.stdout) {
				t.Fatalf("native %s is not deterministic: %s\n--- first ---\n%s--- second ---\n%s",
					c.name, lineDiff(first.stdout, second.stdout), first, second)
			}
			if c.hookedStdout != "" && string(first.stdout) == c.hookedStdout {
				t.Fatalf("native %s printed %q, the value only a hooked run may print", c.name,
					first.stdout)
			}
		})
	}
}

func TestHookedPrograms(t *testing.T) {
	a := needLoader(t)
	for _, v := range hookVariants {
		t.Run(v.name, func(t *testing.T) {
			for _, c := range programCases {
				t.Run(c.name, func(t *testing.T) {
					requireTools(t, c.needs)
					native := runProgram(t, a, c, nativeEnv())
					if !native.ok() {
						t.Fatalf("native %s failed (not the loader's fault)\n%s", c.name, native)
					}
					hooked := runProgram(t, a, c, hookedEnv(a, v))
					want := native.stdout
					if c.hookedStdout != "" {
						want = []byte(strings.ReplaceAll(c.hookedStdout, "4242", v.ppid()))
					}
					switch {
					case !hooked.exited || hooked.code != native.code || hooked.startErr != nil:
						t.Fatalf("hooked %s (%s): %s, native exit status %d\n%s", c.name, c.hazard,
							hooked.status(), native.code, hooked)
					case string(hooked.stdout) != string(want):
						t.Fatalf("hooked %s (%s): stdout differs: %s\n--- native run ---\n%s"+
							"--- hooked run ---\n%s", c.name, c.hazard, lineDiff(want, hooked.stdout),
							native, hooked)
					}
				})
			}
		})
	}
}

// buildGoCgo builds tests/testdata/gocgo once per test binary (CGO_ENABLED=1) and checks that
// the result is dynamically linked, since LD_PRELOAD only reaches dynamic programs.
func buildGoCgo(t *testing.T) string {
	t.Helper()
	goCgo.once.Do(func() { goCgo.path, goCgo.err = buildGoCgoOnce() })
	if goCgo.err != nil {
		t.Fatal(goCgo.err)
	}
	return goCgo.path
}

var goCgo struct {
	once sync.Once
	path string
	err  error
}

func buildGoCgoOnce() (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(testTmp, "gocgo")
	cmd := exec.Command(goTool, "build", "-o", out, "./testdata/gocgo")
	cmd.Env = append(baseEnv(), "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build testdata/gocgo with CGO_ENABLED=1: %v\n%s", err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		return "", fmt.Errorf("open built gocgo: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return out, nil
		}
	}
	return "", fmt.Errorf("%s is statically linked (no PT_INTERP): LD_PRELOAD cannot reach it; "+
		"is cgo enabled (gcc in PATH)?", out)
}

// testTmp is a directory for artifacts the tests build themselves, removed after the run.
var testTmp string

func TestMain(m *testing.M) {
	var err error
	testTmp, err = os.MkdirTemp("", "zpoline-tests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(testTmp)
	os.Exit(code)
}
