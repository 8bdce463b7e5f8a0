package tests

// The Syscall User Dispatch safety net (issue 6, part 2): tests/probes/sud.c natively and
// under the loader. Each case names the safety-net mode it runs in (ZPOLINE_SUD).
//
// The probe's system call 499 is unknown to the kernel; the test hooks count it, so a
// hooked run proves every call reached the hook exactly once; with the net off or not
// armed the same calls must reach the kernel (-ENOSYS), which proves the net served them.

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// sudProbe is prctl(PR_SET_SYSCALL_USER_DISPATCH, OFF): EINVAL when the kernel lacks it.
func sudProbe() error {
	const prSetSyscallUserDispatch, prSysDispatchOff = 59, 0
	return unix.Prctl(prSetSyscallUserDispatch, prSysDispatchOff, 0, 0, 0)
}

// sudAvailable: the kernel has Syscall User Dispatch.
func sudAvailable() bool { return sudProbe() == nil }

// needSUD skips when the kernel lacks Syscall User Dispatch (EINVAL from the prctl).
func needSUD(t *testing.T) {
	t.Helper()
	if err := sudProbe(); err != nil {
		if errors.Is(err, unix.EINVAL) {
			t.Skip("the kernel has no Syscall User Dispatch (Linux 5.11 or later with generic entry)")
		}
		t.Fatalf("prctl(PR_SET_SYSCALL_USER_DISPATCH, OFF): %v", err)
	}
}

func TestSUD(t *testing.T) {
	a := needLoader(t)
	needSUD(t)
	requireFiles(t, a.probe("sud"))
	cases := []struct {
		name, mode, arg string
		armed           bool     // the net serves the hidden calls (PROBE_SUD=1)
		stats           []string // what ZPOLINE_STATS must show
		env             []string // added to the hooked run's environment
	}{
		{"always/hidden", "always", "hidden", true,
			[]string{"sud: mode always, available, armed", "traps: 100 (sites rewritten: 0, not vouched for: 1)"}, nil},
		{"always/wx", "always", "wx", true,
			[]string{"sud: mode always, available, armed", "traps: 101 (sites rewritten: 1, not vouched for: 1)"}, nil},
		{"always/sigsys", "always", "sigsys", true,
			[]string{"traps: 20 ", "SIGSYS forwarded to the program: 3", "SIGSYS actions recorded: 2",
				"masks kept from blocking SIGSYS: 1"}, nil},
		{"always/onstack", "always", "onstack", true, []string{"sud: mode always, available, armed"}, nil},
		{"always/fork", "always", "fork", true, []string{"threads armed: 2"}, nil},
		{"auto/wx", "auto", "wx", true,
			[]string{"sud: mode auto, available, armed", "traps: 101 (sites rewritten: 1, not vouched for: 1)"}, nil},
		{"auto/hidden", "auto", "hidden", false,
			[]string{"sud: mode auto, available, not armed; threads armed: 0; traps: 0"}, nil},
		{"off/wx", "off", "wx", false, []string{"sud: mode off", "threads armed: 0; traps: 0"}, nil},
		{"auto/wxgone", "auto", "wxgone", true,
			[]string{"sud: mode auto, available, not armed; threads armed: 1; traps: 10 ", "threads disarmed: 1"}, nil},
		{"always/wxgone", "always", "wxgone", true,
			[]string{"sud: mode always, available, armed", "traps: 20 ", "threads disarmed: 0"},
			[]string{"PROBE_SUD_STAYS=1"}},
	}
	variants := []hookVariant{hookVariants[0], hookVariants[2]} // rs (C hook), go (Go hook in front)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := runSpec{args: []string{a.probe("sud"), c.arg}, env: nativeEnv()}
			native := run(t, spec)
			if !native.ok() {
				t.Fatalf("native %s failed: the probe itself is wrong\n%s", c.arg, native)
			}
			for _, v := range variants {
				t.Run(v.name, func(t *testing.T) {
					stats := filepath.Join(t.TempDir(), "stats")
					probeSUD := "PROBE_SUD=0"
					if c.armed {
						probeSUD = "PROBE_SUD=1"
					}
					spec.env = hookedEnv(a, v, append([]string{"PROBE_HOOKED=1", probeSUD, "ZPOLINE_SUD=" + c.mode,
						"ZPOLINE_STATS=" + stats}, c.env...)...)
					r := run(t, spec)
					if !r.ok() || !bytes.Equal(r.stdout, native.stdout) {
						t.Fatalf("hooked %s (ZPOLINE_SUD=%s): want the native output %q\n%s", c.arg, c.mode,
							native.stdout, r)
					}
					b, err := os.ReadFile(stats)
					if err != nil {
						t.Fatalf("statistics: %v", err)
					}
					st := string(b)
					for _, w := range c.stats {
						if !strings.Contains(st, w) {
							t.Errorf("%s: statistics lack %q:\n%s", c.name, w, st)
						}
					}
				})
			}
		})
	}
}

// TestSUDPrograms runs real programs with the net always armed (ZPOLINE_SUD=always):
// their output must be the native one.
func TestSUDPrograms(t *testing.T) {
	a := needLoader(t)
	needSUD(t)
	names := map[string]bool{"python3": true, "go-cgo": true, "bash-pipeline": true, "ls": true,
		"bash-sigpipe": true}
	for _, c := range programCases {
		if !names[c.name] {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			requireTools(t, c.needs)
			native := runProgram(t, a, c, nativeEnv())
			if !native.ok() {
				t.Fatalf("native %s failed (not the loader's fault)\n%s", c.name, native)
			}
			stats := filepath.Join(t.TempDir(), "stats")
			hooked := runProgram(t, a, c, hookedEnv(a, hookVariants[0], "ZPOLINE_SUD=always",
				"ZPOLINE_STATS="+stats))
			switch {
			case !hooked.exited || hooked.code != native.code || hooked.startErr != nil:
				t.Fatalf("%s with ZPOLINE_SUD=always (%s): %s, native exit status %d\n%s", c.name, c.hazard,
					hooked.status(), native.code, hooked)
			case !bytes.Equal(hooked.stdout, native.stdout):
				t.Fatalf("%s with ZPOLINE_SUD=always: stdout differs: %s\n%s", c.name,
					lineDiff(native.stdout, hooked.stdout), hooked)
			}
			b, err := os.ReadFile(stats)
			if err != nil {
				t.Fatalf("statistics: %v", err)
			}
			if !strings.Contains(string(b), "sud: mode always, available, armed; threads armed: ") {
				t.Errorf("%s: the net was not armed:\n%s", c.name, b)
			}
		})
	}
}

// A Go program's runtime preempts goroutines with SIGURG, and its handler returns
// through the runtime's own rt_sigreturn site, which is never rewritten: with the net
// always armed that return traps. The loader once rescanned such a site in Go while the
// thread was still leaving the signal handler, and the program crashed now and then
// (goroutines resumed on the wrong stack) when the machine was busy. Here the machine is
// kept busy on purpose while the cgo Go program runs many times with ZPOLINE_SUD=always.
func TestSUDGoPreemption(t *testing.T) {
	a := needLoader(t)
	needSUD(t)
	bin := buildGoCgo(t)
	stop := make(chan struct{})
	for i := 0; i < 2; i++ { // load: what made the program's threads preempted often
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	defer close(stop)
	env := hookedEnv(a, hookVariants[0], "ZPOLINE_SUD=always")
	results := make(chan *runResult, 3)
	const runs = 30
	for i := 0; i < runs; i += 3 {
		for j := 0; j < 3; j++ {
			go func() { results <- run(t, runSpec{args: []string{bin}, env: env, dir: t.TempDir()}) }()
		}
		for j := 0; j < 3; j++ {
			if r := <-results; !r.ok() {
				t.Fatalf("the cgo Go program with ZPOLINE_SUD=always under load: %s\n%s", r.status(), r)
			}
		}
	}
}
