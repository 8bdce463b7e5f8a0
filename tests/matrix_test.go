package tests

// The probe matrix: every probe of tests/probes (one per DESIGN.md §3 hazard) natively and
// under the loader with each test hook.
//
//	go test ./tests -run Native   the probes natively: they must pass, proving the probes
//	go test ./tests -run Hooked   the probes under build/libzpoline.so (PROBE_HOOKED=1):
//	                              with testhook_rs.so (ZPOLINE_HOOK) and testhook_orig.so
//	                              (LIBZPHOOK); stdout must equal the native run's

import (
	"bytes"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// A probeCase is one run of one probe.
type probeCase struct {
	name   string   // subtest name
	probe  string   // binary in build/tests/probes
	args   []string // its arguments
	hazard string   // the DESIGN.md §3 row it proves
	// crash: the run must die by a signal (natively SIGSEGV; hooked SIGSEGV, SIGILL or
	// SIGABRT with a line naming zpoline on stderr) and never print "survived".
	crash bool
}

var probeCases = []probeCase{
	{name: "threads", probe: "threads", hazard: "threads; coverage of inline, libc and thread calls"},
	{name: "clone", probe: "clone", hazard: "fork child; vfork/CLONE_VM stack 0; threads; clone3; per-thread state"},
	{name: "exec", probe: "exec", hazard: "coverage across exec; hook library paths"},
	{name: "signals", probe: "signals", hazard: "rt_sigreturn; signal re-entry; hook stack"},
	{name: "sigstate", probe: "sigstate", hazard: "inherited signal state"},
	{name: "vector", probe: "vector", hazard: "vector state; registers"},
	{name: "redzone", probe: "redzone", hazard: "red zone (incl. __longjmp_chk on a sigaltstack)"},
	{name: "badnr", probe: "badnr", hazard: "bad numbers"},
	{name: "nullcall", probe: "nullcall", args: []string{"nullcall"}, hazard: "NULL calls", crash: true},
	{name: "nullcall-rax", probe: "nullcall", args: []string{"nullcall-rax"}, hazard: "NULL calls (looks like a site)", crash: true},
	{name: "nullcall-rdx", probe: "nullcall", args: []string{"nullcall-rdx"}, hazard: "NULL calls (rax = getpid)", crash: true},
}

func (c probeCase) spec(a *artifacts, env []string) runSpec {
	return runSpec{args: append([]string{a.probe(c.probe)}, c.args...), env: env}
}

// checkNative asserts what a native run of c must do.
func checkNative(t *testing.T, c probeCase, r *runResult) {
	t.Helper()
	if c.crash {
		if r.timedOut || r.exited || r.signal != syscall.SIGSEGV ||
			bytes.Contains(r.stdout, []byte("survived")) {
			t.Fatalf("native %s (%s): want death by SIGSEGV without \"survived\"\n%s", c.name,
				c.hazard, r)
		}
		return
	}
	if !r.ok() || len(r.stdout) == 0 {
		t.Fatalf("native %s (%s) failed: the probe itself is wrong\n%s", c.name, c.hazard, r)
	}
}

func TestNativeProbes(t *testing.T) {
	a := needProbes(t)
	for _, c := range probeCases {
		t.Run(c.name, func(t *testing.T) {
			checkNative(t, c, run(t, c.spec(a, nativeEnv())))
		})
	}
}

func TestHookedProbes(t *testing.T) {
	a := needLoader(t)
	for _, v := range hookVariants {
		t.Run(v.name, func(t *testing.T) {
			for _, c := range probeCases {
				t.Run(c.name, func(t *testing.T) {
					native := run(t, c.spec(a, nativeEnv()))
					checkNative(t, c, native)
					hooked := run(t, c.spec(a, hookedEnv(a, v, "PROBE_HOOKED=1")))
					checkHooked(t, c, native, hooked)
				})
			}
		})
	}
}

// checkHooked asserts what a run of c under the loader must do.
func checkHooked(t *testing.T, c probeCase, native, r *runResult) {
	t.Helper()
	if c.crash {
		fatalSignals := []syscall.Signal{syscall.SIGSEGV, syscall.SIGILL, syscall.SIGABRT}
		switch {
		case r.timedOut || r.startErr != nil:
			t.Fatalf("hooked %s (%s): %s\n%s", c.name, c.hazard, r.status(), r)
		case bytes.Contains(r.stdout, []byte("survived")) || bytes.Contains(r.stderr, []byte("survived")):
			t.Fatalf("hooked %s (%s): the call through NULL returned (\"survived\"); the loader "+
				"must check that the return address is a rewritten site and fail loudly\n%s",
				c.name, c.hazard, r)
		case r.exited || !slices.Contains(fatalSignals, r.signal):
			t.Fatalf("hooked %s (%s): want death by SIGSEGV, SIGILL or SIGABRT, got %s\n%s",
				c.name, c.hazard, r.status(), r)
		case !hasLineContaining(r.stderr, "zpoline"):
			t.Fatalf("hooked %s (%s): died by %v but printed no line naming zpoline on stderr "+
				"(a NULL call must fail loudly)\n%s", c.name, c.hazard, r.signal, r)
		}
		return
	}
	if !r.ok() {
		t.Fatalf("hooked %s (%s) failed\n%s", c.name, c.hazard, r)
	}
	if !bytes.Equal(native.stdout, r.stdout) {
		t.Fatalf("hooked %s (%s): stdout differs from the native run: %s\n--- native run ---\n%s"+
			"--- hooked run ---\n%s", c.name, c.hazard, lineDiff(native.stdout, r.stdout), native, r)
	}
}

func hasLineContaining(b []byte, sub string) bool {
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}
